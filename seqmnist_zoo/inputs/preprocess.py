"""Any picture of a digit, put in MNIST's form the way MNIST itself was made.

MNIST's digits were cropped to their ink, fitted into a 20x20 box keeping the aspect ratio (with
anti-aliasing), and placed in a 28x28 frame so that their centre of mass sits in the middle:
light ink on black. `normalize_digit` does the same to a photo, a scan, a drawing or a font,
after deciding which of ink and paper is light and removing the paper's own shade and noise.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidArgumentError, NoDigitError, SeqMnistZooError, warn_user
from .images import as_grayscale_stack, expand_paths, named_few, pil_to_grayscale, read_file
from .marks import INK_LEVEL, Mark, digit_marks, main_mark

FRAME = 28  # MNIST's frame
BOX = 20  # the digit's longer side inside the frame
MIN_CONTRAST = 24.0  # ink fainter than this (of 255) above the paper is no digit
NOISE_MARGIN = 4.0  # nor is ink that stands less than this many noise deviations above it
STROKE_WIDTH = 2.0  # thinnest stroke, in pixels of the 20-px box, before strokes are thickened
EVEN_PAPER_CONTRAST = 6.0  # ink this many paper spreads above the paper: the paper is even
CLOSE_CALL = 0.3  # edge-and-area scores this near the middle are settled by the pieces (below)
WORK_SIDE = 4 * BOX  # digits are shrunk to this before thickening: cheap, and thin lines survive


def has_light_background(gray: np.ndarray) -> bool:
    """Whether the paper is lighter than the ink (a page) rather than darker (MNIST).

    Pixels are split at the middle of the picture's darkest and lightest tones (after a 3x3
    average, so a stray pixel does not count). Paper is the tone that fills the picture's edges;
    in a crop cut tight to the ink, where strokes cover much of the edges too, it is also the
    tone that covers more of the picture (the edge counts twice as much as the area). When those
    two leave it close (a heavy digit filling its crop), paper is the tone cut into more pieces:
    a digit is one stroke, and where it touches the edges it cuts the paper around it apart.

    Examples:
        >>> page = np.full((20, 20), 230.0); page[5:15, 8:11] = 20
        >>> has_light_background(page), has_light_background(255 - page)
        (True, False)
        >>> rows, cols = np.mgrid[:16, :16]; r = np.hypot(rows - 7.5, cols - 7.5) / 8
        >>> zero = np.where((r <= 1) & (r >= 0.3), 0.0, 255.0)  # a heavy "0" cropped tight
        >>> has_light_background(zero), has_light_background(255 - zero)
        (True, False)
    """
    gray = np.asarray(gray, dtype="float32")
    smooth = _neighbourhood_sum(gray, include_centre=True) / 9.0
    light = gray > (smooth.min() + smooth.max()) / 2
    edge = np.concatenate([light[0], light[-1], light[1:-1, 0], light[1:-1, -1]])
    score = 2 * edge.mean() + light.mean()  # 3: all light, 0: all dark; 1.5 undecided
    if abs(score - 1.5) < CLOSE_CALL:
        # paper is 4-connected where ink is 8-connected (a diagonal stroke cuts the paper)
        light_cut = _pieces(light, diagonal=False) - _pieces(~light, diagonal=True)
        dark_cut = _pieces(~light, diagonal=False) - _pieces(light, diagonal=True)
        score += CLOSE_CALL * np.sign(light_cut - dark_cut)
    return bool(score > 1.5)


def _pieces(mask: np.ndarray, diagonal: bool) -> int:
    """How many connected parts `mask` has, counting parts of at least 2% of the picture."""
    from scipy import ndimage

    labels, count = ndimage.label(mask, structure=np.ones((3, 3)) if diagonal else None)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    return int((sizes >= max(2, 0.02 * mask.size)).sum())


def normalize_digit(image, invert: bool | None = None) -> np.ndarray:
    """One grayscale picture of a digit as an MNIST digit: uint8 ``(28, 28)``, light on black.

    `invert=None` detects dark-on-light pictures (`has_light_background`); True or False forces
    it. A picture without enough ink raises `NoDigitError`.

    Examples:
        >>> page = np.full((300, 400), 235.0); page[40:140, 300:312] = 30   # a small "1" in a corner
        >>> digit = normalize_digit(page)
        >>> digit.shape, digit.dtype, int(digit.max())
        ((28, 28), dtype('uint8'), 255)
        >>> rows = np.flatnonzero(digit.max(axis=1) > 100); int(rows.min()), int(rows.max())
        (5, 24)
    """
    ink, marks = _ink_and_marks(image, invert)
    if len(marks) > 1:
        warn_user(f"{len(marks)} digit-sized marks side by side; read the one with the most ink "
                  "(each_digit=True in the API, predict --each-digit at the CLI, reads every one)")
    return _mnist_form(ink, main_mark(marks))


def normalize_digits(image, invert: bool | None = None) -> list[np.ndarray]:
    """Every digit-sized mark of a picture ("42"), left to right, each as `normalize_digit` makes it.

    Examples:
        >>> page = np.full((100, 200), 240.0); page[20:80, 40:48] = 20; page[20:80, 140:148] = 20
        >>> len(normalize_digits(page))   # "11"
        2
    """
    ink, marks = _ink_and_marks(image, invert)
    return [_mnist_form(ink, mark) for mark in marks]


def _ink_and_marks(image, invert: bool | None):
    gray = np.clip(np.asarray(image, dtype="float32"), 0, 255)
    if gray.ndim != 2:
        raise InvalidArgumentError(f"expected one grayscale picture (height, width); got {gray.shape}")
    if invert is None:
        invert = has_light_background(gray)
    ink = _ink_above_paper(255.0 - gray if invert else gray)
    return ink, digit_marks(ink)


def _mnist_form(ink: np.ndarray, mark: Mark) -> np.ndarray:
    """One mark of the page's ink fitted into 20x20 and centred by mass in 28x28."""
    from scipy import ndimage

    longer = max(mark.height, mark.width)
    margin = max(1, round(longer / BOX))  # the strokes' soft edges, as anti-aliasing left them
    # paper (0) around the ink, also where the picture was cut at the ink's edge
    crop = np.pad(ink, margin)[mark.top:mark.bottom + 2 * margin, mark.left:mark.right + 2 * margin]
    # only the mark's own strokes and their soft edges: no speck, stain, shadow or line beside it
    own = ndimage.maximum_filter(np.pad(mark.pixels, margin), size=2 * margin + 1)
    crop = crop * own
    work = min(1.0, WORK_SIDE / longer)
    crop = _thicken(_resize(crop, work), longer * work)
    # a mark of a few pixels is mostly margin: the whole crop must still fit in the frame
    digit = _place_by_mass(_resize(crop, min(BOX / (longer * work), FRAME / max(crop.shape))))
    return np.round(digit * (255.0 / digit.max())).astype("uint8")


