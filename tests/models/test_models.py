"""The five families: shapes, timestep layouts, serialization, recipes and argument checks.

Runs under any Keras backend (CI runs this module under TensorFlow and JAX)."""

import keras
import numpy as np
import pytest

import seqmnist_zoo
from seqmnist_zoo import (
    InvalidArgumentError,
    WeightsError,
    compile_model,
    get_model,
    get_model_spec,
    list_models,
)

FAMILIES = list_models()
SMALL = {"lstm": 8, "gru": 8, "bilstm": 8, "simple_rnn": 8, "stacked_lstm": (8, 6)}


def small(name, **kwargs):
    return get_model(name, **{"units": SMALL[name], **kwargs})


@pytest.fixture(scope="module")
def digits():
    return np.random.default_rng(0).integers(0, 256, size=(4, 28, 28)).astype("uint8")


@pytest.mark.parametrize("name", FAMILIES)
def test_factory_is_exported_and_matches_param_arithmetic(name):
    assert getattr(seqmnist_zoo, name).__name__ == name
    model = small(name, timesteps=16, classes=7)
    assert model.output_shape == (None, 7)
    expected = get_model_spec(name).count_params(timesteps=16, units=SMALL[name], classes=7)
    assert model.count_params() == expected


@pytest.mark.parametrize("name", FAMILIES)
def test_default_size_matches_model_info(name):
    model = get_model(name)
    assert model.count_params() == seqmnist_zoo.model_info(name)["num_params"]
    assert model.name == name


