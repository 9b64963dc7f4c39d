"""Keeping the frameworks' own log lines off a user's terminal (the CLI shows them with -v).

TensorFlow's C++ side writes its start-up lines (oneDNN notices, CUDA probes) straight to file
descriptor 2 before its logging is configured, so environment variables alone cannot hide them
(tensorflow/tensorflow#62075). While the block runs, descriptor 2 goes to /dev/null and Python's
`sys.stderr` writes to a copy of the real one, so the zoo's own messages still appear.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings

FRAMEWORKS = ("tensorflow", "keras", "keras_tuner", "absl", "jax", "h5py")


@contextlib.contextmanager
def framework_logs_silenced():
    """Silence framework logging and native stderr writes while the block runs.

    Examples:
        >>> with framework_logs_silenced():
        ...     print("the zoo still speaks")
        the zoo still speaks
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    levels = {name: logging.getLogger(name).level for name in FRAMEWORKS}
    for name in FRAMEWORKS:
        logging.getLogger(name).setLevel(logging.ERROR)
    original = sys.stderr
    with warnings.catch_warnings():
        for name in FRAMEWORKS:
            warnings.filterwarnings("ignore", module=rf"{name}(\.|$)")
        try:
            sys.stderr.flush()
            real = os.dup(2)
        except (OSError, ValueError):  # no descriptor 2 to redirect
            real = None
        if real is not None:
            if _writes_to_descriptor_2(original):
                sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(real), "wb", buffering=0),
                                              encoding=original.encoding or "utf-8",
                                              errors="backslashreplace", line_buffering=True)
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            if real is not None:
                with contextlib.suppress(Exception):
                    sys.stderr.flush()
                os.dup2(real, 2)
                os.close(real)
                if sys.stderr is not original:
                    sys.stderr.close()
                    sys.stderr = original
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


def start_keras_quietly() -> None:
    """Import Keras and start its backend once, with the backend's start-up lines kept off stderr.

    Every path into the zoo that needs Keras calls it first; ``SEQMNIST_ZOO_VERBOSE=1`` shows the
    lines. Only descriptor 2 is redirected while Keras loads: `sys.stderr` stays the object it
    was, so a log handler made meanwhile never holds a stream that is closed afterwards.

    Examples:
        >>> start_keras_quietly()
        >>> "keras" in sys.modules
        True
    """
    if "keras" in sys.modules or os.environ.get("SEQMNIST_ZOO_VERBOSE"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    levels = {name: logging.getLogger(name).level for name in FRAMEWORKS}
    for name in FRAMEWORKS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        sys.stderr.flush()
        real = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 to redirect
        real = None
    try:
        if real is not None:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
        with warnings.catch_warnings():
            for name in FRAMEWORKS:
                warnings.filterwarnings("ignore", module=rf"{name}(\.|$)")
            import keras  # noqa: F401

            if "tensorflow" in sys.modules:
                sys.modules["tensorflow"].config.list_physical_devices()  # the CUDA probe, now
    finally:
        if real is not None:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(real, 2)
            os.close(real)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _writes_to_descriptor_2(stream) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False
