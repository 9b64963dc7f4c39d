"""The fused CPU loops compute what Keras's own LSTM and GRU cells compute, forward and backward,
and leave the model an ordinary stock-layer model."""

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqmnist_zoo import get_model
from seqmnist_zoo.training import fused_rnn
from seqmnist_zoo.training.cpu_path import cpu_fast_path, cpu_matmul_dtype

L = keras.layers
LAYERS = {
    "lstm": lambda: L.LSTM(5),
    "lstm_sequences": lambda: L.LSTM(5, return_sequences=True),
    "lstm_backwards": lambda: L.LSTM(5, return_sequences=True, go_backwards=True),
    "lstm_state": lambda: L.LSTM(5, return_state=True),
    "bidirectional": lambda: L.Bidirectional(L.LSTM(5)),
    "bidirectional_sequences": lambda: L.Bidirectional(L.LSTM(5, return_sequences=True)),
    "gru": lambda: L.GRU(5),
    "gru_backwards": lambda: L.GRU(5, return_sequences=True, go_backwards=True),
    "stacked": lambda: keras.Sequential([L.LSTM(5, return_sequences=True), L.GRU(4)]),
}


def _outputs_and_gradients(model, x, weights, fused: bool, dtype="float32", chains=2, unroll_steps=64):
    context = (fused_rnn.fused_training(model, dtype, chains, unroll_steps) if fused
               else contextlib.nullcontext())
    with context:
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = model(x, training=True)
            out = out[0] if isinstance(out, (list, tuple)) else out
            loss = tf.reduce_sum(out * weights)
        grads = tape.gradient(loss, [x, *model.trainable_variables])
    return out.numpy(), [g.numpy() for g in grads]


def _model(kind: str):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((7, 3))
    out = LAYERS[kind]()(inputs)
    return keras.Model(inputs, out[0] if isinstance(out, (list, tuple)) else out)


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("chains,unroll_steps", [(1, 64), (2, 64), (2, 0), (1, 0)])  # 0: symbolic
def test_fused_loops_match_keras_forward_and_gradients(kind, chains, unroll_steps):
    model = _model(kind)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(9, 7, 3)).astype("float32"))  # 9: parts of unequal size
    weights = tf.constant(rng.normal(size=(9, *model.output_shape[1:])).astype("float32"))
    stock_out, stock_grads = _outputs_and_gradients(model, x, weights, fused=False)
    assert fused_rnn.fused_layers(model), "the layer was not fused, so nothing was compared"
    out, grads = _outputs_and_gradients(model, x, weights, fused=True, chains=chains,
                                        unroll_steps=unroll_steps)
    np.testing.assert_allclose(out, stock_out, rtol=1e-5, atol=1e-6)
    assert len(grads) == len(stock_grads)
    for fused_grad, stock_grad in zip(grads, stock_grads, strict=True):
        np.testing.assert_allclose(fused_grad, stock_grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm_sequences", "gru_backwards", "bidirectional"])
def test_bfloat16_matmuls_stay_close_to_float32(kind):
    model = _model(kind)
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(8, 7, 3)).astype("float32"))
    weights = tf.constant(rng.normal(size=(8, *model.output_shape[1:])).astype("float32"))
    stock_out, stock_grads = _outputs_and_gradients(model, x, weights, fused=False)
    out, grads = _outputs_and_gradients(model, x, weights, fused=True, dtype="bfloat16")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, stock_out, atol=2e-2)  # bf16 keeps ~3 significant digits
    for fused_grad, stock_grad in zip(grads, stock_grads, strict=True):
        scale = np.abs(stock_grad).max()
        assert np.abs(fused_grad - stock_grad).max() <= 0.05 * scale


def test_layers_the_loops_cannot_compute_exactly_keep_keras_loop():
    inputs = keras.Input((7, 3))
    layers = [L.LSTM(4, dropout=0.2), L.LSTM(4, recurrent_dropout=0.2), L.LSTM(4, activation="relu"),
              L.GRU(4, reset_after=False), L.SimpleRNN(4), L.LSTM(4, use_bias=False)]
    model = keras.Model(inputs, [layer(inputs) for layer in layers])
    assert fused_rnn.fused_layers(model) == {}


