"""MNIST's own recipe applied to pictures people bring: the cases that used to be misread."""

import io
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from seqmnist_zoo import get_model, list_models
from seqmnist_zoo.errors import InvalidArgumentError, NoDigitError
from seqmnist_zoo.inference.predict import predict_digits
from seqmnist_zoo.inputs.preprocess import has_light_background, normalize_digit, prepare_digits, prepare_each

FONT = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")  # ships with matplotlib


def page(digit, size=(1200, 900), at=(60, 60), height=90, paper=235, ink=30, mode="L"):
    """A digit typed `height` px tall at `at` on a page of `size`."""
    picture = Image.new(mode, size, paper if mode == "L" else (paper,) * 3)
    font = ImageFont.truetype(FONT, int(height * 1.35))
    ImageDraw.Draw(picture).text(at, str(digit), font=font, fill=ink if mode == "L" else (ink,) * 3)
    return picture


def jpeg(picture, quality=70):
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def transparent(digit, side=280):
    picture = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    font = ImageFont.truetype(FONT, int(side * 0.7))
    ImageDraw.Draw(picture).text((side / 2, side / 2), str(digit), font=font, fill=(0, 0, 0, 255),
                                 anchor="mm")
    return picture


def tight(digit):
    picture = page(digit, size=(300, 300), at=(40, 10), height=200)
    gray = np.asarray(picture)
    rows, cols = np.flatnonzero((gray < 128).any(1)), np.flatnonzero((gray < 128).any(0))
    return gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


# The pictures of the issue that `predict` misread before the reader existed.
CASES = {
    "a 3 small in a corner of a 1200x900 page": (3, page(3)),
    "a 7 small in a corner": (7, page(7, at=(1050, 760))),
    "an off-centre 5, JPEG": (5, jpeg(page(5, size=(640, 480), at=(420, 60), height=200, mode="RGB"))),
    "a small centred 3": (3, page(3, size=(600, 600), at=(280, 260), height=50)),
    "a transparent PNG with a black 3": (3, transparent(3)),
    "a digit cropped tight to its ink": (2, tight(2)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pictures_people_bring_are_read_right(case):
    digit, picture = CASES[case]
    prediction = predict_digits("bilstm", picture)[0]
    assert prediction.digit == digit and prediction.probability > 0.9, (case, prediction.top)


def test_blank_pages_are_no_digit_not_a_guess():
    for blank in (np.full((900, 1200), 240.0), np.random.default_rng(0).normal(200, 6, (300, 300))):
        with pytest.raises(NoDigitError, match="no digit found"):
            normalize_digit(blank)


def test_a_shadow_across_the_page_is_not_ink():
    shade = np.linspace(140, 240, 800)[None, :] * np.ones((600, 1))
    with pytest.raises(NoDigitError):
        normalize_digit(shade + np.random.default_rng(1).normal(0, 4, shade.shape))
    shaded = np.asarray(page(4, size=(800, 600), at=(300, 200), height=150), "float32") - (240 - shade)
    assert predict_digits("lstm", shaded)[0].digit == 4


def test_polarity_is_detected_both_ways_and_can_be_forced():
    gray = np.asarray(page(7, size=(400, 300), at=(150, 60), height=150), "float32")
    light_on_dark = 255 - gray
    assert has_light_background(gray) and not has_light_background(light_on_dark)
    same = normalize_digit(gray), normalize_digit(light_on_dark), normalize_digit(gray, invert=True)
    assert np.array_equal(same[0], same[1]) and np.array_equal(same[0], same[2])


def test_output_is_mnist_shaped():
    digit = normalize_digit(np.asarray(page(8, size=(500, 500), at=(30, 250), height=120), "float32"))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8 and digit.max() == 255
    rows, cols = np.flatnonzero(digit.max(1) > 90), np.flatnonzero(digit.max(0) > 90)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)  # fitted into 20x20
    mass = digit.astype(float) / digit.sum()
    centre = (mass.sum(1) @ np.arange(28), mass.sum(0) @ np.arange(28))
    assert np.allclose(centre, 14, atol=0.75)  # centred by mass, as MNIST was


def test_thin_pen_lines_on_a_big_canvas_survive():
    canvas = Image.new("L", (1000, 1000), 255)
    ImageDraw.Draw(canvas).line([(300, 200), (700, 200), (450, 800)], fill=0, width=2)  # a 7
    digit = normalize_digit(np.asarray(canvas, "float32"))
    assert (digit > 128).sum() >= 40  # strokes as solid as MNIST's, not a faint trace
    assert predict_digits("gru", canvas)[0].digit == 7


def test_raw_inputs_pass_unchanged_and_must_be_28x28():
    digit = np.random.default_rng(0).integers(0, 256, (28, 28)).astype("uint8")
    assert np.array_equal(prepare_digits(digit, raw=True)[0], digit)
    with pytest.raises(InvalidArgumentError, match="raw input must already be 28x28"):
        prepare_digits(np.zeros((56, 56)), raw=True)


def test_unit_floats_read_like_their_uint8_twins():
    gray = np.asarray(page(6, size=(300, 300), at=(100, 60), height=150), "float32")
    with pytest.warns(UserWarning, match=r"\[0, 1\]"):
        scaled = prepare_digits(gray / 255.0)
    assert np.abs(scaled.astype(int) - prepare_digits(gray).astype(int)).max() <= 1


def test_each_input_keeps_its_own_error(tmp_path):
    page(1, size=(200, 200), at=(80, 20), height=140).save(tmp_path / "one.png")
    Image.new("L", (200, 200), 250).save(tmp_path / "blank.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    items = prepare_each([tmp_path, np.zeros((4, 4))])
    assert [(i.source.split("/")[-1], i.ok) for i in items] == [
        ("blank.png", False), ("broken.png", False), ("one.png", True), ("array[1]", False)]
    assert isinstance(items[0].error, NoDigitError) and "blank.png" in str(items[0].error)
    with pytest.raises(NoDigitError, match=r"blank.png.*\(also failed, of 3 pictures: .*broken.png; "):
        prepare_digits(tmp_path)
    with pytest.raises(NoDigitError, match="blank.png") as one:  # one failure: its own error, no count
        prepare_digits([tmp_path / "blank.png", tmp_path / "one.png"])
    assert "also failed" not in str(one.value)


@pytest.mark.slow
def test_mnist_read_through_the_reader_keeps_every_familys_accuracy(mnist):
    _, (x, y) = mnist
    normalized = prepare_digits(x)
    for name in list_models(pretrained=True):
        model = get_model(name, weights="mnist")
        before = (model.predict(x, batch_size=2000, verbose=0).argmax(1) == y).mean()
        after = (model.predict(normalized, batch_size=2000, verbose=0).argmax(1) == y).mean()
        assert after >= before - 0.001, (name, before, after)
