"""The machine and library versions a run record keeps."""

from __future__ import annotations

import platform

import keras
import numpy as np


def environment() -> dict[str, str]:
    """Versions that produced a result: keras, its backend, tensorflow, numpy, python.

    Examples:
        >>> sorted(environment())[:2]
        ['backend', 'keras']
    """
    env = {"keras": keras.__version__, "backend": keras.backend.backend(),
           "numpy": np.__version__, "python": platform.python_version()}
    try:
        import tensorflow as tf

        env["tensorflow"] = tf.__version__
    except ImportError:
        pass
    return env
