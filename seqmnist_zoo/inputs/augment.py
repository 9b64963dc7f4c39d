"""MNIST digits rewritten the way real handwriting reaches the reader: the `handwriting` augmentation.

Scanned handwriting differs from MNIST in ways a shift does not cover: digits stretched to fill
their box, scanned at 8 to 32 pixels and often thresholded to black and white, thick or thin pens,
slanted or rotated, each stroke bent its own way. Each training digit is given such a life (an
elastic bend, a random affine warp, a stretch, a coarse binarised scan, a pen width), saved dark on
white, and read back through the reader
(`normalize_digit`), so the model learns from exactly what the reader makes of such pictures.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .preprocess import normalize_digit

CHUNK = 2000  # digits per worker task
ELASTIC_CELLS = 4  # the bend's grid: 4x4 cells over the digit, each inner corner moved on its own


def elastic_warp(picture, rng: np.random.Generator, strength: float):
    """`picture` (a PIL image) bent smoothly: a grid's inner corners moved by `strength` x a cell.

    A coarse, smooth displacement (Simard et al., 2003, in piecewise-bilinear form): strokes curve
    and lengthen locally, as the same digit does from writer to writer.

    Examples:
        >>> from PIL import Image
        >>> bar = np.zeros((28, 28), "uint8"); bar[4:24, 12:16] = 255
        >>> bent = np.asarray(elastic_warp(Image.fromarray(bar), np.random.default_rng(0), 0.3))
        >>> bent.shape, bool((bent != bar).any()), bool(bent[0].max() == 0)
        ((28, 28), True, True)
    """
    from PIL import Image

    width, height = picture.size
    xs, ys = np.linspace(0, width, ELASTIC_CELLS + 1), np.linspace(0, height, ELASTIC_CELLS + 1)
    grid_x, grid_y = np.meshgrid(xs, ys)
    moves = rng.normal(0.0, strength, size=(2, *grid_x.shape)) * [[[width / ELASTIC_CELLS]],
                                                                   [[height / ELASTIC_CELLS]]]
    moves[:, [0, -1], :] = 0.0  # the frame stays put, so no ink is pushed out of the picture
    moves[:, :, [0, -1]] = 0.0
    source_x, source_y = grid_x + moves[0], grid_y + moves[1]
    mesh = []
    for row in range(ELASTIC_CELLS):
        for col in range(ELASTIC_CELLS):
            box = (round(xs[col]), round(ys[row]), round(xs[col + 1]), round(ys[row + 1]))
            corners = [(row, col), (row + 1, col), (row + 1, col + 1), (row, col + 1)]  # PIL's order
            mesh.append((box, [v for r, c in corners for v in (source_x[r, c], source_y[r, c])]))
    return picture.transform(picture.size, Image.MESH, mesh, Image.BILINEAR)


def _opened_four(digit: np.ndarray, top: int, bottom: int, pen: int) -> np.ndarray:
    """A 4 whose stem starts at the crossbar: the stem above the bar taken away.

    The crossbar is the widest row in the middle of the digit; the stem is the ink below it.
    Returns `digit` unchanged when that would take away more than 40% of the ink.
    """
    tall, ink = bottom - top, digit > 127

    def width(row: int) -> int:
        cols = np.flatnonzero(ink[row])
        return int(cols[-1] - cols[0]) if cols.size else -1

    bar = max(range(top + int(0.35 * tall), top + int(0.8 * tall) + 1), key=width)
    below = np.nonzero(ink[bar + 3:bottom + 1])[1]
    if below.size == 0:
        return digit
    opened = digit.copy()
    opened[:max(top, bar - pen), int(round(float(below.mean()) - 1.5 * pen)):] = 0
    return opened if (opened > 127).sum() >= 0.6 * ink.sum() else digit


def _g_shaped_nine(digit: np.ndarray, top: int, bottom: int, pen: int,
                   rng: np.random.Generator) -> np.ndarray:
    """A 9 written like a "g": head and stem squashed into the upper part of its height, the stem
    ending in a bowl that runs left along the bottom and rises again on the left."""
    from PIL import Image, ImageDraw

    tall = bottom - top
    head_rows = max(2, round((tall + 1) * rng.uniform(0.55, 0.75)))
    head = Image.fromarray(digit[top:bottom + 1]).resize((digit.shape[1], head_rows), Image.BILINEAR)
    out = np.zeros_like(digit)
    out[top:top + head_rows] = np.asarray(head)
    ink_rows = np.flatnonzero(out.max(1) > 127)
    cols = np.flatnonzero(out.max(0) > 127)
    if ink_rows.size == 0:
        return digit
    end = int(ink_rows[-1])
    x = float(np.flatnonzero(out[end] > 127).mean())
    reach = rng.uniform(0.6, 1.1) * max(cols[-1] - cols[0], pen)
    rise, low = rng.uniform(0.1, 0.5) * tall, bottom + 0.15 * (bottom - end)
    t = np.linspace(0.0, 1.0, 13)[:, None]  # a cubic Bezier: down, left along the bottom, up
    left = x - reach * rng.uniform(0.9, 1.1)
    points = np.array([(x, end), (x, low), (x - reach, low), (left, bottom - rise)])
    curve = ((1 - t) ** 3 * points[0] + 3 * t * (1 - t) ** 2 * points[1]
             + 3 * t ** 2 * (1 - t) * points[2] + t ** 3 * points[3])
    picture = Image.fromarray(out)
    ImageDraw.Draw(picture).line([tuple(point) for point in curve], fill=255, width=pen, joint="curve")
    return np.asarray(picture)


def written_the_continental_way(digit: np.ndarray, label: int, rng: np.random.Generator,
                                open_fours: bool = False, long_upstrokes: bool = False,
                                g_nines: bool = False) -> np.ndarray:
    """A 1 given its long upstroke (and sometimes a foot), a 7 its crossbar, a 9 a curled tail,
    and with `open_fours` a 4 opened (its stem starting at the crossbar).

    Much of the world writes them so, MNIST's American writers seldom did. With
    `long_upstrokes` a 1's upstroke may be as long as the stem and lie flatter or stand steeper
    (15-75 degrees instead of 20-65), as Semeion's writers draw them; with `g_nines` half the
    rewritten 9s are written like a "g" instead (`_g_shaped_nine`).

    Examples:
        >>> one = np.zeros((28, 28), "uint8"); one[4:24, 13:15] = 255
        >>> int((written_the_continental_way(one, 1, np.random.default_rng(1)) > 0).sum()) > 40
        True
    """
    from PIL import Image, ImageDraw

    rewritten = (1, 4, 7, 9) if open_fours else (1, 7, 9)
    if label not in rewritten or rng.random() < (0.25 if label == 1 else 0.5):
        return digit
    rows = np.flatnonzero(digit.max(1) > 127)
    if rows.size < 8:
        return digit
    top, bottom = int(rows[0]), int(rows[-1])
    tall = bottom - top
    pen = max(1, round(float((digit > 127).sum()) / (3.0 * tall)))  # area over the strokes' length
    if label == 4:
        return _opened_four(digit, top, bottom, pen)
    if label == 9 and g_nines and rng.random() < 0.5:
        return _g_shaped_nine(digit, top, bottom, pen, rng)
    picture = Image.fromarray(digit)
    draw = ImageDraw.Draw(picture)

    def centre(row: int) -> float:
        return float(np.flatnonzero(digit[row] > 127).mean())

    if label == 1:
        longest, (flattest, steepest) = (1.0, (15, 75)) if long_upstrokes else (0.8, (20, 65))
        length, angle = rng.uniform(0.25, longest) * tall, np.radians(rng.uniform(flattest, steepest))
        x, y = centre(top), top
        draw.line([(x, y), (x - length * np.cos(angle), y + length * np.sin(angle))], fill=255, width=pen)
        if rng.random() < 0.4:
            half = rng.uniform(0.15, 0.3) * tall
            x = centre(bottom)
            draw.line([(x - half, bottom), (x + half, bottom)], fill=255, width=pen)
    elif label == 9:  # the tail curls back to the left, as in a "g"
        x, reach = centre(bottom), rng.uniform(0.15, 0.5) * tall
        rise = rng.uniform(0.05, 0.35) * tall
        draw.line([(x, bottom), (x - reach, bottom), (x - 1.3 * reach, bottom - rise)], fill=255, width=pen)
    else:
        row = top + int(rng.uniform(0.4, 0.6) * tall)
        if not (digit[row] > 127).any():
            return digit
        half = rng.uniform(0.15, 0.3) * tall
        x = centre(row)
        draw.line([(x - half, row), (x + half, row)], fill=255, width=pen)
    return np.asarray(picture)


def handwriting_variant(digit: np.ndarray, rng: np.random.Generator, label: int | None = None,
                        elastic: bool = False, open_fours: bool = False,
                        long_upstrokes: bool = False, g_nines: bool = False) -> np.ndarray:
    """One MNIST digit (uint8 28x28, light on black) as a random real-world scan, read back.

    With its `label`, a 1, 7 or 9 (and with `open_fours` a 4) may also be written the continental
    way (`written_the_continental_way`, which also takes `long_upstrokes` and `g_nines`); with
    `elastic`, half the digits are also bent (`elastic_warp`).

    Examples:
        >>> digit = np.zeros((28, 28), "uint8"); digit[6:22, 12:16] = 255   # a "1"
        >>> out = handwriting_variant(digit, np.random.default_rng(0))
        >>> out.shape, out.dtype
        ((28, 28), dtype('uint8'))
    """
    from PIL import Image, ImageFilter

    if label is not None:
        digit = written_the_continental_way(digit, label, rng, open_fours, long_upstrokes, g_nines)
    rows, cols = np.flatnonzero(digit.max(1) > 0), np.flatnonzero(digit.max(0) > 0)
    if rows.size == 0:
        return digit
    picture = Image.fromarray(digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    picture = picture.crop((-4, -4, picture.width + 4, picture.height + 4))  # room to rotate
    if elastic and rng.random() < 0.5:
        picture = elastic_warp(picture, rng, strength=rng.uniform(0.05, 0.2))
    angle, shear = np.radians(rng.uniform(-12, 12)), rng.uniform(-0.3, 0.3)
    cos, sin = np.cos(angle), np.sin(angle)
    centre_x, centre_y = picture.width / 2, picture.height / 2
    a, b = cos, sin + shear
    d, e = -sin, cos
    matrix = (a, b, centre_x - a * centre_x - b * centre_y, d, e, centre_y - d * centre_x - e * centre_y)
    picture = picture.transform(picture.size, Image.AFFINE, matrix, Image.BILINEAR)
    ink = np.asarray(picture)
    rows, cols = np.flatnonzero(ink.max(1) > 40), np.flatnonzero(ink.max(0) > 40)
    if rows.size == 0:
        return digit
    picture = Image.fromarray(ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    side = int(rng.integers(10, 33))  # the scan's box
    if rng.random() < 0.5:  # stretched to fill the box, as many scanned sets were
        # a plain stroke widened past 2.5x its proportion is a blob no reader could name
        scale = side / max(picture.size)
        size = (min(side, max(1, round(2.5 * picture.width * scale))), side)
    else:
        scale = side / max(picture.size)
        size = (max(1, round(picture.width * scale * rng.uniform(0.75, 1.3))),
                max(1, round(picture.height * scale)))
    scan = picture.resize((max(1, min(size[0], 2 * side)), size[1]), Image.BOX)
    if rng.random() < 0.3:
        scan = scan.filter(ImageFilter.MaxFilter(3))  # a broad pen
    values = np.asarray(scan, dtype="float32")
    if rng.random() < 0.7:  # a black-and-white scan
        values = np.where(values > rng.uniform(0.25, 0.6) * values.max(), 255.0, 0.0)
    margin = int(rng.integers(0, 4))
    page = np.pad(255.0 - values, margin, constant_values=255.0)
    if max(page.shape) < 8:
        page = np.pad(page, 4, constant_values=255.0)
    try:
        with warnings.catch_warnings():  # a broken stroke may read as two marks: the larger is kept
            warnings.simplefilter("ignore")
            return normalize_digit(page, invert=True)
    except ValueError:  # the warp left no stroke standing: keep the digit as it was
        return digit


def _variants_chunk(args) -> np.ndarray:
    digits, labels, seed, start, style = args
    return np.stack([handwriting_variant(d, np.random.default_rng([seed, start + i]), label, **style)
                     for i, (d, label) in enumerate(zip(digits, labels, strict=True))])


def handwriting_variants(digits: np.ndarray, labels=None, seed: int = 0,
                         workers: int | None = None, elastic: bool = False,
                         open_fours: bool = False, long_upstrokes: bool = False,
                         g_nines: bool = False) -> np.ndarray:
    """One `handwriting_variant` of every digit; digit ``i``'s depends only on `seed` and ``i``.

    Examples:
        >>> digits = np.zeros((3, 28, 28), "uint8"); digits[:, 6:22, 12:16] = 255
        >>> handwriting_variants(digits, [1, 1, 1], workers=1).shape
        (3, 28, 28)
    """
    digits = np.asarray(digits, dtype="uint8")
    labels = [None] * len(digits) if labels is None else [int(label) for label in labels]
    style = {"elastic": elastic, "open_fours": open_fours, "long_upstrokes": long_upstrokes,
             "g_nines": g_nines}
    chunks = [(digits[i:i + CHUNK], labels[i:i + CHUNK], seed, i, style)
              for i in range(0, len(digits), CHUNK)]
    workers = workers or min(len(chunks), os.cpu_count() or 1)
    if workers <= 1 or len(chunks) == 1:
        parts = [_variants_chunk(chunk) for chunk in chunks]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_variants_chunk, chunks))
    return np.concatenate(parts) if parts else digits[:0]