def _ink_above_paper(ink: np.ndarray) -> np.ndarray:
    """Light-ink picture minus its paper, then minus a noise floor.

    Even paper (a scan, a drawing, a crop cut tight to the ink) is one level; uneven paper (a
    photo with a shadow) is followed by a local level (`_local_paper`).
    """
    even = _even_paper(ink)
    if even is None:
        signal = ink - _local_paper(ink)
        noise = 1.4826 * float(np.median(np.abs(signal - np.median(signal))))
        # a 3x3 average, so that noise alone seldom reaches the bar
        peak = float((_neighbourhood_sum(signal, include_centre=True) / 9.0).max())
    else:
        level, noise, peak = even
        signal = ink - level
    if peak < MIN_CONTRAST:
        raise NoDigitError(
            f"no digit found: the ink stands only {max(peak, 0):.0f} of 255 above the paper "
            f"(at least {MIN_CONTRAST:.0f} is needed); is the picture blank?")
    if peak < NOISE_MARGIN * noise:
        raise NoDigitError(
            f"no digit found: the picture looks like noise; its strongest ink stands {peak:.0f} "
            f"of 255 above the paper, less than {NOISE_MARGIN:g} times the speckle around it "
            f"(noise {noise:.0f}), so no stroke stands out")
    # the floor never reaches the peak, so a digit that passed the test above keeps its strokes
    return np.clip(signal - min(3 * noise, peak / 2), 0, None)


