"""A model's outputs as class probabilities, whether its head ends in a softmax or gives logits."""

from __future__ import annotations

import numpy as np

from ..models.compile import emits_logits


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


def predict_probabilities(model, x, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities of `model` for the images `x`, as float64.

    Examples:
        >>> from seqmnist_zoo import lstm
        >>> predict_probabilities(lstm(units=8), np.zeros((2, 28, 28))).shape
        (2, 10)
    """
    return as_probabilities(model, model.predict(x, batch_size=batch_size, verbose=0))
