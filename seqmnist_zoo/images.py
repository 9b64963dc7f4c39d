"""Reading user images (PNG, JPEG, .npy of any size) into MNIST's 28x28 light-on-dark form."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InvalidArgumentError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".npy")


def read_digits(path, invert: bool | None = None) -> np.ndarray:
    """Read one image file (or a ``.npy`` stack) as float32 digits of shape ``(n, 28, 28)``.

    Colour is dropped, any size is resized to 28x28, values land in [0, 255]. With
    ``invert=None`` a light background (MNIST is light-on-dark) is detected and inverted;
    True or False forces the choice. Unreadable or non-image files raise `InvalidArgumentError`.

    Examples:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "d.npy"
        >>> np.save(f, np.zeros((2, 56, 56)))
        >>> read_digits(f).shape
        (2, 28, 28)
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        stack = _read_npy(path)
    else:
        stack = _read_picture(path)[None]
    return np.stack([to_mnist(image, invert) for image in stack])


def _read_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as err:
        raise InvalidArgumentError(f"{path}: not a readable .npy array ({err})") from None
    if array.ndim not in (2, 3) or not np.issubdtype(array.dtype, np.number):
        raise InvalidArgumentError(
            f"{path}: array of shape {array.shape} and dtype {array.dtype}; expected numbers "
            "shaped (height, width) or (n, height, width)"
        )
    if array.size == 0 or 0 in array.shape[-2:]:
        raise InvalidArgumentError(f"{path}: the array is empty ({array.shape})")
    array = array.astype("float32")
    if not np.isfinite(array).all():
        raise InvalidArgumentError(f"{path}: the array holds NaN or infinite values")
    if array.max() <= 1.0:  # floats in [0, 1] are taken as intensities
        array = array * 255.0
    return array if array.ndim == 3 else array[None]


def _read_picture(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"), dtype="float32")
    except (UnidentifiedImageError, OSError) as err:
        raise InvalidArgumentError(
            f"{path}: not a readable image ({type(err).__name__}); accepted: "
            f"{', '.join(SUFFIXES)}"
        ) from None


def to_mnist(image: np.ndarray, invert: bool | None = None) -> np.ndarray:
    """Resize one grayscale image to 28x28 in [0, 255], light-on-dark like MNIST.

    Examples:
        >>> white_page = np.full((10, 10), 255.0); white_page[4:6, 4:6] = 0
        >>> digit = to_mnist(white_page)
        >>> float(digit[0, 0]), float(digit[14, 14]) > 100
        (0.0, True)
    """
    from PIL import Image

    image = np.clip(np.asarray(image, dtype="float32"), 0, 255)
    if image.shape != (28, 28):
        image = np.asarray(Image.fromarray(image, mode="F").resize((28, 28), Image.BILINEAR))
    if invert is None:
        border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        invert = bool(border.mean() > 127)
    return (255.0 - image if invert else image).astype("float32")
