"""Any picture of a digit, put in MNIST's form the way MNIST itself was made.

MNIST's digits were cropped to their ink, fitted into a 20x20 box keeping the aspect ratio (with
anti-aliasing), and placed in a 28x28 frame so that their centre of mass sits in the middle:
light ink on black. `normalize_digit` does the same to a photo, a scan, a drawing or a font,
after deciding which of ink and paper is light and removing the paper's own shade and noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InvalidArgumentError, NoDigitError, SeqMnistZooError
from .images import as_grayscale_stack, expand_paths, pil_to_grayscale, read_file

FRAME = 28  # MNIST's frame
BOX = 20  # the digit's longer side inside the frame
MIN_CONTRAST = 24.0  # ink fainter than this (of 255) above the paper is no digit
INK_LEVEL = 0.35  # share of the ink's peak that counts as stroke when finding the digit's box
STROKE_WIDTH = 2.0  # thinnest stroke, in pixels of the 20-px box, before strokes are thickened
WORK_SIDE = 4 * BOX  # digits are shrunk to this before thickening: cheap, and thin lines survive


def has_light_background(gray: np.ndarray) -> bool:
    """Whether the paper is lighter than the ink (a page) rather than darker (MNIST).

    The paper is what fills the picture's edges; it is compared with the picture's darkest and
    lightest tones (after a 3x3 average, so a stray pixel does not count), so that neither a small
    digit, a shadow nor a digit touching the edge flips the decision.

    Examples:
        >>> page = np.full((20, 20), 230.0); page[5:15, 8:11] = 20
        >>> has_light_background(page), has_light_background(255 - page)
        (True, False)
    """
    gray = np.asarray(gray, dtype="float32")
    edge = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    smooth = _neighbourhood_sum(gray, include_centre=True) / 9.0
    dark, light = smooth.min(), smooth.max()
    return bool(np.median(edge) > (dark + light) / 2)


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
    gray = np.clip(np.asarray(image, dtype="float32"), 0, 255)
    if gray.ndim != 2:
        raise InvalidArgumentError(f"expected one grayscale picture (height, width); got {gray.shape}")
    if invert is None:
        invert = has_light_background(gray)
    ink = _ink_above_paper(255.0 - gray if invert else gray)
    top, bottom, left, right = _ink_box(ink)
    longer = max(bottom - top, right - left)
    margin = max(1, round(longer / BOX))  # the strokes' soft edges, as anti-aliasing left them
    crop = ink[max(top - margin, 0):bottom + margin, max(left - margin, 0):right + margin]
    work = min(1.0, WORK_SIDE / longer)
    crop = _thicken(_resize(crop, work), longer * work)
    digit = _place_by_mass(_resize(crop, BOX / (longer * work)))
    return np.round(digit * (255.0 / digit.max())).astype("uint8")


def _ink_above_paper(ink: np.ndarray) -> np.ndarray:
    """Light-ink picture minus its paper: a local paper level, then a noise floor."""
    from PIL import Image, ImageFilter

    height, width = ink.shape
    small = _resize(ink, min(1.0, 64 / max(height, width)))
    window = max(3, (min(small.shape) // 2) | 1)
    # The 20th percentile of a wide window is paper wherever ink covers under 80% of it, and
    # follows a shadow or a gradient across the page.
    paper = Image.fromarray(small, mode="F").filter(ImageFilter.RankFilter(window, window * window // 5))
    paper = np.asarray(paper.resize((width, height), Image.BILINEAR), dtype="float32")
    signal = ink - paper
    noise = 1.4826 * float(np.median(np.abs(signal - np.median(signal))))
    smooth = _neighbourhood_sum(signal, include_centre=True) / 9.0
    peak = float(smooth.max())
    if peak < max(MIN_CONTRAST, 8 * noise / 3):
        raise NoDigitError(
            f"no digit found: the ink stands only {max(peak, 0):.0f} of 255 above the paper "
            f"(at least {MIN_CONTRAST:.0f} is needed); is the picture blank?")
    return np.clip(signal - 3 * noise, 0, None)


def _ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """Rows and columns (top, bottom, left, right; ends exclusive) around the stroke pixels."""
    stroke = ink > INK_LEVEL * ink.max()
    # an isolated speck of noise is no stroke
    solid = stroke & (_neighbourhood_sum(stroke.astype("float32"), include_centre=False) > 0)
    rows, cols = np.flatnonzero(solid.any(axis=1)), np.flatnonzero(solid.any(axis=0))
    if rows.size == 0:
        rows, cols = np.flatnonzero(stroke.any(axis=1)), np.flatnonzero(stroke.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


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

    Examples:
        >>> PreparedDigit("a.png", None, NoDigitError("no digit found")).ok
        False
    """

    source: str
    image: np.ndarray | None
    error: SeqMnistZooError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def prepare_each(inputs, invert: bool | None = None, raw: bool = False) -> list[PreparedDigit]:
    """Prepare every input, keeping a per-input error instead of stopping at the first one.

    `inputs` is one or a list of: file paths, folders (their image files), PIL images and
    arrays (``(h, w)``, ``(n, h, w)`` or colour ``(h, w, 3|4)``; uint8 or float, in [0, 255]
    or [0, 1]). `raw=True` takes inputs already in MNIST's form and only checks them.

    Examples:
        >>> [item.ok for item in prepare_each([np.zeros((28, 28)), np.eye(28) * 255])]
        [False, True]
    """
    items = []
    for source, get_stack in _sources(inputs):
        try:
            stack = get_stack()
        except SeqMnistZooError as err:
            items.append(PreparedDigit(source, None, err))
            continue
        for index, gray in enumerate(stack):
            label = source if len(stack) == 1 else f"{source}[{index}]"
            try:
                items.append(PreparedDigit(label, _prepare_one(gray, invert, raw)))
            except SeqMnistZooError as err:
                items.append(PreparedDigit(label, None, type(err)(f"{label}: {err}")))
    return items


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
    """`items` unchanged when every one was prepared; else the first one's error is raised.

    Examples:
        >>> all_prepared([])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: no inputs were given; pass files, folders, ...
    """
    for item in items:
        if not item.ok:
            raise item.error
    if not items:
        raise InvalidArgumentError("no inputs were given; pass files, folders, PIL images or arrays")
    return items


def _prepare_one(gray: np.ndarray, invert: bool | None, raw: bool) -> np.ndarray:
    if not raw:
        return normalize_digit(gray, invert)
    if gray.shape != (FRAME, FRAME):
        raise InvalidArgumentError(
            f"raw input must already be 28x28 MNIST-form pixels; got {gray.shape[1]}x{gray.shape[0]} "
            "(leave raw off to normalise any picture)")
    gray = 255.0 - gray if invert else gray
    return np.round(np.clip(gray, 0, 255)).astype("uint8")


def _sources(inputs):
    """(label, function returning a float32 stack) for every input, folders expanded lazily."""
    if isinstance(inputs, (str, Path, np.ndarray)) or hasattr(inputs, "getbands"):
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
