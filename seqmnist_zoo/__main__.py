"""``python -m seqmnist_zoo`` runs the CLI."""

from .apps.cli import main

if __name__ == "__main__":
    main()