def _even_paper(ink: np.ndarray) -> tuple[float, float, float] | None:
    """(paper level, noise, the strokes' height above the paper) when the paper is even, else None.

    Pixels are split into paper and strokes at Otsu's threshold. The paper is even when the
    strokes stand `EVEN_PAPER_CONTRAST` times the paper's own spread above it: a clean scan or
    drawing, whatever share of the picture the ink covers, however thin its lines. A shadow or
    a gradient spreads the paper and leaves it to `_local_paper`.
    """
    threshold = _otsu_threshold(ink)
    paper, strokes = ink[ink <= threshold], ink[ink > threshold]
    if paper.size == 0 or strokes.size == 0:
        return None
    level = float(np.median(paper))
    spread = 1.4826 * float(np.median(np.abs(paper - level)))
    height = float(np.median(strokes)) - level
    if height < EVEN_PAPER_CONTRAST * max(spread, 1.0):
        return None
    return level, spread, height


def _otsu_threshold(values: np.ndarray) -> float:
    """The level that best splits `values` in two classes (Otsu 1979: most between-class variance)."""
    counts, edges = np.histogram(values, bins=256)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    mean = np.cumsum(counts * centres)
    total, total_mean = weight[-1], mean[-1]
    lower = weight[:-1]
    upper = total - lower
    valid = (lower > 0) & (upper > 0)
    if not valid.any():
        return float(edges[-1])
    between = np.zeros_like(centres[:-1])
    mean_low = mean[:-1][valid] / lower[valid]
    mean_high = (total_mean - mean[:-1][valid]) / upper[valid]
    between[valid] = lower[valid] * upper[valid] * (mean_low - mean_high) ** 2
    return float(edges[1:][np.argmax(between)])


