"""Pages as people photograph them: ruled paper, a stain, a shadow, two digits, and any crop at all.

The digits are drawn here as pen strokes (`tools.realworld.STROKES`), so no test depends
on the fonts a machine has.
"""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from seqmnist_zoo.errors import NoDigitError, SeqMnistZooError
from seqmnist_zoo.inference.predict import predict_digits
from seqmnist_zoo.inputs.marks import ink_grain
from seqmnist_zoo.inputs.preprocess import normalize_digit, normalize_digits, prepare_each
from tools.realworld import STROKES


def draw(page: Image.Image, digit: int, box: tuple[int, int, int], pen: int = 8, ink: int = 30):
    """Write `digit` with a pen on `page`, in the square box (left, top, side)."""
    left, top, side = box
    pen_draw = ImageDraw.Draw(page)
    for stroke in STROKES[digit]:
        xy = [(left + x * side, top + y * side) for x, y in stroke]
        pen_draw.line(xy, fill=ink, width=pen, joint="curve")
        for a, b in (xy[0], xy[-1]):
            pen_draw.ellipse((a - pen / 2, b - pen / 2, a + pen / 2, b + pen / 2), fill=ink)
    return page


def paper(size=(600, 400), tone=235):
    return Image.new("L", size, tone)


def test_a_digit_on_ruled_paper_is_read_not_the_ruling():
    page = paper()
    lines = ImageDraw.Draw(page)
    for y in range(20, 400, 32):
        lines.line([(0, y), (600, y)], fill=110, width=2)
    draw(page, 4, (240, 90, 200))
    for name in ("bilstm", "simple_rnn"):
        answer = predict_digits(name, page)[0]
        assert answer.digit == 4, (name, answer)


def test_squared_paper_is_no_digit_and_its_digit_is_read():
    page = paper()
    grid = ImageDraw.Draw(page)
    for x in range(0, 600, 30):
        grid.line([(x, 0), (x, 400)], fill=120, width=1)
    for y in range(0, 400, 30):
        grid.line([(0, y), (600, y)], fill=120, width=1)
    draw(page, 7, (200, 100, 180))
    assert predict_digits("lstm", page)[0].digit == 7


def test_a_stain_away_from_the_digit_is_left_aside():
    page = draw(paper(), 3, (30, 30, 150))
    ImageDraw.Draw(page).ellipse((330, 150, 540, 360), fill=90)  # a dark, round blot
    for name in ("bilstm", "gru"):
        assert predict_digits(name, page)[0].digit == 3


def test_a_soft_shadow_does_not_reach_the_digit_the_model_sees():
    clean = np.asarray(draw(paper(), 5, (300, 100, 200)), "float32")
    rows, cols = np.mgrid[0:400, 0:600]
    shadow = 110 * np.clip(1 - np.hypot(rows - 400, cols) / 450, 0, 1)  # darker to the lower left
    shaded = clean - shadow
    seen_clean, seen_shaded = normalize_digit(clean), normalize_digit(shaded)
    assert np.abs(seen_clean.astype(int) - seen_shaded.astype(int)).mean() < 6
    assert (seen_shaded[seen_clean == 0] > 40).sum() <= 8  # no grey wedge beside the strokes
    assert predict_digits("lstm", shaded)[0].digit == 5


def test_two_digits_side_by_side_are_counted_and_each_can_be_read(run_cli, tmp_path):
    page = draw(draw(paper(), 4, (100, 100, 180)), 2, (330, 100, 180))
    with pytest.warns(UserWarning, match="2 digit-sized marks side by side"):
        normalize_digit(np.asarray(page, "float32"))
    assert [p.digit for p in predict_digits("bilstm", page, each_digit=True)] == [4, 2]
    page.save(tmp_path / "42.png")
    code, out, err = run_cli("predict", "bilstm", tmp_path / "42.png", "--each-digit", "--json")
    answers = json.loads(out)
    assert code == 0 and [a["image"].rsplit("#", 1)[1] for a in answers] == ["1", "2"]
    assert [a["top"][0]["digit"] for a in answers] == [4, 2]
    code, out, err = run_cli("predict", "bilstm", tmp_path / "42.png")
    assert code == 0 and "2 digit-sized marks" in err and len(out.splitlines()) == 1
    code, out, err = run_cli("predict", "bilstm", tmp_path / "42.png", "--json")
    [answer] = json.loads(out)  # the warning travels with the answer, not only on stderr
    assert code == 0 and "2 digit-sized marks side by side" in answer["warnings"][0]
    with pytest.warns(UserWarning):
        [read] = predict_digits("bilstm", page)
    assert len(read.warnings) == 1 and "2 digit-sized marks" in read.warnings[0]


