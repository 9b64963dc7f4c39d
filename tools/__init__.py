"""Maintainer tools, run from a checkout and never installed: they read and write the repository.

``python -m tools.publish`` (measure a weights file and record it in the manifest),
``python -m tools.spread`` (retrain a recipe over seeds), ``python -m tools.cards FILE`` (fill the
generated tables of the README and docs from the records), `tools.realworld` (the picture sets
the benchmarks and tests make) and `tools.arguments` (argument types the benchmark scripts share).
"""
