"""Compiling a zoo model with its family's recipe: optimizer, learning rate schedule, clipping."""

from __future__ import annotations

import keras

from ..errors import InvalidArgumentError
from .registry import get_model_spec
from .specs import Recipe


def compile_model(model: keras.Model, recipe: Recipe | None = None, steps_per_epoch: int | None = None,
                  family: str | None = None, steps_per_execution: int = 1,
                  soft_labels: bool = False) -> keras.Model:
    """Compile `model` with a recipe's optimizer, learning rate (schedule) and clipping.

    Without `recipe`, the recipe of the family named by `family` (default: the model's name) is
    used. The cosine schedule needs `steps_per_epoch`; without it the rate stays constant.
    Labels are digits, or with `soft_labels` rows of ten probabilities (distillation targets).

    Examples:
        >>> from seqmnist_zoo import simple_rnn
        >>> float(compile_model(simple_rnn(units=8)).optimizer.clipnorm)
        1.0
    """
    if recipe is None:
        recipe = get_model_spec(family or model.name).recipe
    rate = recipe.learning_rate
    if recipe.schedule == "cosine" and steps_per_epoch:
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=recipe.epochs * steps_per_epoch)
    elif recipe.schedule not in ("cosine", "constant"):
        raise InvalidArgumentError(f"schedule {recipe.schedule!r} is not 'cosine' or 'constant'")
    config = {"learning_rate": rate, "clipnorm": recipe.clipnorm}
    if recipe.ema_momentum is not None:
        config.update(use_ema=True, ema_momentum=recipe.ema_momentum)
    try:
        optimizer = keras.optimizers.get({"class_name": recipe.optimizer, "config": config})
    except ValueError as err:
        raise InvalidArgumentError(f"unknown optimizer {recipe.optimizer!r}: {err}") from None
    model.compile(
        optimizer=optimizer,
        loss=(keras.losses.CategoricalCrossentropy if soft_labels
              else keras.losses.SparseCategoricalCrossentropy)(from_logits=emits_logits(model)),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def emits_logits(model: keras.Model) -> bool:
    """Whether the model's head gives logits (no softmax), so its outputs need one to be read.

    Examples:
        >>> from seqmnist_zoo import gru
        >>> emits_logits(gru(units=4, classifier_activation=None)), emits_logits(gru(units=4))
        (True, False)
    """
    try:
        head = model.get_layer("predictions")
    except ValueError:
        return False
    return getattr(head.activation, "__name__", "") == "linear"