def _local_paper(ink: np.ndarray) -> np.ndarray:
    """The paper's level around each pixel, following a shadow or a gradient across the page."""
    from PIL import Image, ImageFilter

    height, width = ink.shape
    small = _resize(ink, min(1.0, 64 / max(height, width)))
    window = max(3, (min(small.shape) // 2) | 1)
    # The 20th percentile of a wide window is paper wherever ink covers under 80% of it.
    paper = Image.fromarray(small, mode="F").filter(ImageFilter.RankFilter(window, window * window // 5))
    return np.asarray(paper.resize((width, height), Image.BILINEAR), dtype="float32")


def _neighbourhood_sum(image: np.ndarray, include_centre: bool) -> np.ndarray:
    """Sum over each pixel's 3x3 neighbourhood (edges repeated)."""
    padded = np.pad(image, 1, mode="edge")
    height, width = image.shape
    total = sum(padded[1 + dy:1 + dy + height, 1 + dx:1 + dx + width]
                for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    return total if include_centre else total - image


def _resize(image: np.ndarray, factor: float) -> np.ndarray:
    """Scale by `factor`, averaging by area when shrinking (thin lines fade, never vanish)."""
    from PIL import Image

    height, width = image.shape
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    if size == (width, height):
        return image
    resample = Image.BOX if factor < 1 else Image.BILINEAR
    return np.asarray(Image.fromarray(image, mode="F").resize(size, resample), dtype="float32")


def _thicken(crop: np.ndarray, digit_side: float) -> np.ndarray:
    """Widen strokes thinner than `STROKE_WIDTH` once the digit (`digit_side` tall) is 20 px.

    A pen line of 2 px on a big canvas would otherwise fade to a faint trace, unlike any MNIST
    digit. Width is estimated as twice the stroke area over its outline.
    """
    from PIL import Image, ImageFilter

    stroke = crop > INK_LEVEL * crop.max()
    padded = np.pad(stroke, 1)
    interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
    outline = int((stroke & ~interior).sum())
    width = 2.0 * stroke.sum() / max(outline, 1)
    wanted = STROKE_WIDTH * digit_side / BOX
    grow = int(round(wanted - width))
    if grow < 1:
        return crop
    size = 2 * ((grow + 1) // 2) + 1
    return np.asarray(Image.fromarray(crop, mode="F").filter(ImageFilter.MaxFilter(size)),
                      dtype="float32")


def _place_by_mass(digit: np.ndarray) -> np.ndarray:
    """Paste into the 28x28 frame with the centre of mass at the centre (kept inside the frame)."""
    height, width = digit.shape
    mass = digit.sum()
    centre_row = (digit.sum(axis=1) @ np.arange(height)) / mass
    centre_col = (digit.sum(axis=0) @ np.arange(width)) / mass
    top = int(np.clip(np.round(FRAME / 2 - centre_row), 0, FRAME - height))
    left = int(np.clip(np.round(FRAME / 2 - centre_col), 0, FRAME - width))
    frame = np.zeros((FRAME, FRAME), dtype="float32")
    frame[top:top + height, left:left + width] = digit
    return frame


@dataclass(frozen=True)
class PreparedDigit:
    """One input after preparation: where it came from, and the 28x28 digit or the error.

    `warnings` are what the reader said about this picture (also issued as Python warnings).

    Examples:
        >>> PreparedDigit("a.png", None, NoDigitError("no digit found")).ok
        False
    """

    source: str
    image: np.ndarray | None
    error: SeqMnistZooError | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def prepare_each(inputs, invert: bool | None = None, raw: bool = False,
                 each_digit: bool = False) -> list[PreparedDigit]:
    """Prepare every input, keeping a per-input error instead of stopping at the first one.

    `inputs` is one or a list of: file paths, folders (their image files), PIL images and
    arrays (``(h, w)``, ``(n, h, w)`` or colour ``(h, w, 3|4)``; uint8 or float, in [0, 255]
    or [0, 1]). `raw=True` takes inputs already in MNIST's form and only checks them.
    `each_digit=True` reads every digit-sized mark of a picture ("42": two digits, labelled
    ``source#1``, ``source#2``); otherwise the one with the most ink, with a warning.
    An unexpected failure on one picture becomes that picture's error.

    Examples:
        >>> [item.ok for item in prepare_each([np.zeros((28, 28)), np.eye(28) * 255])]
        [False, True]
    """
    items = []
    for source, get_stack in _sources(inputs):
        try:
            with warnings.catch_warnings(record=True) as read_warnings:  # e.g. [0, 1] values
                warnings.simplefilter("always")
                stack = get_stack()
        except Exception as err:  # noqa: BLE001 - one picture's failure is that picture's answer
            items.append(PreparedDigit(source, None, _as_zoo_error(err, source)))
            continue
        for warning in read_warnings:
            warn_user(f"{source}: {warning.message}", warning.category)
        for index, gray in enumerate(stack):
            label = source if len(stack) == 1 else f"{source}[{index}]"
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    digits = _prepare_one(gray, invert, raw, each_digit)
            except Exception as err:  # noqa: BLE001
                items.append(PreparedDigit(label, None, _as_zoo_error(err, label)))
                continue
            said = tuple(dict.fromkeys(str(warning.message) for warning in [*read_warnings, *caught]))
            for warning in caught:
                warn_user(f"{label}: {warning.message}", warning.category)
            if len(digits) == 1:
                items.append(PreparedDigit(label, digits[0], warnings=said))
            else:
                items += [PreparedDigit(f"{label}#{k}", digit, warnings=said)
                          for k, digit in enumerate(digits, 1)]
    return items


def _as_zoo_error(err: Exception, label: str) -> SeqMnistZooError:
    """`err` as the zoo's error naming the input; an unexpected one says it is unexpected."""
    if isinstance(err, SeqMnistZooError):
        named = str(err).startswith((label, f"{Path(label)}:"))  # "dir/" is named "dir" by pathlib
        return err if named else type(err)(f"{label}: {err}")
    return SeqMnistZooError(f"{label}: unexpected {type(err).__name__} while reading it: {err} "
                            "(please report this picture)")


def prepare_digits(inputs, invert: bool | None = None, raw: bool = False) -> np.ndarray:
    """Pictures of digits in any form as the models' input: uint8 ``(n, 28, 28)``.

    Inputs as in `prepare_each`; the first input that cannot be read or holds no digit raises
    (`InvalidArgumentError`, `NoDigitError`), naming it.

    Examples:
        >>> page = np.full((120, 90), 250, "uint8"); page[30:90, 40:48] = 0   # a "1" on paper
        >>> prepare_digits([page, page]).shape
        (2, 28, 28)
    """
    return np.stack([item.image for item in all_prepared(prepare_each(inputs, invert, raw))])


def all_prepared(items: list[PreparedDigit]) -> list[PreparedDigit]:
    """`items` unchanged when every one was prepared; else the first one's error is raised,
    counting the others that failed (`prepare_each` gives each its own).

    Examples:
        >>> all_prepared([])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: no inputs were given; pass files, folders, ...
    """
    failed = [item for item in items if not item.ok]
    if len(failed) > 1:
        first = failed[0].error
        named = named_few(item.source for item in failed[1:])
        message = (f"{first} (also failed, of {len(items)} pictures: {named}; prepare_each gives "
                   "each its own error)")
        try:
            counted = type(first)(message)  # the first failure's kind, e.g. NoDigitError
        except TypeError:  # an error class built from other arguments
            counted = SeqMnistZooError(message)
        raise counted from first
    if failed:
        raise failed[0].error
    if not items:
        raise InvalidArgumentError("no inputs were given; pass files, folders, PIL images or arrays")
    return items


def _prepare_one(gray: np.ndarray, invert: bool | None, raw: bool, each_digit: bool) -> list[np.ndarray]:
    if not raw:
        return normalize_digits(gray, invert) if each_digit else [normalize_digit(gray, invert)]
    if gray.shape != (FRAME, FRAME):
        raise InvalidArgumentError(
            f"raw input must already be 28x28 MNIST-form pixels; got {gray.shape[1]}x{gray.shape[0]} "
            "(drop raw=True, or --raw at the CLI, to have any picture normalised)")
    gray = 255.0 - gray if invert else gray
    return [np.round(np.clip(gray, 0, 255)).astype("uint8")]


def _sources(inputs):
    """(label, function returning a float32 stack) for every input, folders expanded lazily."""
    if isinstance(inputs, np.ndarray):  # one array: its digits are array[0], array[1], ...
        yield "array", lambda: as_grayscale_stack(inputs, "array")
        return
    if isinstance(inputs, (str, Path)) or hasattr(inputs, "getbands"):
        inputs = [inputs]
    for position, item in enumerate(inputs):
        if isinstance(item, (str, Path)):
            try:
                paths = expand_paths([item])
            except SeqMnistZooError as err:
                yield str(item), _raiser(err)
                continue
            for path in paths:
                yield str(path), lambda path=path: _as_stack(read_file(path))
        elif hasattr(item, "getbands"):  # a PIL image
            yield f"image[{position}]", lambda item=item: pil_to_grayscale(item)[None]
        else:
            label = f"array[{position}]"
            yield label, lambda item=item, label=label: as_grayscale_stack(item, label)


def _as_stack(images: list[np.ndarray]) -> np.ndarray:
    return images[0][None] if len(images) == 1 else np.stack(images)


def _raiser(err: Exception):
    def fail():
        raise err
    return fail