def test_pieces_of_one_digit_are_one_digit():
    page = paper()
    pen = ImageDraw.Draw(page)
    pen.line([(250, 80), (350, 80)], fill=30, width=9)  # a 5's bar, lifted off its body
    draw(page, 5, (215, 70, 180))
    cut = np.asarray(page, "float32").copy()
    cut[95:110] = 235  # the pen skipped just under the bar
    assert len(normalize_digits(cut)) == 1


# Any crop, size, polarity and contrast: a 28x28 digit or the zoo's own error, nothing else.
@st.composite
def pictures(draw_from):
    height = draw_from(st.integers(1, 72))
    width = draw_from(st.integers(8 if height < 8 else 1, 72))
    paper_tone = draw_from(st.integers(0, 255))
    ink_tone = draw_from(st.integers(0, 255))
    picture = Image.new("L", (width, height), paper_tone)
    pen = ImageDraw.Draw(picture)
    for _ in range(draw_from(st.integers(0, 4))):
        x0, x1 = draw_from(st.integers(-4, width + 4)), draw_from(st.integers(-4, width + 4))
        y0, y1 = draw_from(st.integers(-4, height + 4)), draw_from(st.integers(-4, height + 4))
        pen.line([(x0, y0), (x1, y1)], fill=ink_tone, width=draw_from(st.integers(1, 12)))
    values = np.asarray(picture, "float32")
    noise = draw_from(st.sampled_from([0.0, 2.0, 10.0, 40.0]))
    seed = draw_from(st.integers(0, 2**16))
    values = values + np.random.default_rng(seed).normal(0, noise, values.shape)
    if draw_from(st.booleans()):
        values = np.round(np.clip(values, 0, 255))
    return np.clip(values, 0, 255)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pictures())
def test_any_picture_gives_a_digit_or_the_zoos_error(picture):
    try:
        digit = normalize_digit(picture)
    except SeqMnistZooError:
        return
    assert digit.shape == (28, 28) and digit.dtype == np.uint8 and digit.max() == 255


@settings(max_examples=200, deadline=None)
@given(height=st.integers(8, 64), width=st.integers(8, 64), contrast=st.integers(64, 255),
       light_paper=st.booleans(), pen=st.integers(1, 6), data=st.data())
def test_a_clear_stroke_is_never_refused(height, width, contrast, light_paper, pen, data):
    """Ink that stands out is a digit to read, however tight the crop (strokes may touch edges)."""
    x0, x1 = data.draw(st.integers(0, width - 1)), data.draw(st.integers(0, width - 1))
    y0, y1 = data.draw(st.integers(0, height - 1)), data.draw(st.integers(0, height - 1))
    if max(abs(x1 - x0), abs(y1 - y0)) < 4:
        y1 = min(height - 1, y0 + 4) if y0 + 4 < height else y0 - 4
    picture = Image.new("L", (width, height), 0)
    ImageDraw.Draw(picture).line([(x0, y0), (x1, y1)], fill=contrast, width=pen)
    values = np.asarray(picture, "float32")
    if values.mean() > 0.6 * contrast:
        return  # the stroke fills the picture: no paper left to tell it from
    digit = normalize_digit(255 - values if light_paper else values, invert=light_paper)
    assert digit.shape == (28, 28) and digit.max() == 255


