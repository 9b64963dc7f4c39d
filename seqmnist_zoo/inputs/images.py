"""Reading what users hand the zoo (files, folders, PIL images, arrays) into grayscale pixels.

Everything comes out as float32 ``(height, width)`` arrays in [0, 255], with transparency
composited onto white paper and EXIF rotation applied. Turning them into MNIST's form is the job
of `seqmnist_zoo.inputs.preprocess`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError, warn_user

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".npy")
MAX_PIXELS = 50_000_000  # larger pictures are refused before decoding (decompression bombs)
MIN_LONGER_SIDE = 8  # a picture must be at least this long one way to hold a digit
UNIT_RANGE_WARNING = "pixel values in [0, 1] were read as intensities and scaled to [0, 255]"


def expand_paths(paths) -> list[Path]:
    """Files to read: each file as given, each folder's image files in sorted order.

    Raises `InvalidArgumentError` for a path that does not exist or a folder without images;
    warns, naming them, when a folder's other files (not hidden ones) are left unread.

    Examples:
        >>> folder = pathlib.Path(tempfile.mkdtemp()); _ = (folder / "a.png").write_bytes(b"")
        >>> [p.name for p in expand_paths([folder])]
        ['a.png']
    """
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            entries = sorted(path.iterdir())
            files = [p for p in entries if p.is_file()]
            inside = [p for p in files if p.suffix.lower() in SUFFIXES]
            if not inside:
                folders = sum(p.is_dir() for p in entries)
                inner = (f" (its {folders} subfolder{'s are' if folders > 1 else ' is'} not searched: "
                         "name each one you want read)") if folders else ""
                raise InvalidArgumentError(f"{path}: the folder holds no image files{inner}; "
                                           f"accepted: {', '.join(SUFFIXES)}")
            found += inside
            others = [p.name for p in files if p.suffix.lower() not in SUFFIXES
                      and not p.name.startswith(".")]
            if others:
                what = ("1 file not read, not a picture by its name" if len(others) == 1
                        else f"{len(others)} files not read, not pictures by their names")
                warn_user(f"{path}: {what} ({named_few(others)}); accepted: {', '.join(SUFFIXES)}")
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidArgumentError(f"{path}: no such file or folder")
    return found


def named_few(names, shown: int = 3) -> str:
    """The first `shown` of `names`, then how many more: for messages about many files.

    Examples:
        >>> named_few(["a.png", "b.png"]), named_few(list("abcde"))
        ('a.png, b.png', 'a, b, c and 2 more')
    """
    names = list(names)
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def read_file(path) -> list[np.ndarray]:
    """The grayscale images in one file: one for a picture, one per entry of a ``.npy`` stack.

    Examples:
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "d.npy"
        >>> np.save(f, np.zeros((2, 56, 56)))
        >>> [image.shape for image in read_file(f)]
        [(56, 56), (56, 56)]
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise InvalidArgumentError(f"{path}: the file is empty (0 bytes); {_unreadable_hint(path)}")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except Exception as err:
            raise InvalidArgumentError(f"{path}: not a readable .npy array ({_first_line(err)})") from None
        return list(as_grayscale_stack(array, str(path)))
    return [read_picture(path)]


