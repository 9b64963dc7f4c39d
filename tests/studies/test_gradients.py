"""Gradient measurements, on whichever backend runs the tests (TensorFlow, and JAX in the
README's second test line)."""

import keras
import numpy as np

from seqmnist_zoo.studies.gradients import GradientNormProbe, global_norm, gradient_function, timestep_norms


def test_timestep_gradients_vanish_exactly_where_the_output_does_not_look():
    inputs = keras.Input((5, 3))
    outputs = keras.layers.Dense(2, activation="softmax")(inputs[:, -2])
    model = keras.Model(inputs, outputs)
    gx, _ = gradient_function(model, keras.losses.CategoricalCrossentropy())(
        np.random.rand(4, 5, 3), np.eye(2)[[0, 1, 0, 1]])
    norms = timestep_norms(gx)
    assert norms[:3] == [0.0, 0.0, 0.0] and norms[4] == 0.0 and norms[3] > 0


def test_the_probe_records_the_same_batch_every_n_steps():
    model = keras.Sequential([keras.Input((4, 7)), keras.layers.SimpleRNN(3),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    x, y = np.random.rand(40, 4, 7), np.eye(2)[np.random.randint(0, 2, 40)]
    probe = GradientNormProbe(x[:8], y[:8], every=5)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[probe])
    assert [step for step, _ in probe.norms] == [0, 5, 10]
    assert len({norm for _, norm in probe.norms}) == 3, "the weights moved between probes"


def test_weight_gradients_match_a_finite_difference():
    model = keras.Sequential([keras.Input((3, 2)), keras.layers.GRU(2),
                              keras.layers.Dense(2, activation="softmax")])
    loss = keras.losses.CategoricalCrossentropy()
    x, y = np.random.rand(4, 3, 2).astype("float32"), np.eye(2, dtype="float32")[[0, 1, 1, 0]]
    _, grads = gradient_function(model, loss)(x, y)
    bias = model.layers[-1].bias
    step = 1e-2
    before = float(loss(y, model(x)))
    bias.assign(bias.numpy() + np.array([step, 0.0], "float32"))
    slope = (float(loss(y, model(x))) - before) / step
    assert abs(slope - grads[-1][0]) < 1e-2
    assert global_norm(grads) > abs(grads[-1][0])