def test_a_short_dash_is_a_mark_not_a_scatter():
    # found by the fuzz test above: a 3-px pen dash 5 px long, alone on a 48-px page, has no ink
    # one grain away along most of it, like a speck of noise; one dash is no scatter
    picture = Image.new("L", (48, 48), 0)
    ImageDraw.Draw(picture).line([(1, 0), (1, 4)], fill=64, width=3)
    digit = normalize_digit(np.asarray(picture, "float32"), invert=False)
    assert digit.shape == (28, 28) and digit.max() == 255


def test_blank_uniform_and_noise_pictures_are_no_digit():
    rng = np.random.default_rng(3)
    for blank in (np.full((40, 30), 200.0), np.zeros((16, 16)), rng.normal(128, 20, (64, 64)),
                  rng.normal(230, 3, (300, 400))):
        with pytest.raises(NoDigitError):
            normalize_digit(np.clip(blank, 0, 255))


def test_a_noise_picture_is_refused_as_noise_not_as_faint_ink():
    # strong speckle: its brightest dots stand far above the 24-level bar, so that bar is not why
    noise = np.random.default_rng(0).integers(0, 256, (100, 100)).astype("float32")
    with pytest.raises(NoDigitError, match="looks like noise") as refused:
        normalize_digit(noise)
    assert "at least 24" not in str(refused.value)
    with pytest.raises(NoDigitError, match="at least 24 is needed"):
        normalize_digit(np.full((40, 30), 200.0))


@pytest.mark.parametrize(("side", "density"), [(side, density) for side in (16, 28, 64, 200)
                                                for density in (0.5, 0.2, 0.05, 0.01, 0.002)
                                                if side * side * density >= 4])  # a few dots at least
def test_black_and_white_noise_is_refused_as_scattered_ink(side, density):
    # every pixel pure black or white: the grey-level noise test cannot tell it from strokes
    dots = np.random.default_rng(side).random((side, side)) < density
    for picture in (np.where(dots, 0.0, 255.0), np.where(dots, 255.0, 0.0)):
        with pytest.raises(NoDigitError, match="scattered like noise"):
            normalize_digit(picture)


@pytest.mark.parametrize("speck", [2, 3, 5, 10])
@pytest.mark.parametrize("density", [0.05, 0.2, 0.45])
def test_enlarged_speckle_is_refused_as_scattered_ink(speck, density):
    # noise enlarged by nearest neighbour: every pixel has ink neighbours, but one speck away not
    # (at 45% the reader may take either tone for ink: the grain is the finer of ink and paper)
    specks = np.random.default_rng(speck).random((24, 24)) < density
    picture = np.where(np.kron(specks, np.ones((speck, speck), bool)), 0.0, 255.0)
    with pytest.raises(NoDigitError, match=f"neighbours {speck} px away are ink no more often"):
        normalize_digit(picture)


def test_a_thick_pen_on_a_large_page_is_still_a_digit():
    # the grain is the pen's width (12 px; the 200 px page is 16 grains a side, so it is judged):
    # the 7's strokes are ink one pen-width along them
    page = np.full((200, 200), 255.0)
    page[40:52, 50:150] = 0
    for step in range(0, 110, 2):
        page[52 + step:62 + step, 138 - step // 2:150 - step // 2] = 0
    assert ink_grain(page < 128) == 12
    assert normalize_digit(page).max() == 255


def test_an_unexpected_failure_is_that_pictures_error_not_the_batchs(monkeypatch):
    from seqmnist_zoo.inputs import preprocess

    real = preprocess.normalize_digit

    def flaky(gray, invert=None):
        if gray.shape == (30, 30):
            raise IndexError("index 0 is out of bounds")
        return real(gray, invert)

    monkeypatch.setattr(preprocess, "normalize_digit", flaky)
    good = np.full((40, 40), 240.0)
    good[8:32, 18:22] = 20
    items = prepare_each([good, np.full((30, 30), 240.0), good])
    assert [item.ok for item in items] == [True, False, True]
    assert "unexpected IndexError" in str(items[1].error) and "array[1]" in str(items[1].error)
