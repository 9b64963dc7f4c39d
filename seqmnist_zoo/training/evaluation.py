"""`evaluate`: accuracy, loss, per-class accuracy and confusion on the MNIST test set."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from ..inference.probabilities import predict_probabilities
from ..inputs.data import load_mnist
from ..models.registry import get_model_spec

NUM_CLASSES = 10


def evaluate(model, weights="mnist", data=None, batch_size: int = 1000, logdir=None,
             report_dir=None) -> dict[str, Any]:
    """Accuracy, loss, per-class accuracy and confusion matrix on the MNIST test set.

    `model` is a Keras model or a registered name (built with `weights`). `data` is a path for
    `load_mnist` or a ``(x, y)`` pair of test images and labels. `logdir` also receives the
    confusion matrix and misclassified digits as TensorBoard images; `report_dir` receives them
    as PNG files with a markdown summary.

    Examples:
        >>> evaluate("lstm")["accuracy"] > 0.99
        True
    """
    if isinstance(model, str):
        name = model
        model = get_model_spec(model).load_builder()(weights=weights)
    else:
        name = model.name
    # `data` is an (x, y) pair of test arrays (y one-dimensional), or a path for load_mnist.
    given_pair = isinstance(data, tuple) and len(data) == 2 and np.ndim(data[1]) == 1
    x, y = data if given_pair else load_mnist(data)[1]
    probabilities = predict_probabilities(model, x, batch_size)
    result = summarize(probabilities, y)
    if logdir is not None or report_dir is not None:
        from .. import reports

        figures = _figures(model, result, x, y, probabilities, "test")
        if logdir is not None:
            reports.log_images(logdir, figures)
        if report_dir is not None:
            reports.write_report(report_dir, name, str(weights), result, figures)
    return result


def log_evaluation(logdir, model, x, y, split: str) -> dict[str, Any]:
    """Evaluate on (x, y) and write the pictures as TensorBoard images into ``logdir/images``.

    Examples:
        >>> log_evaluation("logs", model, x_val, y_val, "validation")  # doctest: +SKIP
    """
    from .. import reports

    probabilities = predict_probabilities(model, x)
    result = summarize(probabilities, y)
    reports.log_images(logdir, _figures(model, result, x, y, probabilities, split))
    return result


def _figures(model, result, x, y, probabilities, split: str) -> dict:
    """The report figures plus the model reading a few of the digits step by step."""
    from .. import reports
    from ..inference.reading_plots import reading_figure_for

    figures = reports.figures_for(result, x, y, probabilities, split)
    try:
        figures["reading"] = reading_figure_for(model, x, y, probabilities, split=split)
    except InvalidArgumentError:  # a model outside the zoo's conventions still gets the other pictures
        pass
    return figures


def summarize(probabilities, labels) -> dict[str, Any]:
    """Accuracy, cross-entropy loss, per-class accuracy and confusion matrix of predictions.

    Examples:
        >>> summarize(np.eye(10), np.arange(10))["accuracy"]
        1.0
    """
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    y = np.asarray(labels, dtype="int64")
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype="int64")
    np.add.at(confusion, (y, predicted), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    loss = -np.mean(np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1.0)))
    return {
        "samples": int(len(y)),
        "accuracy": float((predicted == y).mean()),
        "loss": float(loss),
        "per_class_accuracy": [float(a) for a in per_class],
        "confusion_matrix": confusion.tolist(),
    }
