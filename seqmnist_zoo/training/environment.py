"""The machine and library versions a run record keeps."""

from __future__ import annotations

import platform

import keras
import numpy as np

from .threads import intra_op_threads


def environment() -> dict[str, str]:
    """Versions that produced a result: keras, its backend, tensorflow (and its threads per op,
    0 for TensorFlow's own choice), numpy, python.

    Examples:
        >>> sorted(environment())[:2]
        ['backend', 'keras']
    """
    env = {"keras": keras.__version__, "backend": keras.backend.backend(),
           "numpy": np.__version__, "python": platform.python_version()}
    try:
        import tensorflow as tf

        env["tensorflow"] = tf.__version__
        env["tf_intra_op_threads"] = str(intra_op_threads())
    except ImportError:
        pass
    return env
