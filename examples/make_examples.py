"""Make the example pictures the README and the "Your own digits" page use (seeded, reproducible).

    python examples/make_examples.py

- ``my_digit.jpg``: a 4 drawn with a pen in a corner of a photographed grey page (1200x900 JPEG);
- ``transparent_7.png``: a 7 drawn in a drawing app, exported on a transparent background.
"""

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent


def pen(draw, points, width, fill):
    draw.line(points, fill=fill, width=width, joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=fill)


def photographed_four(path):
    rng = np.random.default_rng(4)
    page = Image.new("L", (1200, 900), 0)
    draw = ImageDraw.Draw(page)
    pen(draw, [(1000, 620), (930, 760), (1050, 755)], 7, 255)  # the open 4 people write
    pen(draw, [(1025, 640), (1020, 830)], 7, 255)
    ink = np.asarray(page, "float32") / 255
    paper = 205 + 30 * np.linspace(-1, 1, 1200)[None, :] + rng.normal(0, 5, ink.shape)
    photo = Image.fromarray(np.clip(paper * (1 - ink) + 40 * ink, 0, 255).astype("uint8"))
    photo = photo.filter(ImageFilter.GaussianBlur(1.0)).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=75)
    path.write_bytes(buffer.getvalue())


def transparent_seven(path):
    drawing = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    pen(ImageDraw.Draw(drawing), [(70, 60), (210, 70), (120, 230)], 14, (20, 20, 20, 255))
    drawing.save(path)


if __name__ == "__main__":
    photographed_four(HERE / "my_digit.jpg")
    transparent_seven(HERE / "transparent_7.png")
    print(f"wrote {HERE / 'my_digit.jpg'} and {HERE / 'transparent_7.png'}")
