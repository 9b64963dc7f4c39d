"""KerasTuner searches over a family's units, learning rate and timestep reshape.

A search space is plain data (see `seqmnist_zoo.tuning.spaces`). Searches resume when re-run with the
same settings, refuse a second concurrent run on the same project, and scale out through
KerasTuner's chief/worker mode.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import json
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from ..errors import InvalidArgumentError, SeqMnistZooError
from ..models.compile import compile_model
from ..models.registry import get_model_spec
from ..training.cpu_path import (
    MAX_UNROLLED_STEPS,
    build_for_fit,
    cpu_fast_path,
    cpu_steps_per_execution,
    has_gpu,
)
from ..training.environment import environment
from ..training.evaluation import log_evaluation
from ..training.fit import budget_warning, split_validation
from ..training.fused_rnn import CHAINS
from .spaces import HP_TYPES, check_space, default_space, load_space

TUNERS = ("random", "hyperband", "bayesian", "grid")
UNROLL_MIN_IMAGES = 200_000  # images a trial trains on before unrolled loops pay (see fit)


def _declare(hp: kt.HyperParameters, name: str, entry: dict[str, Any]):
    args = {k: v for k, v in entry.items() if k != "type"}
    return getattr(hp, HP_TYPES[entry["type"]])(name, **args)


class ZooHyperModel(kt.HyperModel):
    """A zoo family as a KerasTuner HyperModel; every hyperparameter is declared in `build`,
    and trials train on the same CPU fast path as `train` (see `fit`).

    Examples:
        >>> hypermodel = ZooHyperModel("gru", default_space("gru"))
        >>> hypermodel.build(kt.HyperParameters()).name
        'gru'
    """

    def __init__(self, model_name: str, space: dict[str, Any], fast_path: bool = True,
                 unroll_min_images: int = UNROLL_MIN_IMAGES):
        super().__init__(name=model_name, tunable=True)
        check_space(space)
        self.model_name, self.space, self.fast_path = model_name, space, fast_path
        self.unroll_min_images = unroll_min_images
        self.spec = get_model_spec(model_name)

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        values = {name: _declare(hp, name, entry) for name, entry in self.space.items()}
        config = dict(self.spec.defaults)
        config.update({k: values[k] for k in ("timesteps", "units", "dropout") if k in values})
        if self.spec.family == "stacked_lstm":
            width = config["units"] if isinstance(config["units"], int) else config["units"][0]
            config["units"] = (width,) * values.get("layers", len(self.spec.defaults["units"]))
        model = self.spec.load_builder()(**config)
        recipe = replace(self.spec.recipe, schedule="constant",
                         learning_rate=values.get("learning_rate", self.spec.recipe.learning_rate),
                         clipnorm=values.get("clipnorm", self.spec.recipe.clipnorm))
        return compile_model(model, recipe)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args, **kwargs):
        """Train a trial on `train`'s CPU fast path (`cpu_fast_path`: fused LSTM/GRU loops,
        several batches per step call); KerasTuner's plain fit on a GPU and with
        ``fast_path=False``.

        Trials of fewer than ``unroll_min_images`` images (epochs x training images) run the
        loops symbolically and in one chain: an unrolled graph takes seconds to build, and a
        second chain about a second, more than a short trial gains from them.
        ``python benchmarks/tune_trials.py`` measures the paths.
        """
        x = kwargs["x"] if "x" in kwargs else args[0]
        y = kwargs["y"] if "y" in kwargs else args[1]
        if not self.fast_path or has_gpu():
            return model.fit(*args, **kwargs)
        batch = kwargs.get("batch_size") or 32
        images = len(x) * kwargs.get("epochs", 1)
        model.steps_per_execution = cpu_steps_per_execution(-(-len(x) // batch))
        build_for_fit(model, x[:1], y[:1])
        long = images >= self.unroll_min_images
        with cpu_fast_path(model, enabled=True, unroll_steps=MAX_UNROLLED_STEPS if long else 0,
                           chains=CHAINS if long else 1):
            return model.fit(*args, **kwargs)


@contextlib.contextmanager
def frozen_heap():
    """Keep the objects alive now out of Python's garbage collector while the block runs.

    KerasTuner runs a full `gc.collect` twice before each trial, to free the last trial's
    graph. With TensorFlow imported, each one walks hundreds of thousands of long-lived objects
    (modules, functions, the data), and so does every automatic collection of the oldest
    generation during a fit. Frozen (`gc.freeze`), they are skipped; ``python
    benchmarks/tune_trials.py`` measures what that saves a trial. All that the block makes is
    still collected, and the objects are unfrozen afterwards. If something else has frozen
    objects already, the block changes nothing.

    Examples:
        >>> with frozen_heap():
        ...     gc.get_freeze_count() > 0
        True
        >>> gc.get_freeze_count()
        0
    """
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_search(search: kt.Tuner, *args, **kwargs) -> None:
    """``search.search(*args, **kwargs)``, on the zoo's trial path when its hypermodel asks for
    it (``ZooHyperModel(fast_path=True)``, the default): the heap frozen (`frozen_heap`) and each
    trial trained as `ZooHyperModel.fit` says.

    Examples:
        >>> search = make_tuner(ZooHyperModel("gru", default_space("gru")), max_trials=1,
        ...                     epochs=1, directory=tempfile.mkdtemp())
        >>> x, y = np.zeros((64, 28, 28), "uint8"), np.zeros(64, "int64")
        >>> run_search(search, x, y, epochs=1, validation_data=(x, y), verbose=0)
        >>> len(search.oracle.trials)
        1
    """
    fast = getattr(search.hypermodel, "fast_path", False)
    with frozen_heap() if fast else contextlib.nullcontext():
        search.search(*args, **kwargs)


class ResumableGridSearchOracle(kt.oracles.GridSearchOracle):
    """KerasTuner's grid oracle, able to resume.

    KerasTuner 1.4.8 does not save the grid's ordering of trials, so a reloaded grid search
    fails on its first new trial (keras-tuner issue #1055). Rebuild it from the reloaded trials.

    Examples:
        >>> ResumableGridSearchOracle(objective="val_accuracy", max_trials=2).max_trials
        2
    """

    def reload(self):
        super().reload()
        by_values = functools.cmp_to_key(
            lambda a, b: self._compare(a.hyperparameters.values, b.hyperparameters.values))
        ordered = sorted((self.trials[i] for i in self.start_order), key=by_values)
        for trial in ordered:
            self._ordered_ids.insert(trial.trial_id)
        self._populate_next = [trial.trial_id for trial in ordered]


def _oracle_seed(seed: int) -> int:
    # KerasTuner reads seed 0 as "no seed" and draws a random one (`seed or random.randint`),
    # so seed 0 would search differently on every run: shift the non-negative seeds by one.
    return seed + 1 if seed >= 0 else seed


def make_tuner(hypermodel: ZooHyperModel, kind: str = "random", *, max_trials: int = 10,
               epochs: int = 3, executions_per_trial: int = 1, directory="tuning_runs",
               project_name: str | None = None, overwrite: bool = False, seed: int = 0,
               distribution_strategy=None) -> kt.Tuner:
    """A KerasTuner tuner of `kind` maximising validation accuracy.

    Hyperband sizes its own brackets from `epochs` (its ``max_epochs``) instead of `max_trials`.
    The same `seed` draws the same trials on every run, 0 included.

    Examples:
        >>> tuner = make_tuner(ZooHyperModel("gru", default_space("gru")), "grid",
        ...                    directory=tempfile.mkdtemp())
        >>> type(tuner.oracle).__name__
        'ResumableGridSearchOracle'
    """
    if kind not in TUNERS:
        raise InvalidArgumentError(f"tuner {kind!r} is not one of {', '.join(TUNERS)}")
    if kind == "bayesian":
        try:
            import sklearn  # noqa: F401  (KerasTuner's Bayesian oracle fits a scikit-learn GP)
        except ImportError:
            raise SeqMnistZooError("--tuner bayesian needs scikit-learn, which is not installed: "
                                   "pip install 'seqmnist-zoo[bayesian]'") from None
    common = dict(objective="val_accuracy", executions_per_trial=executions_per_trial,
                  directory=str(directory), project_name=project_name or hypermodel.model_name,
                  overwrite=overwrite, seed=_oracle_seed(seed),
                  distribution_strategy=distribution_strategy)
    if kind == "hyperband":
        return kt.Hyperband(hypermodel, max_epochs=epochs, factor=3, **common)
    if kind == "grid":
        oracle = ResumableGridSearchOracle(objective=common.pop("objective"),
                                           max_trials=max_trials, seed=common.pop("seed"))
        return kt.Tuner(oracle=oracle, hypermodel=hypermodel, **common)
    tuner_class = {"random": kt.RandomSearch, "bayesian": kt.BayesianOptimization}[kind]
    return tuner_class(hypermodel, max_trials=max_trials, **common)


class ProjectLock:
    """An exclusive lock on a search project, so two searches cannot write one oracle.

    Examples:
        >>> with ProjectLock(tempfile.mkdtemp(), "demo") as lock:
        ...     lock.path.name
        '.demo.solo.lock'
    """

    def __init__(self, directory, project_name: str):
        tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "solo")
        self.path = Path(directory) / f".{project_name}.{tuner_id}.lock"
        self.handle = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "w")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise SeqMnistZooError(
                f"another search is already running on {self.path.parent}/"
                f"{self.path.name[1:].rsplit('.', 2)[0]}; wait for it, or use another "
                "--directory or --project-name") from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


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
         batch_size: int | None = None, verbose="auto") -> TuneResult:
    """Search NAME's hyperparameters on a validation split of the training set.

    `space` is a dict, a shipped space's name or a JSON space file (default: `default_space`). Re-running
    the same call resumes the project in ``directory/project_name``; ``overwrite=True`` starts
    afresh. The test set is never used. Writes ``best_model.keras`` and ``results.json`` into
    the project folder (the chief's, in a distributed search).

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
        search = make_tuner(hypermodel, tuner, max_trials=max_trials, epochs=epochs,
                            executions_per_trial=executions_per_trial, directory=directory,
                            project_name=project_name, overwrite=overwrite, seed=seed,
                            distribution_strategy=strategy)
        record_definition(Path(search.project_dir), definition)
        run_search(search, x_fit, y_fit, epochs=epochs, batch_size=recipe.batch_size,
                   validation_data=(x_val, y_val), callbacks=callbacks, verbose=verbose)
        return _report(search, name, memory, len(x_fit), (x_val, y_val), logdir, epochs)


DEFINITION_FILE = "definition.json"


def check_definition(project_dir, definition: dict[str, Any], overwrite: bool = False) -> None:
    """Refuse to resume a project that was made with other settings (`max_trials` may change).

    Examples:
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> record_definition(folder, {"epochs": 1, "train_samples": 2000})
        >>> check_definition(folder, {"epochs": 5, "train_samples": 2000})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        seqmnist_zoo.errors.InvalidArgumentError: tuning project ... settings: epochs 1 -> 5; pass ...
    """
    project_dir = Path(project_dir)
    if overwrite or not project_dir.is_dir():
        return
    recorded_file = project_dir / DEFINITION_FILE
    if not recorded_file.is_file():
        if (project_dir / "oracle.json").is_file():
            raise InvalidArgumentError(
                f"tuning project {project_dir} has no record of its settings (an older "
                "seqmnist-zoo made it); pass --overwrite to start it afresh, or another --project-name")
        return
    recorded = json.loads(recorded_file.read_text(encoding="utf-8"))
    asked = json.loads(json.dumps(definition))  # tuples -> lists, as recorded
    changes = [f"{key} {_short(recorded.get(key))} -> {_short(asked.get(key))}"
               for key in sorted(set(recorded) | set(asked)) if recorded.get(key) != asked.get(key)]
    if changes:
        raise InvalidArgumentError(
            f"tuning project {project_dir} was made with other settings: {'; '.join(changes)}; "
            "pass --overwrite to start it afresh, or another --project-name")


def record_definition(project_dir, definition: dict[str, Any]) -> None:
    """Write what defines a search project into its folder (see `check_definition`).

    Examples:
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> record_definition(folder, {"epochs": 3})
        >>> (folder / "definition.json").is_file()
        True
    """
    project_dir = Path(project_dir)
    project_dir.mkdir(parents=True, exist_ok=True)
    (project_dir / DEFINITION_FILE).write_text(json.dumps(definition, indent=2) + "\n", encoding="utf-8")


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


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

    Examples:
        >>> trials_table(tuner.oracle)[0]["status"]  # doctest: +SKIP
        'COMPLETED'
    """
    rows = [{"trial": _trial_number(t.trial_id), "trial_id": t.trial_id, "status": t.status,
             "score": t.score, "hyperparameters": dict(t.hyperparameters.values)}
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
