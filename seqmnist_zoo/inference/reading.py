"""What a recurrent model believes after each timestep: the class probabilities, row by row.

A unidirectional model's belief after step t is its own classifier applied to its top recurrent
layer's state after that step: the same layers and the same weights, with the top layer's cell
run by a `keras.layers.RNN` that returns every step (nothing copied, nothing retrained). A
bidirectional model reads every row in both directions before it answers, so "after step t" is
defined for it as the model's answer on the image with every pixel after step t blanked (set to
0, MNIST's background).
"""

from __future__ import annotations

import keras
import numpy as np

from ..errors import InvalidArgumentError
from ..models.builders import either_scale, timesteps_of
from .probabilities import as_probabilities, model_outputs


def read_along(model: keras.Model, images, batch_size: int = 256) -> np.ndarray:
    """Class probabilities after each timestep: ``(n, timesteps, classes)``.

    `images` are MNIST-form digits ``(n, 28, 28)`` as the model takes them (flat ``(n, 784)``
    vectors too), or pictures (a path, a PIL image or a list of them), read the way
    `predict_digits` reads them. The last step equals
    ``model.predict(images)``. Works for any `timesteps` and for plugin families built by the
    zoo's builder; other models get an `InvalidArgumentError` that says why.

    Examples:
        >>> from seqmnist_zoo import gru
        >>> read_along(gru(units=8, timesteps=14), np.zeros((2, 28, 28))).shape
        (2, 14, 10)
    """
    return belief_reader(model, batch_size, once=True)(images)


def belief_reader(model: keras.Model, batch_size: int = 256, once: bool = False):
    """`read_along` for one model as a reusable function (the step-by-step graph is built once).

    `once`: the function will be called once, so a few pictures are read eagerly (`model_outputs`).

    Examples:
        >>> from seqmnist_zoo import lstm
        >>> read = belief_reader(lstm(units=4))
        >>> read(np.zeros((3, 28, 28))).shape
        (3, 28, 10)
    """
    steps = _timesteps(model)
    recurrent = _top_recurrent_layer(model)
    blanked = isinstance(recurrent, keras.layers.Bidirectional)
    stepwise = None if blanked else _stepwise_model(model, recurrent)

    def read(images) -> np.ndarray:
        images = _mnist_form(images)
        if blanked:
            return _read_blanked(model, images, steps, batch_size)
        return as_probabilities(model, model_outputs(stepwise, images, batch_size, once))

    return read


def blanked_after(images, steps: int) -> np.ndarray:
    """Every prefix of each image: ``(n, steps, 28, 28)``, pixels after step t set to 0.

    Examples:
        >>> prefixes = blanked_after(np.ones((1, 28, 28)), 28)
        >>> int(prefixes[0, 0].sum()), int(prefixes[0, -1].sum())
        (28, 784)
    """
    images = np.asarray(images, dtype="float32")
    flat = images.reshape(len(images), 1, 784)
    width = 784 // steps
    kept = np.arange(784)[None, :] < (np.arange(1, steps + 1)[:, None] * width)  # (steps, 784)
    return (flat * kept[None]).reshape(len(images), steps, 28, 28)


def _read_blanked(model, images, steps: int, batch_size: int) -> np.ndarray:
    prefixes = blanked_after(images, steps).reshape(-1, 28, 28)
    probabilities = model_outputs(model, prefixes, batch_size)
    return as_probabilities(model, probabilities).reshape(len(images), steps, -1)


def _mnist_form(images) -> np.ndarray:
    """MNIST-form digits ``(n, 28, 28)``: arrays as they are (one digit, or flat 784 vectors,
    reshaped); pictures (a path, a PIL image, or a list of them) go through the reader first."""
    from pathlib import Path

    pictures = isinstance(images, (list, tuple)) and images and all(
        isinstance(item, (str, Path)) or hasattr(item, "getbands") for item in images)
    if isinstance(images, (str, Path)) or hasattr(images, "getbands") or pictures:
        from ..inputs.preprocess import prepare_digits

        return prepare_digits(images).astype("float32")
    try:
        images = np.asarray(images, dtype="float32")
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"read_along takes MNIST-form digits (n, 28, 28), or pictures (paths or PIL images); "
            f"got {type(images).__name__}") from None
    if images.shape == (28, 28) or images.shape == (784,):
        images = images.reshape(1, 28, 28)
    elif images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise InvalidArgumentError(
            f"read_along takes MNIST-form digits (n, 28, 28) (or flat (n, 784)), or pictures (paths or "
            f"PIL images); got shape {images.shape}")
    return images


def _stepwise_model(model: keras.Model, recurrent) -> keras.Model:
    """The model's own layers in order, with the top recurrent layer's cell returning every step."""
    inputs = keras.Input(shape=(28, 28))
    x = either_scale(inputs)
    try:
        for layer in model.layers[1:]:
            if layer is recurrent:
                x = keras.layers.RNN(layer.cell, return_sequences=True, name=f"{layer.name}_each_step")(x)
            else:
                x = layer(x)
    except (ValueError, TypeError) as err:
        raise InvalidArgumentError(
            f"read_along needs a model whose layers form one chain, as the zoo's builder makes them; "
            f"{model.name!r} does not ({str(err).splitlines()[0][:120]})") from None
    return keras.Model(inputs, x, name=f"{model.name}_read_along")


def _top_recurrent_layer(model: keras.Model):
    try:
        head = model.get_layer("predictions")
    except ValueError:
        raise InvalidArgumentError(
            f"read_along needs the zoo's conventions: a 'predictions' classifier layer, which "
            f"{model.name!r} lacks (include_top=False, or not built by seqmnist_zoo.build_model)") from None
    chain = model.layers
    recurrent = [layer for layer in chain[:chain.index(head)]
                 if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))]
    if not recurrent:
        raise InvalidArgumentError(
            f"read_along needs a recurrent layer before the classifier of {model.name!r}")
    return recurrent[-1]


def _timesteps(model: keras.Model) -> int:
    steps = timesteps_of(model)
    if steps is None:
        raise InvalidArgumentError(
            f"read_along needs the zoo's 'timesteps' reshape layer, which {model.name!r} lacks")
    return steps


def decided_at(beliefs) -> int:
    """The first step (1-based) from which the top class no longer changes, for one image.

    Examples:
        >>> decided_at(np.array([[0.6, 0.4], [0.3, 0.7], [0.2, 0.8]]))
        2
    """
    top = np.asarray(beliefs).argmax(axis=-1)
    changed = np.flatnonzero(top != top[-1])
    return int(changed[-1]) + 2 if changed.size else 1