def test_a_masked_batch_falls_back_to_keras_loop():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 2))
    model = keras.Model(inputs, L.LSTM(3)(L.Masking(0.0)(inputs)))
    x = np.random.default_rng(0).normal(size=(4, 6, 2)).astype("float32")
    x[:, 4:] = 0.0  # the last two steps are masked
    expected = model(x, training=True).numpy()
    with fused_rnn.fused_training(model):
        np.testing.assert_allclose(model(x, training=True).numpy(), expected, rtol=1e-6)


def _record_loops(monkeypatch, name: str) -> list:
    """Patch the fused `name` loop to record, per call, whether it ran unrolled."""
    calls, real = [], getattr(fused_rnn, name)
    monkeypatch.setattr(fused_rnn, name, lambda *args, **kw: calls.append(kw["unroll"]) or real(*args, **kw))
    return calls


def test_only_training_calls_run_fused(monkeypatch):
    calls = _record_loops(monkeypatch, "lstm")
    model = _model("lstm")
    x = np.random.default_rng(0).normal(size=(4, 7, 3)).astype("float32")
    expected = model(x).numpy()
    with fused_rnn.fused_training(model, unroll_steps=6):  # the 7 steps are over it: symbolic
        np.testing.assert_array_equal(model(x).numpy(), expected)  # inference: Keras's own loop
        assert calls == []
        model(x, training=True)
    assert calls == [False, False]  # one symbolic loop per chain


def test_pixel_by_pixel_models_train_fused_as_a_symbolic_loop(monkeypatch):
    calls = _record_loops(monkeypatch, "gru")
    pixel_by_pixel = get_model("gru", units=4, timesteps=784)
    with cpu_fast_path(pixel_by_pixel, enabled=True) as path:
        assert path["fused"] == ["gru"]
        x = np.random.default_rng(0).random((2, 28, 28)).astype("float32")
        assert pixel_by_pixel(x, training=True).shape == (2, 10)
        assert pixel_by_pixel.get_layer("gru").unroll is False  # 784 steps: not unrolled
    assert calls == [False, False]


def test_fused_training_leaves_an_ordinary_model(tmp_path):
    model = get_model("bilstm", units=6)
    before = model.to_json()
    with fused_rnn.fused_training(model, "bfloat16"):
        assert len(fused_rnn.fused_layers(model)) == 2
    assert model.to_json() == before
    assert all("inner_loop" not in vars(layer) for layer in model._flatten_layers())
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")  # no custom_objects
    x = np.zeros((2, 28, 28), "uint8")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_unknown_matmul_dtype_is_refused():
    with pytest.raises(ValueError, match="matmul_dtype must be one of"):
        with fused_rnn.fused_training(get_model("gru", units=4), "float16"):
            pass


@pytest.mark.parametrize("name", ["lstm", "gru", "bilstm", "stacked_lstm", "simple_rnn"])
def test_the_cpu_fast_path_fuses_every_gated_family_and_trains_it(name, mnist):
    model = get_model(name, units=(8, 8) if name == "stacked_lstm" else 8)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=2)
    (x, y), _ = mnist
    before = [w.copy() for w in model.get_weights()]
    with cpu_fast_path(model, enabled=True) as path:
        history = model.fit(x[:256], y[:256], batch_size=64, epochs=1, verbose=0)
    expected = {"simple_rnn": 0, "lstm": 1, "gru": 1, "bilstm": 2, "stacked_lstm": 2}[name]
    assert len(path["fused"]) == expected
    assert path["matmul_dtype"] == (cpu_matmul_dtype() if expected else None)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_cpu_matmul_dtype_follows_the_cpu_and_the_override(monkeypatch):
    from seqmnist_zoo.errors import InvalidArgumentError

    monkeypatch.setenv("SEQMNIST_ZOO_CPU_MATMUL", "float32")
    assert cpu_matmul_dtype() == "float32"
    monkeypatch.setenv("SEQMNIST_ZOO_CPU_MATMUL", "int8")
    with pytest.raises(InvalidArgumentError, match="is not one of float32, bfloat16"):
        cpu_matmul_dtype()
    monkeypatch.delenv("SEQMNIST_ZOO_CPU_MATMUL")
    expected = "bfloat16" if fused_rnn.cpu_has_bfloat16_matmul() else "float32"
    assert cpu_matmul_dtype() == expected