def read_picture(path) -> np.ndarray:
    """One picture file (PNG, JPEG, GIF, ...) as grayscale; an animated file gives its first frame.

    Examples:
        >>> from PIL import Image
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "d.png"
        >>> Image.new("RGBA", (40, 30), (0, 0, 0, 0)).save(f)   # fully transparent: white paper
        >>> image = read_picture(f); image.shape, float(image.max())
        ((30, 40), 255.0)
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit decides
            with Image.open(path) as image:
                _check_size(image.size, str(path))
                frames = getattr(image, "n_frames", 1)
                if frames > 1:
                    warn_user(f"{path}: an animation of {frames} frames; reading the first")
                    image.seek(0)
                return pil_to_grayscale(image)
    except InvalidArgumentError:
        raise  # our own size check, already one line
    except Image.DecompressionBombError:
        raise InvalidArgumentError(f"{path}: the picture is larger than {MAX_PIXELS:,} pixels; "
                                   "scale it down first") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        reason, hint = _first_line(err, path), _unreadable_hint(path)
        raise InvalidArgumentError(f"{path}: not a readable image ({reason}); {hint}") from None


def _unreadable_hint(path: Path) -> str:
    """What to check about a file that holds no readable picture: for a name the reader accepts,
    the file itself (the list of accepted names would not help); for any other, that list."""
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        return f"is the {suffix} file damaged, cut short or another kind renamed?"
    return f"accepted: {', '.join(SUFFIXES)}"


def pil_to_grayscale(image) -> np.ndarray:
    """A PIL image as float32 grayscale in [0, 255]: EXIF rotation applied, alpha on white paper.

    Palette, 1-bit, 16-bit, CMYK and float images are all accepted.

    Examples:
        >>> from PIL import Image
        >>> float(pil_to_grayscale(Image.new("I;16", (9, 9), 65535)).max())
        255.0
    """
    from PIL import Image, ImageOps

    _check_size(image.size, "the image")
    image = ImageOps.exif_transpose(image)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if "A" in image.getbands() or image.mode in ("RGBa", "La"):
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    if image.mode.startswith("I"):  # 16- or 32-bit integers: scale the 16-bit range down
        return np.asarray(image, dtype="float32") * np.float32(255 / 65535)
    if image.mode == "F":
        return np.clip(np.asarray(image, dtype="float32"), 0, None)
    return np.asarray(image.convert("RGB").convert("L"), dtype="float32")


def as_grayscale_stack(array, what: str = "the array") -> np.ndarray:
    """A numeric array as float32 images ``(n, height, width)`` in [0, 255].

    Accepts ``(h, w)``, ``(n, h, w)``, and colour ``(h, w, 3|4)`` pictures (alpha on white).
    Pixels in [0, 1] (floats, 0/1 integers, booleans) are taken as intensities and scaled to
    [0, 255], with a warning.

    Examples:
        >>> as_grayscale_stack(np.zeros((28, 28), "uint8")).shape
        (1, 28, 28)
        >>> as_grayscale_stack(np.array(["a"]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: the array: holds <U1 values, not numbers; ...
    """
    array = np.asarray(array)
    accepted = "pixels shaped (height, width), (n, height, width) or (height, width, 3|4)"
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InvalidArgumentError(f"{what}: holds {array.dtype} values, not numbers; expected {accepted}")
    if array.ndim not in (2, 3) or array.size == 0:
        raise InvalidArgumentError(f"{what}: shape {array.shape}; expected {accepted}")
    array = array.astype("float32")
    if not np.isfinite(array).all():
        raise InvalidArgumentError(f"{what}: holds NaN or infinite values; expected finite pixels")
    if 0 < array.max() <= 1.0:  # a mask or a [0, 1] float picture, never 0-255 ink this faint
        warn_user(UNIT_RANGE_WARNING)
        array = array * 255.0
    if array.ndim == 3 and array.shape[-1] in (3, 4):  # one colour picture (a stack is wider)
        if array.shape[-1] == 4:
            alpha = np.clip(array[..., 3:] / 255.0, 0, 1)
            array = array[..., :3] * alpha + 255.0 * (1 - alpha)
        array = array @ np.array([0.299, 0.587, 0.114], "float32")
    _check_size(array.shape[:-3:-1], what)
    return array if array.ndim == 3 else array[None]


def _check_size(size, what: str) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise InvalidArgumentError(f"{what}: {width}x{height} is larger than {MAX_PIXELS:,} pixels; "
                                   "scale it down first")
    if max(width, height) < MIN_LONGER_SIDE:  # a tight crop of a "1" may be one pixel wide
        raise InvalidArgumentError(f"{what}: {width}x{height} pixels is too small to hold a digit; "
                                   f"at least {MIN_LONGER_SIDE} pixels one way is needed")


def _first_line(err: Exception, path=None) -> str:
    """The error's first line, without the file's name when the message repeats it."""
    text = str(err).strip().splitlines()
    line = text[0][:160] if text else type(err).__name__
    if path is not None:
        line = line.replace(repr(str(path)), "").replace(str(path), "").strip(" :") or type(err).__name__
    return line
