"""Finding the digit on a page: ruled lines taken out, specks and stains left aside, digits counted.

Works on a page's ink (light ink on black, paper already removed, as `preprocess` makes it): the
stroke pixels are grouped into marks (pieces of one digit are merged: a 5's detached bar, a broken
stroke), and the marks that are stroke-like (thin lines, not a blot) and digit-sized are the
digits, left to right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import NoDigitError

INK_LEVEL = 0.35  # share of the ink's peak that counts as stroke
RULED_LINE = 0.6  # a straight run across this share of the page is a ruled (or squared) line
LINE_THICKNESS = 0.04  # ruled lines are at most this share of the page's height thick
STROKE_LIKE = 0.35  # a mark whose stroke width is under this share of its size is drawn, not a blot
DIGIT_SIZED = 0.6  # marks at least this share of the largest mark's height count as digits
# A stroke's pixels have more stroke neighbours than the page's ink share; scattered noise's do
# not (`stroke_clustering`, at the ink's own grain, so enlarged speckle counts as noise too).
# Only pages this many grains a side are judged: on a smaller scan a digit's own strokes fill
# much of the page.
CLUSTERING = 0.1
JUDGED_SIDE = 16
# Nor is ink of fewer than this many grain-sized specks: a dot or a dash, not a scatter.
SCATTERED_SPECKS = 3


@dataclass(frozen=True)
class Mark:
    """One mark on the page: its box (ends exclusive) and its stroke pixels.

    Examples:
        >>> Mark(0, 10, 2, 5, np.ones((10, 3), bool)).height
        10
    """

    top: int
    bottom: int
    left: int
    right: int
    pixels: np.ndarray  # bool, the box's stroke pixels
    mass: float = 0.0

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    def stroke_width(self) -> float:
        """Twice the stroke area over its outline: the pen's width in pixels."""
        padded = np.pad(self.pixels, 1)
        interior = (padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
        outline = int((self.pixels & ~interior).sum())
        return 2.0 * float(self.pixels.sum()) / max(outline, 1)


def digit_marks(ink: np.ndarray) -> list[Mark]:
    """The digit-sized, stroke-like marks of a page's ink, left to right (largest first on ties).

    Raises `NoDigitError` when no stroke stands above the paper.

    Examples:
        >>> page = np.zeros((60, 120)); page[10:50, 20:24] = 200; page[10:50, 80:84] = 200   # "11"
        >>> [(m.left, m.height) for m in digit_marks(page)]
        [(20, 40), (80, 40)]
    """
    from scipy import ndimage

    peak = float(ink.max())
    stroke = without_ruled_lines(ink > INK_LEVEL * peak) if peak > 0 else np.zeros(ink.shape, bool)
    labels, count = ndimage.label(stroke, structure=np.ones((3, 3)))
    if count == 0:
        raise NoDigitError("no digit found: no stroke stands above the paper; is the picture blank?")
    grain = ink_grain(stroke)
    judged = min(stroke.shape) >= JUDGED_SIDE * grain and stroke.sum() >= SCATTERED_SPECKS * grain ** 2
    if judged and stroke_clustering(stroke, grain) < CLUSTERING:
        raise NoDigitError(
            f"no digit found: the ink is scattered like noise, not drawn in strokes (a stroke "
            f"pixel's neighbours {grain} px away are ink no more often than the page's "
            f"{stroke.mean():.0%} share of ink would give); is it a picture of noise or texture?")
    boxes = ndimage.find_objects(labels)
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    # specks of noise are no mark (and would make grouping slow), unless nothing else is there
    kept = [i for i in range(count) if areas[i] > max(1, 0.02 * areas.max())] or list(range(count))
    groups = _merge_pieces([boxes[i] for i in kept])
    marks = []
    for box, members in groups:
        inside = labels[box]
        pixels = np.isin(inside, [kept[m] + 1 for m in members])
        marks.append(Mark(box[0].start, box[0].stop, box[1].start, box[1].stop, pixels,
                          float(ink[box][pixels].sum())))
    drawn = [m for m in marks if m.stroke_width() <= STROKE_LIKE * max(m.height, m.width)] or marks
    main = max(drawn, key=lambda m: m.mass)
    beside = [m for m in drawn if m.height >= DIGIT_SIZED * main.height and _overlap(
        (m.top, m.bottom), (main.top, main.bottom)) >= 0.5 * min(m.height, main.height)]
    return sorted(beside, key=lambda m: (m.left, -m.mass))


def ink_grain(stroke: np.ndarray) -> int:
    """The page's grain in pixels: the median run of ink or of paper along rows or columns,
    whichever is shortest, rounded up. A pen's width for a drawing (paper runs are long); a
    speck's side for speckle, however enlarged and whichever tone is taken for ink.

    Examples:
        >>> specks = np.kron(np.random.default_rng(0).random((30, 30)) < 0.2, np.ones((4, 4), bool))
        >>> line = np.zeros((40, 40), bool); line[5:35, 20] = True
        >>> ink_grain(specks), ink_grain(~specks), ink_grain(line)
        (4, 4, 1)
    """
    def median_run(mask: np.ndarray) -> float:
        edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype("int8"), axis=1).ravel()
        runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        return float(np.median(runs)) if runs.size else math.inf

    shortest = min(median_run(m) for m in (stroke, stroke.T, ~stroke, ~stroke.T))
    return max(1, math.ceil(shortest)) if math.isfinite(shortest) else 1


