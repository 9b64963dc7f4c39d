"""The belief after every timestep: exact for one-way families, defined and tested for bilstm."""

import json

import numpy as np
import pytest
from PIL import Image

from seqmnist_zoo import get_model, list_models
from seqmnist_zoo.errors import InvalidArgumentError
from seqmnist_zoo.inference.reading import blanked_after, decided_at, read_along
from seqmnist_zoo.inference.reading_plots import reading_figure, write_reading_gif


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist[1][0][:64], mnist[1][1][:64]


@pytest.mark.parametrize("name", list_models(pretrained=True))
def test_last_step_is_the_models_answer(name, digits):
    x, y = digits
    model = get_model(name, weights="mnist")
    beliefs = read_along(model, x)
    assert beliefs.shape == (64, 28, 10) and np.allclose(beliefs.sum(-1), 1, atol=1e-5)
    assert np.allclose(beliefs[:, -1], model.predict(x, verbose=0), atol=1e-5)
    # a model that has read only the top rows knows less than one that has read them all
    assert (beliefs[:, 5].argmax(1) == y).mean() < (beliefs[:, -1].argmax(1) == y).mean()


def test_one_way_beliefs_depend_only_on_rows_read_so_far(digits):
    x, _ = digits
    model = get_model("gru", weights="mnist")
    altered = x.copy()
    altered[:, 20:] = 255 - altered[:, 20:]  # change only rows 21-28
    before, after = read_along(model, x), read_along(model, altered)
    assert np.allclose(before[:, :20], after[:, :20], atol=1e-5)
    assert not np.allclose(before[:, -1], after[:, -1], atol=1e-3)


def test_bilstm_reads_the_image_with_later_rows_blanked(digits):
    x, _ = digits
    model = get_model("bilstm", weights="mnist")
    beliefs = read_along(model, x[:4])
    prefix = blanked_after(x[:4], 28)[:, 9]  # rows 1-10 kept
    assert prefix[:, 10:].max() == 0 and np.array_equal(prefix[:, :10], x[:4, :10])
    assert np.allclose(beliefs[:, 9], model.predict(prefix, verbose=0), atol=1e-5)


def test_any_timesteps_logits_and_plugin_conventions():
    x = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype("float32")
    assert read_along(get_model("lstm", units=4, timesteps=112), x).shape == (3, 112, 10)
    logits = read_along(get_model("stacked_lstm", units=(4, 4), classifier_activation=None), x)
    assert np.allclose(logits.sum(-1), 1)
    with pytest.raises(InvalidArgumentError, match="'predictions' classifier layer"):
        read_along(get_model("gru", units=4, include_top=False), x)
    import keras

    plain = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(InvalidArgumentError, match="'timesteps' reshape layer"):
        read_along(plain, x)
    with pytest.raises(InvalidArgumentError, match=r"\(n, 28, 28\)"):
        read_along(get_model("gru", units=4), np.zeros((28, 27)))


def test_decided_at_and_pictures(tmp_path, digits):
    assert decided_at(np.eye(3)[[0, 1, 2, 2]]) == 3 and decided_at(np.eye(2)[[1, 1]]) == 1
    x, y = digits
    beliefs = read_along(get_model("lstm", weights="mnist"), x[:6])
    assert len(reading_figure(x[:6], y[:6], beliefs).axes) == 12
    gif = write_reading_gif(tmp_path / "r.gif", x[0], beliefs[0])
    assert Image.open(gif).n_frames == 28


def test_cli_read_prints_every_step_and_writes_a_gif(tmp_path, run_cli):
    code, out, err = run_cli("read", "lstm", "examples/my_digit.jpg", "--gif", tmp_path / "r.gif")
    assert code == 0, err
    steps = [line for line in out.splitlines() if line.strip().startswith("step")]
    assert len(steps) == 28 and steps[-1].split(": ")[1].startswith("4 (")
    assert "unchanged from step" in out and Image.open(tmp_path / "r.gif").n_frames == 28
    code, out, _ = run_cli("read", "bilstm", "examples/transparent_7.png", "--json")
    data = json.loads(out)
    assert code == 0 and data["answer"] == 7 and len(data["beliefs"]) == 28
    code, _, err = run_cli("read", "lstm", tmp_path / "missing.png")
    assert code != 0 and "no such file or folder" in err and err.count("\n") == 1


def test_cli_read_names_its_weights_and_says_the_readers_warnings_as_its_own_lines(tmp_path, run_cli):
    from PIL import Image, ImageDraw

    from seqmnist_zoo import get_model_spec

    page = Image.new("L", (200, 120), 255)
    draw = ImageDraw.Draw(page)
    draw.line([(40, 20), (40, 100)], fill=0, width=8)  # a 1
    draw.line([(120, 20), (170, 20), (140, 100)], fill=0, width=8)  # a 7
    page.save(tmp_path / "17.png")
    code, out, err = run_cli("read", "lstm", tmp_path / "17.png")
    assert code == 0, err
    assert f"(weights {get_model_spec('lstm').reader_weights})" in out.splitlines()[0]
    assert err.startswith("seqmnist-zoo: warning: ") and "2 digit-sized marks" in err
    assert "Warning" not in err and ".py:" not in err  # no Python warning lines


def test_read_along_takes_flat_vectors_and_pictures_and_says_what_it_takes(tmp_path):
    from PIL import Image

    from seqmnist_zoo import gru
    from seqmnist_zoo.errors import InvalidArgumentError

    model = gru(units=8)
    digits = np.zeros((2, 28, 28), "float32")
    digits[:, 6:22, 13:15] = 255
    same = read_along(model, digits)
    assert np.allclose(read_along(model, digits.reshape(2, 784)), same)
    page = Image.new("L", (120, 160), 240)
    page.paste(20, (55, 30, 63, 130))
    page.save(tmp_path / "one.png")
    assert read_along(model, tmp_path / "one.png").shape == (1, 28, 10)
    assert read_along(model, str(tmp_path / "one.png")).shape == (1, 28, 10)
    with pytest.raises(InvalidArgumentError, match=r"\(n, 28, 28\).*got shape \(2, 10\)"):
        read_along(model, np.zeros((2, 10)))
    with pytest.raises(InvalidArgumentError, match=r"or pictures \(paths or PIL images\)"):
        read_along(model, {"not": "an image"})
    both = read_along(model, [tmp_path / "one.png", str(tmp_path / "one.png")])  # a list, as predict_digits
    assert both.shape == (2, 28, 10) and np.allclose(both[0], both[1])
