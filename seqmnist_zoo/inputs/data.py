"""MNIST, offline first: an explicit path, then $SEQMNIST_ZOO_DATA, the Keras cache, a download."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ..errors import DatasetError

ENV_VAR = "SEQMNIST_ZOO_DATA"
# Where keras.datasets.mnist downloads from, and the sha256 Keras checks for that file.
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
ORIGIN_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_HOW_TO_FIX = (
    f"point {ENV_VAR} (or load_mnist(path=...)) at a Keras-layout mnist.npz or a folder holding "
    "mnist.npz or the four MNIST IDX files"
)

Split = tuple[np.ndarray, np.ndarray]


def load_mnist(path: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """Return ``(x_train, y_train), (x_test, y_test)`` as uint8 arrays, validated.

    Looks, in order, at `path`, at ``$SEQMNIST_ZOO_DATA``, at the Keras cache
    (``$KERAS_HOME/datasets/mnist.npz``, default ``~/.keras``), and only then downloads into that
    cache. `path` and the variable may name a ``.npz`` file in Keras' layout or a folder holding
    ``mnist.npz`` or the four IDX files (gzipped or not). A missing or malformed file raises
    `DatasetError` naming the path.

    Examples:
        >>> (x_train, y_train), (x_test, y_test) = load_mnist()
        >>> x_train.shape, x_test.dtype, int(y_test.max())
        ((60000, 28, 28), dtype('uint8'), 9)
    """
    source = path if path is not None else os.environ.get(ENV_VAR) or None
    if source is not None:
        arrays = _read_source(Path(source).expanduser())
    else:
        cached = keras_cache_dir() / "mnist.npz"
        arrays = _read_npz(cached) if cached.is_file() else _download()
    _validate(arrays, source or "the Keras cache")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def keras_cache_dir() -> Path:
    """The folder Keras caches datasets in: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``.

    Examples:
        >>> keras_cache_dir().name
        'datasets'
    """
    home = os.environ.get("KERAS_HOME") or Path("~/.keras").expanduser()
    return Path(home) / "datasets"


def _read_source(path: Path) -> dict[str, np.ndarray]:
    if path.is_file():
        return _read_npz(path)
    if path.is_dir():
        if (path / "mnist.npz").is_file():
            return _read_npz(path / "mnist.npz")
        return _read_idx_folder(path)
    raise DatasetError(f"no MNIST data at {path}: it does not exist; {_HOW_TO_FIX}")


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in IDX_FILES if k not in npz.files]
            if missing:
                raise DatasetError(
                    f"{path} is not a Keras-layout mnist.npz: it lacks {', '.join(missing)} "
                    f"(has {', '.join(npz.files) or 'nothing'}); {_HOW_TO_FIX}"
                )
            return {k: npz[k] for k in IDX_FILES}
    except DatasetError:
        raise
    except Exception as err:
        reason = "not a NumPy .npz archive" if "pickle" in str(err) else str(err)  # numpy's words mislead
        raise DatasetError(f"could not read {path} as an .npz file ({reason}); {_HOW_TO_FIX}") from err


def _read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise DatasetError(
                f"{folder} holds neither mnist.npz nor {stem}[.gz] (and its three siblings); "
                f"{_HOW_TO_FIX}"
            )
        arrays[key] = read_idx(found)
    return arrays


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (MNIST's original format), gzipped or not, as a uint8 array.

    Examples:
        >>> read_idx("t10k-labels-idx1-ubyte.gz").shape  # doctest: +SKIP
        (10000,)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as err:
        raise DatasetError(f"could not read IDX file {path}: {err}") from err
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    if len(data) - header != expected:
        raise DatasetError(
            f"{path} is truncated or padded: header says {shape} ({expected} bytes), "
            f"found {len(data) - header} bytes"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _download() -> dict[str, np.ndarray]:
    from ..quiet import start_keras_quietly

    start_keras_quietly()
    from keras.utils import get_file

    cache = keras_cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fetched = get_file(
            fname="mnist.npz", origin=ORIGIN, file_hash=ORIGIN_SHA256,
            cache_dir=str(cache.parent), cache_subdir=cache.name,
        )
    except Exception as err:
        raise DatasetError(
            f"MNIST is not in {cache} and downloading it from {ORIGIN} failed ({err}); {_HOW_TO_FIX}"
        ) from err
    return _read_npz(Path(fetched))


def _validate(arrays: dict[str, np.ndarray], source) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        problems = []
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            problems.append(f"x_{split} has shape {x.shape}, expected (n, 28, 28)")
        if y.ndim != 1 or len(y) != len(x):
            problems.append(f"y_{split} has shape {y.shape}, expected ({len(x)},)")
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            problems.append(f"{split} arrays are {x.dtype}/{y.dtype}, expected uint8")
        elif len(y) and y.max() > 9:
            problems.append(f"y_{split} holds label {int(y.max())}, expected 0..9")
        if problems:
            raise DatasetError(f"MNIST from {source} is malformed: {'; '.join(problems)}")
