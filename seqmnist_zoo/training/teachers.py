"""Knowledge distillation: training targets that mix each label with what teacher models read."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgumentError
from ..inference.probabilities import predict_probabilities
from ..models.specs import TEACHER_FORM

CLASSES = 10


def parse_teacher(teacher: str) -> tuple[str, str]:
    """``"NAME:TAG"`` split into a registered model's name and one of its shipped weights tags.

    Examples:
        >>> parse_teacher("bilstm:mnist-robust")
        ('bilstm', 'mnist-robust')
        >>> parse_teacher("bilstm")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: teacher 'bilstm' is not NAME:TAG ...
    """
    from ..models.registry import get_model_spec

    if not TEACHER_FORM.fullmatch(str(teacher)):
        raise InvalidArgumentError(f"teacher {teacher!r} is not NAME:TAG (a registered model and one "
                                   f"of its weights tags, for example 'bilstm:mnist-robust')")
    name, tag = str(teacher).split(":")
    get_model_spec(name).weights_for(tag)  # says which names and tags exist
    return name, tag


def check_teachers(teachers) -> None:
    """Refuse teachers that are not ``"NAME:TAG"`` of a registered model's shipped weights.

    Examples:
        >>> check_teachers(["gru:mnist", "lstm:nosuch"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: model 'lstm' has no pretrained weights tagged 'nosuch'...
    """
    for teacher in teachers:
        parse_teacher(teacher)


def load_teachers(teachers) -> list:
    """The teachers' models, each built with its weights.

    Examples:
        >>> [model.name for model in load_teachers(["gru:mnist"])]
        ['gru']
    """
    from ..models.factory import get_model

    return [get_model(name, weights=tag) for name, tag in map(parse_teacher, teachers)]


def taught_targets(models, images, labels, label_weight: float = 0.5,
                   temperature: float = 2.0) -> np.ndarray:
    """Targets ``(n, 10)``: `label_weight` of each one-hot label plus the rest of the teachers' answer.

    The teachers' answer is the geometric mean of their probabilities raised to 1/`temperature`
    and renormalised, so the digits a teacher finds alike share some weight.

    Examples:
        >>> teacher = load_teachers(["gru:mnist"])
        >>> targets = taught_targets(teacher, np.zeros((2, 28, 28), "uint8"), [3, 5])
        >>> targets.shape, bool(np.allclose(targets.sum(1), 1)), bool((targets[:, 3][0] >= 0.5))
        ((2, 10), True, True)
    """
    labels = np.asarray(labels)
    if labels.shape != (len(images),) or not np.isin(labels, np.arange(CLASSES)).all():
        raise InvalidArgumentError(f"labels must be one digit 0-9 per image ({len(images)} images), "
                                   f"got shape {labels.shape} with values {np.unique(labels)[:5]}")
    labels = labels.astype(int)
    if not models:
        return np.eye(CLASSES, dtype="float32")[labels]
    log_mean = sum(np.log(np.clip(predict_probabilities(model, images), 1e-7, 1.0))
                   for model in models) / len(models)
    softened = np.exp((log_mean - log_mean.max(1, keepdims=True)) / temperature)
    softened /= softened.sum(1, keepdims=True)
    one_hot = np.eye(CLASSES)[labels]
    return (label_weight * one_hot + (1.0 - label_weight) * softened).astype("float32")
