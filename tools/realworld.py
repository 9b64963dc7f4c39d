"""Pictures like the ones people bring, made reproducibly: photographed pages, fonts, pen strokes.

Each generator is seeded and yields ``(label, picture)`` pairs, pictures as users would hand them
to the zoo (uint8 grayscale pages, PIL images, PNG files with transparency). They feed the
real-world evaluation (``python benchmarks/realworld.py``) and the tests.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")

# Digits as pen paths in a unit square (x to the right, y down); each digit is a list of strokes.
_t = np.linspace(0, 2 * np.pi, 33)
STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [list(zip(0.5 + 0.3 * np.sin(_t), 0.5 - 0.42 * np.cos(_t), strict=True))],
    1: [[(0.38, 0.22), (0.55, 0.08), (0.55, 0.92)]],
    2: [[(0.22, 0.28), (0.3, 0.14), (0.5, 0.08), (0.7, 0.14), (0.76, 0.3), (0.7, 0.46),
         (0.22, 0.9), (0.8, 0.9)]],
    3: [[(0.25, 0.15), (0.5, 0.08), (0.72, 0.18), (0.7, 0.36), (0.45, 0.48), (0.74, 0.6),
         (0.76, 0.8), (0.5, 0.92), (0.22, 0.84)]],
    4: [[(0.62, 0.92), (0.62, 0.08), (0.18, 0.64), (0.82, 0.64)]],
    5: [[(0.76, 0.1), (0.32, 0.1), (0.28, 0.45), (0.5, 0.4), (0.72, 0.5), (0.76, 0.72),
         (0.6, 0.9), (0.4, 0.92), (0.22, 0.82)]],
    6: [[(0.7, 0.1), (0.45, 0.2), (0.28, 0.45), (0.25, 0.7), (0.4, 0.9), (0.62, 0.9),
         (0.74, 0.72), (0.65, 0.54), (0.45, 0.52), (0.28, 0.64)]],
    7: [[(0.2, 0.1), (0.8, 0.1), (0.42, 0.92)]],
    8: [[(0.5, 0.48), (0.3, 0.36), (0.28, 0.18), (0.5, 0.08), (0.7, 0.18), (0.68, 0.36),
         (0.5, 0.48), (0.27, 0.62), (0.3, 0.86), (0.5, 0.93), (0.72, 0.86), (0.74, 0.62),
         (0.5, 0.48)]],
    9: [[(0.72, 0.4), (0.55, 0.5), (0.33, 0.45), (0.27, 0.26), (0.4, 0.09), (0.6, 0.08),
         (0.72, 0.2), (0.72, 0.4), (0.68, 0.92)]],
}


def photographed_pages(digits, seed: int = 0, start: int = 0) -> Iterator[np.ndarray]:
    """MNIST digits as dark ink photographed on paper: one uint8 grayscale page per digit.

    Each page is 300x300 to 1200x900 of grey paper with a soft shadow, the digit 30-300 px tall
    at a random place, then noise, a slight blur and JPEG compression. Page ``i`` depends only
    on `seed` and ``start + i``, so a set can be made in parallel chunks.

    Examples:
        >>> page = next(photographed_pages(np.eye(28, dtype="uint8")[None] * 255))
        >>> page.dtype, page.ndim, 300 <= page.shape[0] <= 900
        (dtype('uint8'), 2, True)
    """
    from PIL import Image, ImageFilter

    for index, digit in enumerate(digits, start=start):
        rng = np.random.default_rng([seed, index])
        width, height = int(rng.integers(300, 1201)), int(rng.integers(300, 901))
        tall = int(rng.integers(30, min(300, height - 20) + 1))
        side = max(28, round(tall * 28 / 20))  # MNIST's ink is 20 of its 28 pixels
        ink = np.asarray(Image.fromarray(np.asarray(digit, "uint8")).resize((side, side), Image.BILINEAR),
                         dtype="float32") / 255.0
        alpha = np.zeros((height, width), "float32")
        top = int(rng.integers(0, max(1, height - side)))
        left = int(rng.integers(0, max(1, width - side)))
        patch = ink[:height - top, :width - left]
        alpha[top:top + patch.shape[0], left:left + patch.shape[1]] = patch
        paper = rng.uniform(170, 245) + rng.uniform(-25, 25) * np.linspace(-1, 1, width)[None, :]
        pen = rng.uniform(10, 80)
        page = paper * (1 - alpha) + pen * alpha + rng.normal(0, rng.uniform(2, 8), alpha.shape)
        picture = Image.fromarray(np.clip(page, 0, 255).astype("uint8"))
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.5)))
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=int(rng.integers(50, 91)))
        yield np.asarray(Image.open(buffer).convert("L"))


def font_files() -> list[Path]:
    """Every TrueType/OpenType font file in the machine's usual font folders, sorted.

    Examples:
        >>> all(path.suffix in (".ttf", ".otf") for path in font_files())
        True
    """
    found = set()
    for folder in map(Path, FONT_FOLDERS):
        folder = folder.expanduser()
        if folder.is_dir():
            found.update(p for p in folder.rglob("*") if p.suffix.lower() in (".ttf", ".otf"))
    return sorted(found)


# matplotlib's text fonts; its math-symbol fonts, old-style figures (cmmi10) and placeholder
# boxes (LastResort) hold no digits to read.
TEXT_FONTS = ("DejaVu*", "STIXGeneral*", "cmr10", "cmb10", "cmss10", "cmtt10", "cmti10")


def bundled_fonts() -> list[Path]:
    """The text fonts matplotlib ships (DejaVu, STIX, Computer Modern): the same on every machine.

    Examples:
        >>> len(bundled_fonts()), bundled_fonts()[0].name
        (23, 'DejaVuSans-Bold.ttf')
    """
    import fnmatch

    import matplotlib

    fonts = (Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("*.ttf")
    return sorted(f for f in fonts if any(fnmatch.fnmatch(f.stem, p) for p in TEXT_FONTS))


def rendered_digits(fonts=None, size: int = 200) -> Iterator[tuple[int, str, object]]:
    """Digits 0-9 typed in each font (default: `bundled_fonts`), black on white, as
    ``(digit, font name, PIL image)``. Fonts without digit glyphs are skipped.

    Examples:
        >>> digit, font, image = next(rendered_digits(bundled_fonts()[:1]))
        >>> digit, image.size
        (0, (200, 200))
    """
    from PIL import Image, ImageDraw, ImageFont

    for path in fonts if fonts is not None else bundled_fonts():
        try:
            font = ImageFont.truetype(str(path), int(size * 0.6))
        except OSError:
            continue
        for digit in range(10):
            box = font.getbbox(str(digit))
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                break
            image = Image.new("L", (size, size), 255)
            ImageDraw.Draw(image).text((size / 2, size / 2), str(digit), font=font, fill=0, anchor="mm")
            yield digit, Path(path).stem, image


def drawn_digits(count: int, seed: int = 0, canvas: int = 280) -> Iterator[tuple[int, dict, bytes]]:
    """Digits drawn as pen strokes on a canvas, saved as PNG the way drawing apps export them.

    Pen widths 2-20 px, random slant, size and position; a third each dark-on-white,
    light-on-black, and dark ink on a transparent background. Yields ``(digit, style, png bytes)``.

    Examples:
        >>> digit, style, png = next(drawn_digits(1))
        >>> digit, png[:4]
        (0, b'\\x89PNG')
    """
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    kinds = ("white paper", "black canvas", "transparent")
    for index in range(count):
        digit, kind = index % 10, kinds[(index // 10) % 3]
        pen = int(rng.integers(2, 21))
        tall = rng.uniform(0.35, 0.85) * canvas
        slant, squash = rng.uniform(-0.25, 0.25), rng.uniform(0.75, 1.15)
        centre = rng.uniform(0.5 * tall, canvas - 0.5 * tall, size=2)
        ink = Image.new("L", (canvas, canvas), 0)
        draw = ImageDraw.Draw(ink)
        for stroke in STROKES[digit]:
            points = np.asarray(stroke) - 0.5
            x = (points[:, 0] * squash + slant * -points[:, 1]) * tall + centre[0]
            y = points[:, 1] * tall + centre[1]
            xy = [(float(a), float(b)) for a, b in zip(x, y, strict=True)]
            draw.line(xy, fill=255, width=pen, joint="curve")
            for a, b in (xy[0], xy[-1]):  # round pen ends
                draw.ellipse((a - pen / 2, b - pen / 2, a + pen / 2, b + pen / 2), fill=255)
        if kind == "white paper":
            picture = Image.eval(ink, lambda v: 255 - v)
        elif kind == "black canvas":
            picture = ink
        else:
            picture = Image.new("RGBA", ink.size, (0, 0, 0, 0))
            picture.putalpha(ink)
        buffer = io.BytesIO()
        picture.save(buffer, "PNG")
        yield digit, {"style": kind, "pen": pen}, buffer.getvalue()


HANDED_OVER = {
    "tight": "dark on white, cropped tight to the ink",
    "margin": "dark on white, with a margin of a quarter of the digit's longer side",
    "4x": "dark on white, cropped tight and enlarged 4x (bilinear)",
}


def handed_over(digit: np.ndarray, form: str) -> np.ndarray:
    """A scanned digit (uint8, light ink on black) as a user hands it over: one of `HANDED_OVER`.

    Examples:
        >>> digit = np.zeros((16, 16), "uint8"); digit[2:14, 7:9] = 255
        >>> handed_over(digit, "tight").shape, handed_over(digit, "4x").shape
        ((12, 2), (48, 8))
        >>> int(handed_over(digit, "margin")[0, 0])
        255
    """
    from PIL import Image

    if form not in HANDED_OVER:
        raise ValueError(f"unknown form {form!r}; known: {', '.join(HANDED_OVER)}")
    rows, cols = np.flatnonzero(digit.max(1) > 0), np.flatnonzero(digit.max(0) > 0)
    tight = 255 - np.asarray(digit, "uint8")[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    if form == "margin":
        return np.pad(tight, max(1, max(tight.shape) // 4), constant_values=255)
    if form == "4x":
        height, width = tight.shape
        return np.asarray(Image.fromarray(tight).resize((4 * width, 4 * height), Image.BILINEAR))
    return tight


def write_handed_over(digits, form: str, folder) -> list[Path]:
    """Save every digit `handed_over` in `form` as ``folder/NNNNN.png``; returns the paths.

    Examples:
        >>> import tempfile
        >>> digit = np.zeros((16, 16), "uint8"); digit[2:14, 7:9] = 255
        >>> [p.name for p in write_handed_over([digit], "tight", tempfile.mkdtemp())]
        ['00000.png']
    """
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, digit in enumerate(digits):
        path = folder / f"{index:05d}.png"
        Image.fromarray(handed_over(digit, form)).save(path)
        paths.append(path)
    return paths
