"""The CPU thread layout the zoo trains with: one thread per op, independent ops side by side.

TensorFlow's default lets every op spread over all cores. The fused loops (`fused_rnn`) cut each
layer's batch into chains whose steps are far too small to split, and with the default layout
`lstm` trained slower in every round measured. With one thread per op the chains run side by
side, a core each (``python benchmarks/training_options.py --family
lstm,gru --options plain default_threads`` compares the two layouts, process by process).

The processes the zoo owns (`seqmnist-zoo train` and `tune`, the study runner, the benchmarks'
zoo cases) take this layout before TensorFlow starts; ``SEQMNIST_ZOO_THREADS=default`` keeps
TensorFlow's own (``zoo``, the same as unset, asks for the zoo's). In your own process nothing
changes unless you call `use_training_threads` first.
"""

from __future__ import annotations

import os
import sys

from ..errors import InvalidArgumentError, SeqMnistZooError

INTRA_OP_THREADS = 1
LAYOUTS = {"zoo": "one thread per op, also when unset", "default": "TensorFlow's own layout"}


def use_training_threads() -> bool:
    """Give TensorFlow one thread per op on a CPU, the layout the zoo trains fastest with.

    Call it before TensorFlow runs its first op (before building or loading a model). Returns
    whether the layout is in place: False on another backend, on a GPU machine (cuDNN's kernels
    do not use it) and when ``SEQMNIST_ZOO_THREADS=default``.

    Raises:
        SeqMnistZooError: TensorFlow has already started, with its thread layout fixed.
        InvalidArgumentError: ``SEQMNIST_ZOO_THREADS`` names no layout.

    Examples:
        >>> import os, subprocess, sys
        >>> code = ("from seqmnist_zoo import use_training_threads; print(use_training_threads()); "
        ...         "import tensorflow as tf; print(tf.config.threading.get_intra_op_parallelism_threads())")
        >>> print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
        ...                      env={**os.environ, "SEQMNIST_ZOO_THREADS": ""}).stdout.strip())
        True
        1
    """
    if chosen_layout() == "default":
        return False
    from ..quiet import start_keras_quietly

    start_keras_quietly()
    import keras

    from .cpu_path import has_gpu

    if keras.backend.backend() != "tensorflow" or has_gpu():
        return False
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() == INTRA_OP_THREADS:
        return True
    try:
        tf.config.threading.set_intra_op_parallelism_threads(INTRA_OP_THREADS)
    except RuntimeError:
        raise SeqMnistZooError(
            "TensorFlow has already started, so its thread layout is fixed: call "
            "use_training_threads() before the first model is built, loaded or run") from None
    return True


def chosen_layout() -> str:
    """The layout ``SEQMNIST_ZOO_THREADS`` asks for: ``zoo`` (also when unset) or ``default``.

    Examples:
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"SEQMNIST_ZOO_THREADS": "banana"}):
        ...     chosen_layout()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: SEQMNIST_ZOO_THREADS='banana' is not a thread layout; ...
    """
    value = os.environ.get("SEQMNIST_ZOO_THREADS", "").strip().lower() or "zoo"
    if value not in LAYOUTS:
        raise InvalidArgumentError(
            f"SEQMNIST_ZOO_THREADS={os.environ['SEQMNIST_ZOO_THREADS']!r} is not a thread layout; "
            f"use {' or '.join(f'{k} ({v})' for k, v in LAYOUTS.items())}")
    return value


def owned_process_threads() -> bool:
    """`use_training_threads` for a process the zoo owns: a TensorFlow that already runs (the CLI
    called in-process, from tests or a notebook) keeps its layout instead of failing.

    Examples:
        >>> import tensorflow as tf
        >>> _ = tf.constant(1.0) + 1.0  # TensorFlow runs, with its own layout
        >>> owned_process_threads()
        False
    """
    try:
        return use_training_threads()
    except InvalidArgumentError:
        raise
    except SeqMnistZooError:
        return False


def intra_op_threads() -> int | None:
    """TensorFlow's threads per op in this process (0: TensorFlow's own choice); None without it.

    Examples:
        >>> import tensorflow as tf
        >>> intra_op_threads() in (0, 1)
        True
    """
    if "tensorflow" not in sys.modules:
        return None
    return sys.modules["tensorflow"].config.threading.get_intra_op_parallelism_threads()
