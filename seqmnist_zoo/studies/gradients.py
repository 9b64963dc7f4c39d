"""Gradient measurements for the studies: per-timestep input gradients and weight-gradient norms.

Two questions recur about recurrent models: do the first timesteps still reach the loss at the
end of a long sequence (vanishing gradients), and do the weight gradients blow up during training
(exploding gradients)? `timestep_gradients` answers the first, `global_norm` and the
`GradientNormProbe` callback the second. Gradients need the backend's own autodiff, so these run
on the TensorFlow and JAX backends.
"""

from __future__ import annotations

import keras
import numpy as np

from ..errors import InvalidArgumentError


def gradient_function(model: keras.Model, loss):
    """A compiled ``f(x, y) -> (input_gradient, weight_gradients)`` of the mean ``loss(y, model(x))``.

    `loss` is a Keras loss object or function (per-sample losses are averaged over the batch).
    The model runs in inference mode (no dropout); results are numpy arrays. Compiled once
    (``tf.function`` or ``jax.jit``), it can be called again cheaply as training goes on.

    Examples:
        >>> model = keras.Sequential([keras.Input((4, 7)), keras.layers.GRU(3), keras.layers.Dense(2)])
        >>> gx, gw = gradient_function(model, keras.losses.MeanSquaredError())(
        ...     np.ones((5, 4, 7)), np.zeros((5, 2)))
        >>> gx.shape, len(gw)
        ((5, 4, 7), 5)
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def gradients(x, y):
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = keras.ops.mean(loss(y, model(x, training=False)))
            return tape.gradient(value, [x, *model.trainable_variables])

        def call(x, y):
            grads = gradients(tf.constant(x, "float32"), tf.constant(y, "float32"))
            return grads[0].numpy(), [np.asarray(g) for g in grads[1:]]
        return call
    if backend == "jax":
        import jax

        def value(weights, frozen, x, y):
            outputs, _ = model.stateless_call(weights, frozen, x, training=False)
            return keras.ops.mean(loss(y, outputs))

        gradients = jax.jit(jax.grad(value, argnums=(0, 2)))

        def call(x, y):
            gw, gx = gradients([v.value for v in model.trainable_variables],
                               [v.value for v in model.non_trainable_variables],
                               np.asarray(x, "float32"), np.asarray(y, "float32"))
            return np.asarray(gx), [np.asarray(g) for g in gw]
        return call
    raise InvalidArgumentError(
        f"gradient measurements run on the tensorflow or jax backend, not {backend!r}")


def timestep_norms(input_gradient) -> list[float]:
    """How strongly each timestep's input reaches the loss: the RMS input gradient per step.

    For a gradient of shape ``(batch, T, F)`` this is, for each of the T steps, the root mean
    square over the step's F features, averaged over the batch. Dividing by the features makes
    layouts with different F comparable; the ratio of the first steps to the last ones shows how
    much of the early image still matters at the end.

    Examples:
        >>> timestep_norms(np.array([[[3.0, 4.0], [0.0, 0.0]]]))
        [3.5355339059327378, 0.0]
    """
    g = np.asarray(input_gradient, dtype="float64")
    g = g.reshape(g.shape[0], g.shape[1], -1)
    return [float(v) for v in np.sqrt(np.mean(g ** 2, axis=2)).mean(axis=0)]


def global_norm(weight_gradients) -> float:
    """The global L2 norm over a list of gradient arrays (what ``clipnorm``-style clipping sees).

    Examples:
        >>> global_norm([np.array([3.0]), np.array([[4.0]])])
        5.0
    """
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype="float64"))) for g in weight_gradients)))


def timestep_gradients(model: keras.Model, loss, x, y) -> list[float]:
    """`timestep_norms` of the input gradient of ``loss(y, model(x))``, one value per timestep.

    Examples:
        >>> model = keras.Sequential([keras.Input((4, 7)), keras.layers.LSTM(3), keras.layers.Dense(2)])
        >>> len(timestep_gradients(model, keras.losses.MeanSquaredError(), np.ones((5, 4, 7)),
        ...                        np.zeros((5, 2))))
        4
    """
    return timestep_norms(gradient_function(model, loss)(x, y)[0])


class GradientNormProbe(keras.callbacks.Callback):
    """Record the weight-gradient norm on a fixed batch every `every` training steps.

    The same batch each time makes the series comparable over training: a norm that climbs by
    orders of magnitude is an exploding gradient, whatever clipping later does to the update.
    ``probe.norms`` is a list of ``[step, norm]`` pairs (step 0 is before training).

    Examples:
        >>> probe = GradientNormProbe(np.ones((8, 4, 7)), np.ones((8, 2)), every=10)
        >>> probe.norms
        []
    """

    def __init__(self, x, y, every: int = 50, loss=None):
        super().__init__()
        self.x, self.y, self.every, self.loss = x, y, every, loss
        self.norms: list[list[float]] = []
        self.step = 0
        self._gradients = None

    def _record(self) -> None:
        self.model  # noqa: B018 (on JAX, reading the property syncs mid-epoch weights into the model)
        self.norms.append([self.step, global_norm(self._gradients(self.x, self.y)[1])])

    def on_train_begin(self, logs=None):
        if self._gradients is None:
            self._gradients = gradient_function(self.model,
                                                keras.losses.get(self.loss or self.model.loss))
        if not self.norms:
            self._record()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self._record()
