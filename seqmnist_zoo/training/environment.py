"""The machine and library versions a run record keeps (light to import: no keras until asked)."""

from __future__ import annotations

import platform
from pathlib import Path

from .threads import intra_op_threads


def cpu_name() -> str:
    """The CPU's model name: speed figures differ from one CPU to the next, so each names its own.

    Examples:
        >>> isinstance(cpu_name(), str) and cpu_name() != ""
        True
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def environment() -> dict[str, str]:
    """The machine and versions that produced a result: the CPU, keras, its backend, tensorflow (and
    its threads per op, 0 for TensorFlow's own choice), numpy, python.

    Examples:
        >>> sorted(environment())[:2]
        ['backend', 'cpu']
    """
    import keras
    import numpy as np

    env = {"keras": keras.__version__, "backend": keras.backend.backend(), "cpu": cpu_name(),
           "numpy": np.__version__, "python": platform.python_version()}
    try:
        import tensorflow as tf

        env["tensorflow"] = tf.__version__
        env["tf_intra_op_threads"] = str(intra_op_threads())
    except ImportError:
        pass
    return env