def stroke_clustering(stroke: np.ndarray, step: int = 1) -> float:
    """How much more often a stroke pixel's eight neighbours `step` pixels away are stroke than
    the page's ink share, as a share of what more is possible (1: every one is ink; 0: chance).

    About 0 for scattered noise of any density (at a step as long as its specks), well above 0
    for drawn lines, also for a bold digit that fills most of a tight crop.

    Examples:
        >>> line = np.zeros((40, 40), bool); line[5:35, 20] = True
        >>> noise = np.random.default_rng(0).random((40, 40)) < 0.3
        >>> round(stroke_clustering(line), 2), abs(stroke_clustering(noise)) < 0.05
        (0.23, True)
    """
    padded = np.pad(stroke, step).astype("uint8")  # at most 8 neighbours: uint8 sums are exact
    height, width = stroke.shape
    neighbours = sum(padded[step + dy:step + dy + height, step + dx:step + dx + width]
                     for dy in (-step, 0, step) for dx in (-step, 0, step) if dy or dx)
    share = float(stroke.mean())
    if share >= 1.0:
        return 0.0
    return (float(neighbours[stroke].mean(dtype="float64")) / 8.0 - share) / (1.0 - share)


def main_mark(marks: list[Mark]) -> Mark:
    """The mark with the most ink.

    Examples:
        >>> main_mark([Mark(0, 2, 0, 2, np.ones((2, 2), bool), 4.0),
        ...            Mark(0, 9, 5, 8, np.ones((9, 3), bool), 27.0)]).left
        5
    """
    return max(marks, key=lambda m: m.mass)


