"""One declared training run of a study: a small stock-Keras network, a budget, and measurements.

A run is a flat dictionary of settings (`seqmnist_zoo.studies.run_settings`), so that a study file can declare
recipes from tutorials as well as grids over timesteps, cells, learning rates and clipping:

- network: ``cell`` (``lstm``, ``gru``, ``simple_rnn``, or ``mlp`` for a flat dense network),
  ``units``, ``bidirectional``, ``readout`` (``last`` output, or the ``middle`` timestep's),
  ``projection`` (a Dense layer applied to every timestep before the recurrence, or null);
- input: ``timesteps`` T (each step reads 784 / T pixels) and ``layout``: ``reshape`` cuts the
  row-by-row pixel stream into T pieces (pieces may straddle rows), ``resize`` resamples the digit
  to T rows of 784 / T pixels so that every step is one whole row;
- training: ``optimizer``, ``learning_rate``, ``clipnorm`` (null: none), ``loss``
  (``crossentropy`` or ``mse`` on one-hot labels), ``batch_size``, and the budget: ``epochs``
  over ``train_samples`` digits, or a number of ``steps``.

Every run trains on the first 55,000 training digits (or the first ``train_samples``), is
measured on the last 5,000 at ``checkpoints`` points during training, and on the 10,000 test
digits at the end (the last weights, as the recipes do; no best-epoch selection).
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras
import numpy as np

from ..training.batches import fit_inputs, validation_inputs
from .gradients import GradientNormProbe, gradient_function, timestep_norms
from .run_settings import CELLS, settings_of

FIT_DIGITS, VALIDATION_DIGITS = 55_000, 5_000
# Below this test accuracy a run has learned next to nothing (chance is 10%).
STUCK_BELOW = 0.2
PROBE_DIGITS = 256
GRADIENT_DIGITS = 500


def sequences(images: np.ndarray, timesteps: int, layout: str = "reshape") -> np.ndarray:
    """Digits ``(n, 28, 28)`` in [0, 255] as float sequences ``(n, T, 784 // T)`` in [0, 1].

    Examples:
        >>> digits = np.arange(784, dtype="float32").reshape(1, 28, 28) % 256
        >>> sequences(digits, 16).shape, sequences(digits, 16, "resize").shape
        ((1, 16, 49), (1, 16, 49))
        >>> bool(np.all(sequences(digits, 28)[0, 1] == digits[0, 1] / 255))
        True
    """
    features = 784 // timesteps
    x = np.asarray(images, dtype="float32") / 255.0
    if layout == "reshape":
        return x.reshape(len(x), timesteps, features)
    resized = keras.ops.image.resize(x[..., None], (timesteps, features), interpolation="bilinear",
                                     antialias=True, data_format="channels_last")
    return np.clip(keras.ops.convert_to_numpy(resized)[..., 0], 0.0, 1.0)


def build_network(settings: dict[str, Any]) -> keras.Model:
    """The run's network from stock Keras layers, with a softmax over the ten digits.

    Examples:
        >>> model = build_network(settings_of({"cell": "simple_rnn", "units": 8, "epochs": 1}))
        >>> model.output.shape
        (None, 10)
    """
    timesteps = settings["timesteps"]
    inputs = keras.Input((timesteps, 784 // timesteps), name="sequence")
    x = inputs
    if settings["projection"]:
        x = keras.layers.Dense(settings["projection"], name="projection")(x)
    if settings["cell"] == "mlp":
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(settings["units"], activation="relu", name="hidden")(x)
    else:
        middle = settings["readout"] == "middle"
        layer = getattr(keras.layers, CELLS[settings["cell"]])(
            settings["units"], return_sequences=middle, name=settings["cell"])
        if settings["bidirectional"]:
            layer = keras.layers.Bidirectional(layer, name=f"bi{settings['cell']}")
        x = layer(x)
        if middle:
            x = x[:, timesteps // 2]
    outputs = keras.layers.Dense(10, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name=f"study_{settings['cell']}")


def _training_order(count: int, steps: int, batch_size: int, seed: int) -> np.ndarray:
    """The digits each step trains on: seeded shuffled passes, cut to exactly `steps` batches."""
    rng = np.random.default_rng(seed)
    passes = math.ceil(steps * batch_size / count)
    return np.concatenate([rng.permutation(count) for _ in range(passes)])[:steps * batch_size]


def budget(settings: dict[str, Any], fit_digits: int) -> tuple[int, int]:
    """``(total training steps, checkpoints)``: at most one checkpoint per step.

    Examples:
        >>> budget(settings_of({"steps": 1001, "checkpoints": 10}), 55000)
        (1001, 10)
        >>> budget(settings_of({"epochs": 2, "batch_size": 100, "checkpoints": 10}), 300)
        (6, 6)
    """
    if settings["steps"] is not None:
        total = int(settings["steps"])
    else:
        total = math.ceil(settings["epochs"] * fit_digits / settings["batch_size"])
    return total, min(settings["checkpoints"], total)


def _loss(settings):
    if settings["loss"] == "mse":
        return keras.losses.MeanSquaredError()
    return keras.losses.CategoricalCrossentropy()


def run_experiment(declared: dict[str, Any], seed: int, data) -> dict[str, Any]:
    """Train one declared run with `seed` and return its measurements as plain JSON data.

    `data` is ``((x_train, y_train), (x_test, y_test))`` as `load_mnist` returns it. The record
    holds the validation accuracy at each checkpoint, the test accuracy (all 10,000 digits and
    each 1,000-digit slice), the outcome (``ok``, ``nan`` when the loss became NaN, ``stuck``
    below `STUCK_BELOW` test accuracy), the weight-gradient norms over training, and the
    per-timestep input gradients before and after training.

    Examples:
        >>> from seqmnist_zoo.inputs.data import load_mnist
        >>> record = run_experiment({"cell": "gru", "units": 8, "epochs": 1, "train_samples": 256,
        ...                          "checkpoints": 2}, seed=0, data=load_mnist())
        >>> record["steps"], record["checkpoint_steps"], len(record["timestep_gradients_after"])
        (2, [1, 2], 28)
    """
    settings = settings_of(declared)
    (x_train, y_train), (x_test, y_test) = data
    fit_count = min(settings["train_samples"] or FIT_DIGITS, FIT_DIGITS)
    layout = (settings["timesteps"], settings["layout"])
    x_fit, y_fit = sequences(x_train[:fit_count], *layout), _one_hot(y_train[:fit_count])
    x_val = sequences(x_train[-VALIDATION_DIGITS:], *layout)
    y_val = _one_hot(y_train[-VALIDATION_DIGITS:])
    x_test_seq = sequences(x_test, *layout)

    keras.utils.set_random_seed(seed)
    model = build_network(settings)
    loss = _loss(settings)
    optimizer = keras.optimizers.get({"class_name": settings["optimizer"], "config": {
        "learning_rate": settings["learning_rate"], "clipnorm": settings["clipnorm"]}})
    model.compile(optimizer=optimizer, loss=loss, metrics=["categorical_accuracy"])
    gradients = gradient_function(model, loss)
    grad_x, grad_y = x_val[:GRADIENT_DIGITS], y_val[:GRADIENT_DIGITS]
    before = timestep_norms(gradients(grad_x, grad_y)[0])

    total, checkpoints = budget(settings, fit_count)
    batch = settings["batch_size"]
    probe = GradientNormProbe(x_fit[:PROBE_DIGITS], y_fit[:PROBE_DIGITS],
                              every=settings["probe_every"], loss=loss)
    order = _training_order(fit_count, total, batch, seed)
    history: dict[str, list] = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    chunks = [order[steps[0] * batch:(steps[-1] + 1) * batch]  # whole batches, as even as can be
              for steps in np.array_split(np.arange(total), checkpoints)]
    for chunk in chunks:  # one fit per checkpoint; together exactly the budget
        logs = model.fit(**fit_inputs(x_fit[chunk], y_fit[chunk], batch_size=batch), epochs=1,
                         validation_data=validation_inputs(x_val, y_val, batch), verbose=0,
                         callbacks=[probe, keras.callbacks.TerminateOnNaN()]).history
        for key, values in logs.items():
            history.setdefault(key, []).extend(values)
        if model.stop_training or not np.isfinite(logs["loss"]).all():
            break
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started

    probabilities = model.predict(x_test_seq, batch_size=1000, verbose=0)
    correct = np.argmax(probabilities, axis=1) == y_test
    nan = bool(np.isnan(history["loss"]).any()) or not np.isfinite(probabilities).all()
    accuracy = float(correct.mean())
    outcome = "nan" if nan else "stuck" if accuracy < STUCK_BELOW else "ok"
    return {
        "seed": seed, "settings": settings, "outcome": outcome,
        "test_accuracy": accuracy,
        "slice_accuracies": [float(s.mean()) for s in np.split(correct, 10)],
        "checkpoint_steps": [int(s) for s in np.cumsum([len(c) // batch for c in chunks])][
            :len(history["loss"])],
        "val_accuracy": [_finite(v) for v in history.get("val_categorical_accuracy", [])],
        "train_loss": [_finite(v) for v in history["loss"]],
        "gradient_norms": [[s, _finite(n)] for s, n in probe.norms],
        "timestep_gradients_before": before,
        "timestep_gradients_after": None if nan else timestep_norms(gradients(grad_x, grad_y)[0]),
        # Wall time depends on what else shares the machine; CPU time (all threads) much less.
        "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1),
        "steps": total, "fit_digits": fit_count,
        "parameters": int(model.count_params()),
    }


def _one_hot(labels) -> np.ndarray:
    return np.eye(10, dtype="float32")[np.asarray(labels, dtype="int64")]


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
