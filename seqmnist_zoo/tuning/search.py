"""KerasTuner searches over a family's units, learning rate and timestep reshape.

A search space is plain data (see `seqmnist_zoo.tuning.spaces`). Searches resume when re-run with the
same settings, refuse a second concurrent run on the same project, and scale out through
KerasTuner's chief/worker mode.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from ..errors import InvalidArgumentError, SeqMnistZooError
from ..models.registry import get_model_spec
from ..training.environment import environment
from ..training.evaluation import log_evaluation
from ..training.fit import budget_warning, split_validation
from .hypermodel import ZooHyperModel
from .spaces import default_space, load_space
from .tuners import (
    ProjectLock,
    check_definition,
    make_tuner,
    record_definition,
    run_search,
)


class _MemoryLog(keras.callbacks.Callback):
    """Records resident memory at the end of each trial's fit (memory must stay flat)."""

    def __init__(self, sink: list):
        super().__init__()
        self.sink = sink

    def __deepcopy__(self, memo):  # KerasTuner copies callbacks per trial; keep one sink
        return self

    def on_train_end(self, logs=None):
        self.sink.append(resident_mb())


def resident_mb() -> float:
    """This process's resident memory in MiB (Linux), or 0.0 where it cannot be read.

    Examples:
        >>> resident_mb() > 0
        True
    """
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class TuneResult:
    """The outcome of a search: best hyperparameters, every trial, where the best model went.

    Examples:
        >>> TuneResult(best_hyperparameters={}, trials=[], best_model=None, summary=None).trials
        []
    """

    best_hyperparameters: dict[str, Any]
    trials: list[dict[str, Any]]
    best_model: Path | None
    summary: Path | None


def tune(name: str, *, tuner: str = "random", max_trials: int = 10, epochs: int = 3,
         executions_per_trial: int = 1, train_samples: int | None = None, space=None,
         directory="tuning_runs", project_name: str | None = None, overwrite: bool = False,
         logdir=None, seed: int = 0, distribution: str | None = None, data=None,
         batch_size: int | None = None, verbose="auto", on_start=None) -> TuneResult:
    """Search NAME's hyperparameters on a validation split of the training set.

    `space` is a dict, a shipped space's name or a JSON space file (default: `default_space`). Re-running
    the same call resumes the project in ``directory/project_name``; ``overwrite=True`` starts
    afresh. The test set is never used. Writes ``best_model.keras`` and ``results.json`` into
    the project folder (the chief's, in a distributed search). `on_start`, if given, is called
    with the project folder once the search holds it and its settings match, before anything in
    it changes (the CLI says there what happens to the trials it holds).

    Examples:
        >>> result = tune("gru", max_trials=2, epochs=1, train_samples=100, verbose=0,
        ...               directory=tempfile.mkdtemp())
        >>> sorted(result.best_hyperparameters), len(result.trials)
        (['learning_rate', 'timesteps', 'units'], 2)
    """
    spec = get_model_spec(name)
    if isinstance(space, (str, Path)):
        space = load_space(space)["hyperparameters"]
    hypermodel = ZooHyperModel(name, space or default_space(name))
    project_name = project_name or name
    strategy = _strategy(distribution)
    from ..inputs.data import load_mnist

    recipe = replace(spec.recipe, seed=seed, batch_size=batch_size or spec.recipe.batch_size)
    keras.utils.set_random_seed(seed)
    (x, y), _ = data if isinstance(data, tuple) else load_mnist(data)
    (x_fit, y_fit), (x_val, y_val) = split_validation(x, y, recipe, train_samples)
    memory: list[float] = []
    callbacks = [_MemoryLog(memory)]
    if logdir is not None:
        callbacks.append(keras.callbacks.TensorBoard(str(logdir)))
    definition = {"model": name, "space": hypermodel.space, "tuner": tuner, "epochs": epochs,
                  "train_samples": train_samples, "batch_size": recipe.batch_size, "seed": seed,
                  "executions_per_trial": executions_per_trial,
                  "backend": keras.backend.backend()}
    with ProjectLock(directory, project_name):
        check_definition(Path(directory) / project_name, definition, overwrite)
        if on_start is not None:
            on_start(Path(directory) / project_name)
        search = make_tuner(hypermodel, tuner, max_trials=max_trials, epochs=epochs,
                            executions_per_trial=executions_per_trial, directory=directory,
                            project_name=project_name, overwrite=overwrite, seed=seed,
                            distribution_strategy=strategy)
        record_definition(Path(search.project_dir), definition)
        run_search(search, x_fit, y_fit, epochs=epochs, batch_size=recipe.batch_size,
                   validation_data=(x_val, y_val), callbacks=callbacks, verbose=verbose)
        return _report(search, name, memory, len(x_fit), (x_val, y_val), logdir, epochs)


