"""The bottom layer: what each family is, how it is built, and its pretrained weights.

`specs` (recipes, weights records, `ModelSpec`), `registry` (the table of families and plugins),
`catalog` (the built-in families), `builders` (the Keras models), `pretrained` (hash-verified
weight files), `compile` (a family's recipe applied to a model). Nothing in this folder imports
training, inference or the apps. The factories load lazily, so importing the registry imports no
Keras.

Examples:
    >>> from seqmnist_zoo.models import registry
    >>> "gru" in registry.list_models()
    True
"""

from __future__ import annotations

import importlib

_FACTORIES = ("lstm", "gru", "bilstm", "stacked_lstm", "simple_rnn", "build_model", "either_scale")


def __getattr__(name: str):
    if name not in _FACTORIES:
        raise AttributeError(f"module 'seqmnist_zoo.models' has no attribute {name!r}")
    return getattr(importlib.import_module(".builders", __name__), name)
