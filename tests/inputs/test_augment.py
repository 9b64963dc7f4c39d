"""The handwriting rewrite of MNIST: what it adds to a digit, and that it is reproducible."""

import inspect

import numpy as np
import pytest

from seqmnist_zoo.inputs.augment import handwriting_variants, written_the_continental_way
from seqmnist_zoo.models.specs import Recipe


def _bar(top=4, bottom=24, left=13, right=15):
    digit = np.zeros((28, 28), "uint8")
    digit[top:bottom, left:right] = 255
    return digit


def _changed(digit, label):
    """The first rewrite (over seeds) that changes the digit, and the pixels it added."""
    for seed in range(50):
        out = written_the_continental_way(digit, label, np.random.default_rng(seed), open_fours=True)
        added = (out > 127) & ~(digit > 127)
        if added.any():
            return out, added
    pytest.fail(f"no seed gave the {label} its continental stroke")


def test_a_one_gets_an_upstroke_down_to_the_left_of_its_top():
    _, added = _changed(_bar(), 1)
    rows, cols = np.nonzero(added)
    assert cols.min() < 13  # to the left of the stem
    assert rows.min() <= 6  # starting at the top


def test_a_nine_gets_a_tail_curling_back_to_the_left_at_the_bottom():
    nine = _bar()
    nine[4:12, 8:15] = 255  # a loop-ish head on the stem
    _, added = _changed(nine, 9)
    rows, cols = np.nonzero(added)
    assert rows.min() >= 14 and cols.min() < 13  # low, and left of the stem


def _added_over_seeds(digit, label, **style):
    for seed in range(100):
        out = written_the_continental_way(digit, label, np.random.default_rng(seed), **style)
        yield (out > 127) & ~(digit > 127)


def test_long_upstrokes_reach_further_down_than_the_usual_ones():
    def lowest(**style):  # the upstroke's lowest row, the foot (rows 22 and below) left out
        return max(int(np.nonzero(added[:22])[0].max()) for added in _added_over_seeds(_bar(), 1, **style)
                   if added[:22].any())

    usual, long = lowest(), lowest(long_upstrokes=True)
    assert usual <= 15 < 17 <= long, (usual, long)


def test_g_nines_have_their_head_raised_and_a_bowl_along_the_bottom():
    nine = _bar()
    nine[4:12, 8:15] = 255  # the head: a loop-ish block on the stem, rows 4-11

    def g_shaped(out):
        return out[11, 8:12].max() < 128 and out[21:, :11].max() > 127

    outs = [written_the_continental_way(nine, 9, np.random.default_rng(seed), g_nines=True)
            for seed in range(40)]
    assert any(g_shaped(out) for out in outs)
    assert not any(g_shaped(written_the_continental_way(nine, 9, np.random.default_rng(seed)))
                   for seed in range(40))


def test_a_seven_gets_a_crossbar_and_other_digits_are_left_alone():
    seven = _bar()
    seven[4:6, 6:15] = 255
    _, added = _changed(seven, 7)
    rows, _ = np.nonzero(added)
    assert 10 <= rows.min() and rows.max() <= 18  # across the middle of the stem
    for label in (0, 2, 3, 4, 5, 6, 8):
        assert (written_the_continental_way(seven, label, np.random.default_rng(0)) == seven).all()


def test_a_four_is_opened_its_stem_starting_at_the_crossbar_only_when_asked():
    four = _bar(left=16, right=18)  # the stem, top to bottom
    four[4:15, 8:10] = 255  # the left arm
    four[15:17, 8:21] = 255  # the crossbar
    for seed in range(50):
        assert (written_the_continental_way(four, 4, np.random.default_rng(seed)) == four).all()
        out = written_the_continental_way(four, 4, np.random.default_rng(seed), open_fours=True)
        if (out != four).any():
            break
    else:
        pytest.fail("no seed opened the 4")
    assert not ((out > 127) & ~(four > 127)).any()  # nothing added
    assert out[:13, 14:].max() == 0  # the stem above the crossbar is gone
    assert (out[4:15, 8:10] == 255).all() and (out[15:, :] == four[15:, :]).all()  # arm, bar, foot kept


def test_without_open_fours_a_fours_rewrite_is_what_it_was_before_fours_could_be_opened():
    four = _bar()
    four[15:17, 6:20] = 255
    fours = np.stack([four] * 4)
    # a 4 draws nothing from its random stream unless open_fours: its rewrite is a label-less one
    assert (handwriting_variants(fours, [4] * 4, seed=2, workers=1)
            == handwriting_variants(fours, None, seed=2, workers=1)).all()


def test_each_digits_rewrite_depends_only_on_the_seed_and_its_index():
    digits = np.stack([_bar(left=10 + i % 5, right=13 + i % 5) for i in range(6)])
    labels = [1, 7, 1, 9, 1, 7]
    alone = handwriting_variants(digits, labels, seed=4, workers=1)
    assert alone.shape == (6, 28, 28) and alone.dtype == np.uint8
    assert (handwriting_variants(digits, labels, seed=4, workers=1) == alone).all()
    shifted = handwriting_variants(digits[3:], labels[3:], seed=4, workers=1)
    assert (shifted != alone[3:]).any()  # the index counts, not only the digit
    assert (handwriting_variants(digits, labels, seed=5, workers=1) != alone).any()


def test_an_elastic_bend_moves_strokes_but_keeps_them_whole_and_inside_the_frame():
    from PIL import Image

    from seqmnist_zoo.inputs.augment import elastic_warp

    bar = _bar()
    bends = [np.asarray(elastic_warp(Image.fromarray(bar), np.random.default_rng(seed), 0.15))
             for seed in range(5)]
    for bent in bends:
        assert bent.shape == bar.shape and (bent != bar).any()
        assert 0.6 < (bent > 127).sum() / (bar > 127).sum() < 1.6  # bent, not erased or smeared
        assert bent[[0, -1]].max() == 0 and bent[:, [0, -1]].max() == 0
    assert any((a != b).any() for a, b in zip(bends, bends[1:], strict=False))
    still = np.asarray(elastic_warp(Image.fromarray(bar), np.random.default_rng(0), 0.0))
    assert (np.abs(still.astype(int) - bar) <= 1).all()


def test_every_rewrite_option_has_its_recipe_field():
    options = set(inspect.signature(handwriting_variants).parameters) - {"digits", "labels", "seed",
                                                                         "workers"}
    style = Recipe(elastic=True, open_fours=True, long_upstrokes=True, g_nines=True).rewrite_style()
    assert set(style) == options and all(style.values())