def _strategy(distribution: str | None):
    if distribution in (None, "none"):
        return None
    if distribution != "mirrored":
        raise InvalidArgumentError(f"distribution {distribution!r} is not 'mirrored' or none")
    if keras.backend.backend() != "tensorflow":
        raise InvalidArgumentError("--distribution mirrored needs the TensorFlow backend")
    import tensorflow as tf

    return tf.distribute.MirroredStrategy()


def trials_table(oracle) -> list[dict[str, Any]]:
    """Every trial of a tuner's oracle: number, id, status, score and values, best first.

    ``trial`` counts from 1, as KerasTuner's "Running Trial #N" does; ``trial_id`` is its id.
    Hyperband's bookkeeping values (``tuner/epochs``, ``tuner/bracket``, ...) are left out.

    Examples:
        >>> trials_table(tuner.oracle)[0]["status"]  # doctest: +SKIP
        'COMPLETED'
    """
    rows = [{"trial": _trial_number(t.trial_id), "trial_id": t.trial_id, "status": t.status,
             "score": t.score, "hyperparameters": {k: v for k, v in t.hyperparameters.values.items()
                                                    if not k.startswith("tuner/")}}
            for t in oracle.trials.values()]
    return sorted(rows, key=lambda r: (r["score"] is None, -(r["score"] or 0), r["trial_id"]))


def _trial_number(trial_id: str):
    try:
        return int(trial_id) + 1
    except ValueError:
        return trial_id


def _report(search: kt.Tuner, name: str, memory: list[float], n_fit: int, validation,
            logdir, epochs: int) -> TuneResult:
    from keras_tuner.src.distribute import utils as dist_utils

    if dist_utils.has_chief_oracle() and not dist_utils.is_chief_oracle():
        return TuneResult({}, [], None, None)  # workers leave reporting to the chief
    trials = trials_table(search.oracle)
    completed = [t for t in trials if t["status"] == "COMPLETED"]
    if not completed:
        raise SeqMnistZooError("no trial completed; see the messages above for why")
    best = completed[0]["hyperparameters"]
    project = Path(search.project_dir)
    best_model = None
    if not dist_utils.has_chief_oracle():
        best_model = project / "best_model.keras"
        with warnings.catch_warnings():  # the checkpoint's optimizer slots are not needed
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = search.get_best_models(1)[0]
        model.save(best_model)
        if logdir is not None:
            log_evaluation(Path(logdir) / "best", model, *validation, split="validation")
    summary = project / "results.json"
    summary.write_text(json.dumps({
        "model": name, "objective": "val_accuracy", "best_hyperparameters": best,
        "retrain": retrain_command(name, best), "trials": trials,
        "warning": budget_warning(completed[0]["score"], epochs, n_fit),
        "fit_samples": n_fit, "validation_samples": len(validation[1]),
        "resident_mb_after_each_trial": [round(m, 1) for m in memory],
        "environment": environment(),
    }, indent=2) + "\n", encoding="utf-8")
    return TuneResult(best, trials, best_model, summary)


def retrain_command(name: str, hyperparameters: dict[str, Any]) -> str:
    """The `seqmnist-zoo train` command that turns a trial's values into weights.

    Examples:
        >>> retrain_command("stacked_lstm", {"units": 64, "layers": 3, "learning_rate": 0.002})
        'seqmnist-zoo train stacked_lstm --units 64,64,64 --learning-rate 0.002'
    """
    values = dict(hyperparameters)
    units = values.pop("units", None)
    layers = values.pop("layers", None)
    if layers is None and get_model_spec(name).family == "stacked_lstm":
        layers = len(get_model_spec(name).defaults["units"])
    parts = [f"seqmnist-zoo train {name}"]
    if units is not None:
        parts.append(f"--units {','.join([str(units)] * layers) if layers else units}")
    for key in ("timesteps", "learning_rate", "clipnorm", "dropout"):
        if key in values:
            parts.append(f"--{key.replace('_', '-')} {values[key]:g}")
    return " ".join(parts)
