"""A model's outputs as class probabilities, whether its head ends in a softmax or gives logits."""

from __future__ import annotations

import numpy as np

from ..models.compile import emits_logits

SMALL_BATCH = 64  # up to this many pictures are read in one call
PAD_TO = 32  # a call's pictures are padded to a multiple of this, so a new count does not retrace


def run_padded(call, images) -> np.ndarray:
    """``call(images)`` with the batch padded by blank images to a multiple of `PAD_TO`.

    A compiled model traces anew for every new batch shape (TensorFlow warns after a few); padding
    makes 1 to 32 pictures one shape. Each image is read on its own, so the blanks change nothing.

    Examples:
        >>> run_padded(lambda x: x.sum(axis=(1, 2)), np.ones((3, 28, 28))).tolist()
        [784.0, 784.0, 784.0]
    """
    images = np.asarray(images)
    extra = -len(images) % PAD_TO
    if extra:
        images = np.concatenate([images, np.zeros((extra, *images.shape[1:]), images.dtype)])
    return np.asarray(call(images))[:len(images) - extra]


def as_probabilities(model, outputs) -> np.ndarray:
    """`outputs` of `model` (last axis: classes) as float64 probabilities: softmax if it gives logits.

    Examples:
        >>> from seqmnist_zoo import gru
        >>> logits = gru(units=4, classifier_activation=None)
        >>> as_probabilities(logits, [[0.0, 0.0]]).tolist()
        [[0.5, 0.5]]
    """
    outputs = np.asarray(outputs, dtype="float64")
    if emits_logits(model):
        outputs = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
        outputs /= outputs.sum(axis=-1, keepdims=True)
    return outputs


def model_outputs(model, x, batch_size: int = 1000, once: bool = False) -> np.ndarray:
    """`model`'s outputs for the images `x`, without retracing it for a new count of pictures.

    A few pictures are one padded batch call (`run_padded`), more are read `batch_size` at a time
    by ``predict_on_batch``: ``predict`` would read them through a tf.data pipeline whose autotuning
    thread can hold its end for a second (`seqmnist_zoo.training.batches`). A model used `once`
    reads a few pictures eagerly: tracing a graph for one call is wasted work.

    Examples:
        >>> from seqmnist_zoo import lstm
        >>> model_outputs(lstm(units=8), np.zeros((2, 28, 28))).shape
        (2, 10)
    """
    if len(x) <= SMALL_BATCH and once:
        import keras

        return keras.ops.convert_to_numpy(model(np.asarray(x), training=False))
    if len(x) <= SMALL_BATCH:
        return run_padded(model.predict_on_batch, x)
    return np.concatenate([run_padded(model.predict_on_batch, x[start:start + batch_size])
                           for start in range(0, len(x), batch_size)])


def predict_probabilities(model, x, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities of `model` for the images `x`, as float64.

    Examples:
        >>> from seqmnist_zoo import lstm
        >>> predict_probabilities(lstm(units=8), np.zeros((2, 28, 28))).shape
        (2, 10)
    """
    return as_probabilities(model, model_outputs(model, x, batch_size))
