"""The CPU thread layout the zoo trains with: one thread per op, independent ops side by side.

TensorFlow's default lets every op spread over all cores. The fused loops (`fused_rnn`) cut each
layer's batch into chains whose steps are far too small to split, and with the default layout a
fresh process sometimes ran them at half speed for its whole life. With one thread per op the
chains run side by side, a core each, and no process measured slow
(``python benchmarks/training_options.py --options default_threads``).

The processes the zoo owns (`seqmnist-zoo train` and `tune`, the study runner, the benchmarks'
zoo cases) take this layout before TensorFlow starts; ``SEQMNIST_ZOO_THREADS=default`` keeps
TensorFlow's own. In your own process nothing changes unless you call `use_training_threads`
first.
"""

from __future__ import annotations

import os
import sys

from ..errors import SeqMnistZooError

INTRA_OP_THREADS = 1
KEEP_DEFAULT = "default"


def use_training_threads() -> bool:
    """Give TensorFlow one thread per op on a CPU, the layout the zoo trains fastest with.

    Call it before TensorFlow runs its first op (before building or loading a model). Returns
    whether the layout is in place: False on another backend, on a GPU machine (cuDNN's kernels
    do not use it) and when ``SEQMNIST_ZOO_THREADS=default``.

    Raises:
        SeqMnistZooError: TensorFlow has already started, with its thread layout fixed.

    Examples:
        >>> import subprocess, sys
        >>> code = ("from seqmnist_zoo import use_training_threads; print(use_training_threads()); "
        ...         "import tensorflow as tf; print(tf.config.threading.get_intra_op_parallelism_threads())")
        >>> print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
        ...                      env={**os.environ, "SEQMNIST_ZOO_THREADS": ""}).stdout.strip())
        True
        1
    """
    if os.environ.get("SEQMNIST_ZOO_THREADS", "").strip().lower() == KEEP_DEFAULT:
        return False
    from ..quiet import start_keras_quietly

    start_keras_quietly()
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return False
    if tf.config.threading.get_intra_op_parallelism_threads() == INTRA_OP_THREADS:
        return True
    try:
        tf.config.threading.set_intra_op_parallelism_threads(INTRA_OP_THREADS)
    except RuntimeError:
        raise SeqMnistZooError(
            "TensorFlow has already started, so its thread layout is fixed: call "
            "use_training_threads() before the first model is built, loaded or run") from None
    return True


def owned_process_threads() -> bool:
    """`use_training_threads` for a process the zoo owns: a TensorFlow that already runs (the CLI
    called in-process, from tests or a notebook) keeps its layout instead of failing."""
    try:
        return use_training_threads()
    except SeqMnistZooError:
        return False


def intra_op_threads() -> int | None:
    """TensorFlow's threads per op in this process (0: TensorFlow's own choice); None without it."""
    if "tensorflow" not in sys.modules:
        return None
    return sys.modules["tensorflow"].config.threading.get_intra_op_parallelism_threads()
