"""``python -m seqmnist_zoo`` runs the CLI."""

from .cli import main

main()
