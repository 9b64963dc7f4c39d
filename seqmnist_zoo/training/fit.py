"""`train`: a family's recipe fitted, seeded and logged, its best epoch kept, safe to interrupt."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..errors import InvalidArgumentError
from ..inputs.augment import handwriting_variants
from ..inputs.data import load_mnist
from ..models.compile import compile_model
from ..models.pretrained import check_start_shape, run_record_path
from ..models.registry import get_model_spec
from ..models.specs import Recipe
from .batches import fit_inputs, validation_inputs
from .cpu_path import (
    build_for_fit,
    cpu_fast_path,
    cpu_matmul_dtype,
    cpu_steps_per_execution,
    has_gpu,
)
from .environment import environment
from .evaluation import log_evaluation
from .teachers import check_teachers, load_teachers, taught_targets

CHANCE_ACCURACY = 0.1


MEANINGFUL_ACCURACY = 0.5  # below this the zoo's families have not learnt enough to compare


def budget_warning(accuracy: float | None, epochs: int, samples: int,
                   validated: int | None = None) -> str | None:
    """A warning when a validation accuracy is too close to chance to mean anything, else None.

    Examples:
        >>> budget_warning(0.995, 30, 55000) is None
        True
        >>> budget_warning(0.11, 1, 2000)[:50]
        'validation accuracy 11.0% is far below what these '
    """
    if accuracy is None or accuracy >= MEANINGFUL_ACCURACY:
        return None
    on = f" (measured on {validated:,} validation images)" if validated is not None else ""
    return (f"validation accuracy {accuracy:.1%}{on} is far below what these families reach (chance is "
            f"{CHANCE_ACCURACY:.0%}): {epochs} epoch(s) on {samples:,} images is too small a budget to mean "
            "anything; raise --epochs or --train-samples before trusting or comparing this result")


class ShiftedImages(keras.utils.PyDataset):
    """Batches of digits shifted by up to `max_shift` pixels each way, new shifts every epoch.

    With `rewrites` (arrays of rewritten `x`), each epoch reads `x` and the next rewrite of it in
    turn, so consecutive epochs see every digit in another hand. `targets`, one array per pool
    (``x`` followed by its rewrite, or ``x`` alone), replace the labels (soft targets,
    `seqmnist_zoo.training.teachers`).

    Examples:
        >>> x = np.zeros((10, 28, 28), "uint8"); y = np.arange(10)
        >>> batch_x, batch_y = ShiftedImages(x, y, batch_size=4, max_shift=2)[0]
        >>> batch_x.shape, batch_y.shape
        ((4, 28, 28), (4,))
        >>> len(ShiftedImages(x, y, batch_size=4, max_shift=2, rewrites=[x, x]))  # 20 digits an epoch
        5
    """

    def __init__(self, x, y, batch_size: int, max_shift: int, seed: int = 0, rewrites=(),
                 targets=(), **kwargs):
        super().__init__(**kwargs)
        self.batch_size, self.max_shift = batch_size, max_shift
        pad = ((0, 0), (max_shift, max_shift), (max_shift, max_shift))
        self.pools = [np.pad(np.concatenate([x, rewrite]), pad) for rewrite in rewrites] or [np.pad(x, pad)]
        labels = np.concatenate([y, y]) if rewrites else np.asarray(y)
        self.pool_labels = list(targets) or [labels] * len(self.pools)
        if len(self.pool_labels) != len(self.pools) or any(
                len(t) != len(p) for t, p in zip(self.pool_labels, self.pools, strict=True)):
            raise InvalidArgumentError(f"targets must be one array per pool of digits "
                                       f"({len(self.pools)}, each as long as its pool)")
        self.y = self.pool_labels[0]
        self.epoch = -1
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.padded = self.pools[self.epoch % len(self.pools)]
        self.y = self.pool_labels[self.epoch % len(self.pools)]
        self.order = self.rng.permutation(len(self.y))
        self.offsets = self.rng.integers(0, 2 * self.max_shift + 1, size=(len(self.y), 2))

    def __getitem__(self, index: int):
        picked = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        rows = self.offsets[picked, :1] + np.arange(28)  # (b, 28)
        cols = self.offsets[picked, 1:] + np.arange(28)
        images = self.padded[picked[:, None, None], rows[:, :, None], cols[:, None, :]]
        return images, self.y[picked]


class BestCheckpoint(keras.callbacks.Callback):
    """Save weights whenever `monitor` improves, atomically (write aside, then rename).

    An interrupted run therefore always leaves its best complete checkpoint on disk.

    Examples:
        >>> BestCheckpoint("best.weights.h5").best
        -inf
    """

    def __init__(self, path, monitor: str = "val_accuracy"):
        super().__init__()
        self.path, self.monitor = Path(path), monitor
        self.best, self.best_epoch = -np.inf, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or value <= self.best:
            return
        self.best, self.best_epoch = float(value), epoch + 1
        partial = self.path.with_name(self.path.name.replace(".weights.h5", ".partial.weights.h5"))
        self.model.save_weights(partial)
        os.replace(partial, self.path)


@dataclass
class TrainResult:
    """What `train` produced: the best checkpoint, its validation accuracy, the run's record.

    Examples:
        >>> TrainResult(output=Path("m.weights.h5"), record={}).interrupted
        False
    """

    output: Path
    record: dict[str, Any]
    history: dict[str, list] = field(default_factory=dict)
    interrupted: bool = False


def train(name: str, *, epochs: int | None = None, batch_size: int | None = None,
          learning_rate: float | None = None, timesteps: int | None = None, units=None,
          clipnorm: float | None = None, dropout: float | None = None, seed: int | None = None,
          train_samples: int | None = None, logdir=None, output=None, overwrite: bool = False,
          data=None, verbose="auto", callbacks=(), tag: str = "mnist", teachers=None) -> TrainResult:
    """Train a zoo model with the recipe of its weights `tag` (any argument given overrides it).

    `teachers` (``"NAME:TAG"`` weights) replaces the recipe's; ``teachers=()`` trains on the labels
    alone (`Recipe` says how taught targets are made).

    The recipe's validation split is carved from the training set and selects the best epoch,
    whose weights are written to `output` with a JSON record beside it. Without `output`, each
    run gets a new folder ``runs/NAME/version_N/``; an existing `output` is refused unless
    `overwrite`. ``clipnorm=0`` trains without gradient clipping (None keeps the recipe's).
    `logdir` receives TensorBoard scalars. `data` is a path for `load_mnist` or a
    ``((x_train, y_train), (x_test, y_test))`` tuple. Ctrl-C stops after the current batch,
    keeps the best checkpoint and returns with ``interrupted=True``.

    Examples:
        >>> out = tempfile.mkdtemp() + "/gru.weights.h5"
        >>> result = train("gru", epochs=1, units=8, train_samples=100, output=out, verbose=0)
        >>> result.output.name, result.record["train_samples"]
        ('gru.weights.h5', 100)
    """
    spec = get_model_spec(name)
    overrides = dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                     clipnorm=clipnorm, dropout=dropout, seed=seed, teachers=teachers)
    recipe = replace(spec.recipe_for(tag), **{k: v for k, v in overrides.items() if v is not None})
    if recipe.clipnorm is not None and recipe.clipnorm <= 0:
        recipe = replace(recipe, clipnorm=None)  # 0 means "no clipping", recorded as null
    _check_recipe(recipe, train_samples)
    cpu_matmul_dtype()  # a bad SEQMNIST_ZOO_CPU_MATMUL is refused before any folder is made
    config = {**spec.defaults}
    if timesteps is not None:
        config["timesteps"] = timesteps
    if units is not None:
        config["units"] = units
    check_start_shape(spec, recipe, tag, config)
    output = _checked_output(output, overwrite)

    keras.utils.set_random_seed(recipe.seed)
    (x, y), _ = data if isinstance(data, tuple) else load_mnist(data)
    (x_fit, y_fit), (x_val, y_val) = split_validation(x, y, recipe, train_samples)
    rewrites = []
    if recipe.augment == "handwriting":
        rewrite = recipe.rewrite_style()
        rewrites = [handwriting_variants(x_fit, y_fit, seed=recipe.seed + 1000 * k, **rewrite)
                    for k in range(recipe.rewrites)]
        # the best epoch is chosen on the same mixture: MNIST alone favours the least adapted one
        x_val = np.concatenate([x_val, handwriting_variants(x_val, y_val, seed=recipe.seed + 999, **rewrite)])
        y_val = np.concatenate([y_val, y_val])
    targets = _taught_pools(recipe, x_fit, y_fit, rewrites)
    if targets:
        y_val = np.eye(10, dtype="float32")[y_val]
    model = spec.load_builder()(weights=recipe.start_from, dropout=recipe.dropout, **config)
    output = _checkpoint_path(name, output)  # made only once every argument has been accepted
    samples_per_epoch = len(x_fit) * (2 if rewrites else 1)
    steps = -(-samples_per_epoch // recipe.batch_size)
    gpu = has_gpu()
    compile_model(model, recipe, steps_per_epoch=steps, soft_labels=bool(targets),
                  steps_per_execution=1 if gpu else cpu_steps_per_execution(steps))

    checkpoint = BestCheckpoint(output)
    all_callbacks = [checkpoint, *callbacks]
    if recipe.ema_momentum is not None:  # first: validation and the checkpoint see the average
        all_callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    if logdir is not None:
        all_callbacks += [keras.callbacks.TensorBoard(str(logdir)),
                          _hparams_callback(logdir, name, config, recipe)]
    if recipe.shift_pixels or rewrites or targets:
        fit_data = fit_inputs(ShiftedImages(x_fit, y_fit, recipe.batch_size, recipe.shift_pixels,
                                            seed=recipe.seed, rewrites=rewrites, targets=targets))
    else:
        fit_data = fit_inputs(x_fit, y_fit, batch_size=recipe.batch_size, shuffle=True)
    started, interrupted, history, path = time.perf_counter(), False, {}, {}
    build_for_fit(model, x_fit[:1], y_val[:1])
    try:
        with cpu_fast_path(model, enabled=not gpu) as path:
            history = model.fit(**fit_data, epochs=recipe.epochs,
                                validation_data=validation_inputs(x_val, y_val, recipe.batch_size),
                                callbacks=all_callbacks, verbose=verbose).history
    except KeyboardInterrupt:
        interrupted = True
        history = model.history.history if model.history else {}
    if logdir is not None and checkpoint.best_epoch:
        model.load_weights(output)
        log_evaluation(logdir, model, x_val, y_val, split="validation")
    record = {
        "model": name,
        "tag": tag,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()},
        "recipe": recipe.to_dict(),
        "train_samples": int(samples_per_epoch),
        "validation_samples": int(len(x_val)),
        "best_epoch": checkpoint.best_epoch,
        "val_accuracy": checkpoint.best if checkpoint.best_epoch else None,
        "epochs_run": len(history.get("loss", [])),
        "interrupted": interrupted,
        "train_seconds": round(time.perf_counter() - started, 1),
        "training_path": path,
        "weights": str(output),
        "warning": budget_warning(checkpoint.best if checkpoint.best_epoch else None,
                                  len(history.get("loss", [])), int(samples_per_epoch), int(len(x_val))),
        "environment": environment(),
    }
    run_record_path(output).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return TrainResult(output=output, record=record, history=history, interrupted=interrupted)


def _taught_pools(recipe: Recipe, x_fit, y_fit, rewrites) -> list[np.ndarray]:
    """Soft targets for each pool of training digits (empty without teachers): `ShiftedImages`."""
    if not recipe.teachers:
        return []
    teachers = load_teachers(recipe.teachers)

    def targets(images, labels):
        return taught_targets(teachers, images, labels, recipe.label_weight, recipe.temperature)

    plain = targets(x_fit, y_fit)
    return [np.concatenate([plain, targets(rewrite, y_fit)]) for rewrite in rewrites] or [plain]


def _checked_output(output, overwrite: bool) -> Path | None:
    """`output` checked (refused if it exists, unless `overwrite`); nothing is made on disk yet."""
    if output is None:
        return None
    output = Path(output)
    if not output.name.endswith(".weights.h5"):
        raise InvalidArgumentError(f"output {output} must end in '.weights.h5'")
    if output.exists() and not overwrite:
        raise InvalidArgumentError(
            f"{output} already exists; pass overwrite=True to replace it, or leave output out to "
            "get a new runs/NAME/version_N/ folder")
    return output


def _checkpoint_path(name: str, output: Path | None) -> Path:
    """Where the checkpoint goes, its folder made: `output`, or a new runs/NAME/version_N/ file."""
    if output is None:
        base = Path("runs") / name
        base.mkdir(parents=True, exist_ok=True)
        number = len(list(base.glob("version_*")))
        while True:  # mkdir is atomic: two runs started together get two folders
            try:
                (base / f"version_{number}").mkdir()
                return base / f"version_{number}" / f"{name}.weights.h5"
            except FileExistsError:
                number += 1
    output.parent.mkdir(parents=True, exist_ok=True)
    return output


def _hparams_callback(logdir, name: str, config: dict, recipe: Recipe):
    from tensorboard.plugins.hparams import api as hparams_api

    values = {"model": name, **config, **recipe.to_dict()}
    clean = {k: v if isinstance(v, (bool, int, float, str)) else str(v) for k, v in values.items()}
    return hparams_api.KerasCallback(str(logdir), clean)


def _check_recipe(recipe: Recipe, train_samples) -> None:
    for key in ("epochs", "batch_size", "rewrites"):
        value = getattr(recipe, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(f"{key} must be a positive integer, got {value!r}")
    if not recipe.learning_rate > 0:
        raise InvalidArgumentError(f"learning_rate must be positive, got {recipe.learning_rate!r}")
    if recipe.augment not in (None, "handwriting"):
        raise InvalidArgumentError(f"unknown augment {recipe.augment!r}; known: 'handwriting'")
    check_teachers(recipe.teachers)
    if train_samples is not None and (not isinstance(train_samples, int) or train_samples < 10):
        raise InvalidArgumentError(f"train_samples must be an integer >= 10, got {train_samples!r}")


def split_validation(x, y, recipe: Recipe, train_samples: int | None = None):
    """Seeded split of the training set into fit and validation parts.

    With `train_samples`, only that many images are fitted and the validation part shrinks to
    a fifth of it (at most the recipe's size), for quick runs; more than the data holds is refused.

    Examples:
        >>> x, y = np.zeros((100, 28, 28), "uint8"), np.zeros(100, "uint8")
        >>> (xf, _), (xv, _) = split_validation(x, y, Recipe(validation_size=20))
        >>> len(xf), len(xv)
        (80, 20)
    """
    order = np.random.default_rng(recipe.seed).permutation(len(x))
    size = recipe.validation_size
    if train_samples is not None:
        size = min(size, max(train_samples // 5, 1))
    val, fit = order[:size], order[size:]
    if train_samples is not None:
        if train_samples > len(fit):
            raise InvalidArgumentError(
                f"train_samples={train_samples} is more than the {len(fit)} images left to fit on "
                f"({len(x)} in the data, {size} kept for validation); accepted: at most {len(fit)}")
        fit = fit[:train_samples]
    return (x[fit], y[fit]), (x[val], y[val])