@pytest.mark.parametrize("timesteps", [1, 7, 16, 28, 49, 112, 784])
def test_every_divisor_layout_reads_the_whole_image(timesteps, digits):
    model = get_model("gru", units=4, timesteps=timesteps)
    assert model.get_layer("timesteps").output.shape == (None, timesteps, 784 // timesteps)
    assert model.predict(digits, verbose=0).shape == (4, 10)


@pytest.mark.parametrize("timesteps", [0, 27, 785, -28, 28.0, "28", True])
def test_bad_timesteps_lists_valid_values(timesteps):
    with pytest.raises(InvalidArgumentError, match=r"valid values: \[1, 2, 4, 7, 8, 14, 16"):
        get_model("lstm", timesteps=timesteps)


def test_raw_uint8_and_float_pixels_give_the_same_answer(digits):
    model = small("lstm")
    from_uint8 = model.predict(digits, verbose=0)
    from_float = model.predict(digits.astype("float32"), verbose=0)
    np.testing.assert_allclose(from_uint8, from_float, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(from_uint8.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name,width", [("lstm", 8), ("bilstm", 16), ("stacked_lstm", 6),
                                        ("gru", 8), ("simple_rnn", 8)])
def test_include_top_false_returns_last_hidden_state(name, width, digits):
    model = small(name, include_top=False)
    assert model.output_shape == (None, width)
    assert model.predict(digits, verbose=0).shape == (4, width)


def test_logits_head(digits):
    model = small("gru", classifier_activation=None)
    assert not np.allclose(model.predict(digits, verbose=0).sum(axis=1), 1.0)


@pytest.mark.parametrize("name", FAMILIES)
def test_keras_file_round_trip_without_custom_objects(name, digits, tmp_path):
    model = small(name, timesteps=14, dropout=0.1)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(model.predict(digits, verbose=0),
                               restored.predict(digits, verbose=0), rtol=1e-6, atol=1e-6)


def test_recurrent_layers_stay_cudnn_eligible():
    for name in FAMILIES:
        for layer in get_model(name, units=SMALL[name])._flatten_layers():
            cell_layer = getattr(layer, "forward_layer", layer)
            if isinstance(cell_layer, (keras.layers.LSTM, keras.layers.GRU)):
                assert cell_layer.activation.__name__ == "tanh"
                assert cell_layer.recurrent_activation.__name__ == "sigmoid"
                assert cell_layer.recurrent_dropout == 0 and not cell_layer.unroll
                assert cell_layer.use_bias
            if isinstance(cell_layer, keras.layers.GRU):
                assert cell_layer.reset_after


def test_simple_rnn_recipe_clips_gradients():
    recipe = get_model_spec("simple_rnn").recipe
    assert recipe.clipnorm == 1.0
    model = get_model("simple_rnn", units=8, compile=True)
    assert float(model.optimizer.clipnorm) == recipe.clipnorm
    assert float(model.optimizer.learning_rate) == pytest.approx(recipe.learning_rate)
    assert get_model("lstm", units=8, compile=True).optimizer.clipnorm is None


def test_compile_with_cosine_schedule_and_logits():
    model = compile_model(small("gru", classifier_activation=None), steps_per_epoch=10)
    schedule = model.optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "CosineDecay"
    assert schedule["config"]["decay_steps"] == get_model_spec("gru").recipe.epochs * 10
    assert model.loss.get_config()["from_logits"] is True


def test_user_weights_file_round_trip(digits, tmp_path):
    model = small("bilstm")
    path = tmp_path / "mine.weights.h5"
    model.save_weights(path)
    loaded = small("bilstm", weights=str(path))
    np.testing.assert_allclose(model.predict(digits, verbose=0), loaded.predict(digits, verbose=0),
                               rtol=1e-6, atol=1e-6)
    headless = small("bilstm", weights=path, include_top=False)
    features = keras.Model(model.input, model.get_layer("bilstm").output)
    np.testing.assert_allclose(headless.predict(digits, verbose=0),
                               features.predict(digits, verbose=0), rtol=1e-6, atol=1e-6)
    with pytest.raises(WeightsError, match="could not load"):
        get_model("bilstm", units=4, weights=str(path))
    with pytest.raises(WeightsError) as caught:  # another family's file: Keras' words, then advice
        get_model("lstm", units=8, weights=str(path))
    assert ":;" not in str(caught.value) and "family it was trained as" in str(caught.value)
    assert "needs" in str(caught.value) and len(str(caught.value)) < 400  # short enough to read whole
    assert "holds weights for: bidirectional, dense" in str(caught.value)  # what the file is
    assert caught.value.exit_code == 2  # the user's file: a mistake in what was asked
    text = tmp_path / "notes.weights.h5"
    text.write_text("not weights")
    with pytest.raises(WeightsError, match="is not a Keras weights file .not HDF5.; accepted: a .weights.h5"):
        get_model("lstm", units=8, weights=str(text))


@pytest.mark.parametrize("kwargs,message", [
    ({"units": 0}, "units must be a positive integer"),
    ({"units": 8.5}, "units must be a positive integer"),
    ({"units": (8, 8)}, "units must be a positive integer"),
    ({"classes": 0}, "classes must be a positive integer"),
    ({"classifier_activation": "softmaxx"}, "not a Keras activation"),
    ({"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
    ({"weights": "imagenet"}, "neither a pretrained tag"),
    ({"weights": "missing/dir/w.weights.h5"}, "does not exist; accepted: a pretrained tag"),
    ({"weights": 3}, "weights must be None, a tag"),
])
def test_bad_arguments_say_what_is_accepted(kwargs, message):
    with pytest.raises((InvalidArgumentError, WeightsError), match=message):
        get_model("lstm", **kwargs)


def test_stacked_lstm_needs_one_width_per_layer():
    with pytest.raises(InvalidArgumentError, match="one width per layer"):
        get_model("stacked_lstm", units=64)
    assert len(get_model("stacked_lstm", units=(4, 4, 4)).layers) == 7


def test_weights_file_must_be_a_weights_h5(tmp_path):
    other = tmp_path / "model.keras"
    other.write_bytes(b"x")
    with pytest.raises(InvalidArgumentError, match=r"'\.weights\.h5'"):
        get_model("gru", weights=str(other))


def test_pixels_divided_by_255_are_read_like_the_raw_pixels(mnist, tmp_path):
    """Tutorials feed x / 255.: the model reads that scale too, saved and loaded or not."""
    from seqmnist_zoo.inference.reading import read_along

    _, (x, y) = mnist
    x, y = x[:500], y[:500]
    model = get_model("gru", weights="mnist")
    raw = model.predict(x, verbose=0)
    assert (raw.argmax(1) == y).mean() > 0.98
    for scaled in (x / 255.0, (x / 255.0).astype("float32")):
        assert np.allclose(model.predict(scaled, verbose=0), raw, atol=1e-5)
        assert np.allclose(np.asarray(model(scaled[:50])), raw[:50], atol=1e-5)
    model.save(tmp_path / "gru.keras")
    loaded = keras.saving.load_model(tmp_path / "gru.keras")
    assert np.allclose(loaded.predict(x / 255.0, verbose=0), raw, atol=1e-5)
    beliefs = read_along(model, x[:20] / 255.0)
    assert (beliefs[:, -1].argmax(-1) == raw[:20].argmax(1)).all()