def without_ruled_lines(stroke: np.ndarray) -> np.ndarray:
    """`stroke` with ruled or squared paper's lines taken out, keeping where a digit crosses them.

    A line is a thin band of rows (or columns) with a straight run across `RULED_LINE` of the
    page; two or more of them, longer than the writing between them is wide, make ruled paper
    (a digit's own bar, a 7's, spans only the digit).

    Examples:
        >>> page = np.zeros((40, 40), bool); page[[10, 25], :] = True; page[5:35, 18:21] = True
        >>> cleaned = without_ruled_lines(page)
        >>> bool(cleaned[10, 5]), bool(cleaned[10, 19]), int(cleaned.sum())
        (False, True, 94)
    """
    across, down = _line_bands(stroke), _line_bands(stroke.T)
    writing = stroke.copy()
    for start, stop in across:
        writing[start:stop] = False
    for start, stop in down:
        writing[:, start:stop] = False
    rows, columns = np.flatnonzero(writing.any(axis=1)), np.flatnonzero(writing.any(axis=0))
    if not rows.size:
        return stroke  # nothing written between the "lines": they are the writing
    cleaned = stroke
    if len(across) >= 2 and columns[-1] - columns[0] + 1 <= RULED_LINE * stroke.shape[1]:
        cleaned = _cut(cleaned, across)
    if len(down) >= 2 and rows[-1] - rows[0] + 1 <= RULED_LINE * stroke.shape[0]:
        cleaned = _cut(cleaned.T, down).T
    return cleaned


def _line_bands(stroke: np.ndarray) -> list[tuple[int, int]]:
    """Thin bands of rows with a straight run across `RULED_LINE` of the width."""
    height, width = stroke.shape
    long_rows = _has_run(stroke, math.ceil(RULED_LINE * width))
    # thin bands only: a digit's own bar is as thick as its pen, a tenth of its height
    return [(a, b) for a, b in _runs(long_rows) if b - a <= max(1, LINE_THICKNESS * height)]


def _cut(stroke: np.ndarray, bands: list[tuple[int, int]]) -> np.ndarray:
    """The bands' rows emptied, except where a stroke goes on at both sides (a digit crossing)."""
    height, width = stroke.shape
    cleaned = stroke.copy()
    for start, stop in bands:
        above = stroke[start - 1] if start > 0 else np.zeros(width, bool)
        below = stroke[stop] if stop < height else np.zeros(width, bool)
        cleaned[start:stop] &= (_widen(above) & _widen(below))[None, :]
    return cleaned


def _has_run(stroke: np.ndarray, length: int) -> np.ndarray:
    """For each row of `stroke`, whether it holds `length` True values in a row.

    Examples:
        >>> _has_run(np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool), 3).tolist()
        [False, True]
    """
    if length > stroke.shape[1]:
        return np.zeros(stroke.shape[0], bool)
    counts = np.pad(np.cumsum(stroke, axis=1, dtype=np.int32), ((0, 0), (1, 0)))
    return (counts[:, length:] - counts[:, :-length] == length).any(axis=1)


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True values."""
    edges = np.diff(np.concatenate([[0], values.astype("int8"), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _widen(row: np.ndarray) -> np.ndarray:
    return row | np.roll(row, 1) | np.roll(row, -1)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _merge_pieces(boxes: list[tuple[slice, slice]]) -> list[tuple[tuple[slice, slice], list[int]]]:
    """Pieces of one digit grouped: boxes that share columns and nearly touch vertically, or
    nearly touch both ways. Returns each group's box and its members' indexes."""
    groups = [([b[0].start, b[0].stop, b[1].start, b[1].stop], [i]) for i, b in enumerate(boxes)]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _same_digit(groups[i][0], groups[j][0]):
                    (a, ma), (b, mb) = groups[i], groups[j]
                    groups[i] = ([min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])],
                                 ma + mb)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return [((slice(g[0], g[1]), slice(g[2], g[3])), members) for g, members in groups]


def _same_digit(a: list[int], b: list[int]) -> bool:
    tall = max(a[1] - a[0], b[1] - b[0])
    gap_rows = max(a[0], b[0]) - min(a[1], b[1])
    gap_cols = max(a[2], b[2]) - min(a[3], b[3])
    shared_cols = _overlap((a[2], a[3]), (b[2], b[3]))
    narrower = min(a[3] - a[2], b[3] - b[2])
    if shared_cols >= 0.3 * narrower and gap_rows <= 0.3 * tall:
        return True  # stacked: a 5's bar over its body, a broken stroke
    return gap_rows <= 0.08 * tall and gap_cols <= 0.08 * tall
