"""KerasTuner set up for the zoo: the tuner kinds, a grid that resumes, a project lock and its
definition, a heap kept still and state files written whole while a search runs."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import json
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras_tuner as kt
from keras_tuner.src.engine.stateful import Stateful

from ..errors import InvalidArgumentError, SeqMnistZooError

if TYPE_CHECKING:
    from .hypermodel import ZooHyperModel

TUNERS = ("random", "hyperband", "bayesian", "grid")


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


@contextlib.contextmanager
def whole_state_files():
    """Make KerasTuner write each state file whole or not at all while the block runs.

    KerasTuner rewrites ``oracle.json``, every ``trial.json`` and the tuner's file in place, so a
    search killed in the middle of a write leaves a truncated file that its resume cannot read
    (a bare ``JSONDecodeError``). Here each is written beside its old self and renamed over it.
    Paths that are not local files (``gs://...``) are written as KerasTuner writes them.

    Examples:
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> with whole_state_files():
        ...     _ = kt.engine.trial.Trial(kt.HyperParameters(), "7").save(str(folder / "trial.json"))
        ...     json.loads((folder / "trial.json").read_text())["trial_id"]
        '7'
        >>> sorted(p.name for p in folder.iterdir())
        ['trial.json']
    """
    keras_tuner_save = Stateful.save

    def save_whole(self, fname):
        if "://" in str(fname):
            return keras_tuner_save(self, fname)
        text = json.dumps(self.get_state())
        _write_whole(Path(fname), text)
        return text

    Stateful.save = save_whole
    try:
        yield
    finally:
        Stateful.save = keras_tuner_save


def _write_whole(path: Path, text: str) -> None:
    """Write `text` beside `path` and rename it over: a kill leaves the old file or the new one."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def run_search(search: kt.Tuner, *args, **kwargs) -> None:
    """``search.search(*args, **kwargs)`` with its state files written whole
    (`whole_state_files`), so a killed search resumes; on the zoo's trial path when its
    hypermodel asks for it (``ZooHyperModel(fast_path=True)``, the default): the heap frozen
    (`frozen_heap`) and each trial trained as `ZooHyperModel.fit` says.

    Examples:
        >>> from seqmnist_zoo.tuning.hypermodel import ZooHyperModel
        >>> from seqmnist_zoo.tuning.spaces import default_space
        >>> search = make_tuner(ZooHyperModel("gru", default_space("gru")), max_trials=1,
        ...                     epochs=1, directory=tempfile.mkdtemp())
        >>> x, y = np.zeros((64, 28, 28), "uint8"), np.zeros(64, "int64")
        >>> run_search(search, x, y, epochs=1, validation_data=(x, y), verbose=0)
        >>> len(search.oracle.trials)
        1
    """
    fast = getattr(search.hypermodel, "fast_path", False)
    with whole_state_files(), frozen_heap() if fast else contextlib.nullcontext():
        search.search(*args, **kwargs)


def _retry_unrecorded_trials(oracle: kt.Oracle) -> None:
    """Queue again the trials a kill left RUNNING (or IDLE) on disk but not in the oracle's state.

    KerasTuner writes a new trial's file before its own state file; a search killed between the
    two reloads that trial as RUNNING, yet neither runs it again nor counts its values as tried
    (a random search drew them again and never finished the trial). Idempotent: a trial already
    queued is left alone.
    """
    queued = set(oracle._retry_queue)
    for trial_id, trial in sorted(oracle.trials.items()):
        if trial.status not in ("RUNNING", "IDLE") or trial_id in queued:
            continue
        oracle._retry_queue.append(trial_id)
        if trial_id not in oracle.start_order:
            oracle.start_order.append(trial_id)
        oracle._record_values(trial)  # its values count as tried: no new trial draws them again


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
        _retry_unrecorded_trials(self)  # before the ordering below, which reads start_order
        by_values = functools.cmp_to_key(
            lambda a, b: self._compare(a.hyperparameters.values, b.hyperparameters.values))
        ordered = sorted((self.trials[i] for i in self.start_order), key=by_values)
        for trial in ordered:
            self._ordered_ids.insert(trial.trial_id)
        self._populate_next = [trial.trial_id for trial in ordered]


class SeededTrials:
    """Tuner mixin: each trial starts from a seed of its own, made of the search's seed and the
    trial's id, so a trial trains the same whether the search ran straight through or was
    killed and resumed (one seed per process would shift every trial after a resume).
    Executions of one trial follow each other in that seed's stream.

    Examples:
        >>> from seqmnist_zoo.tuning.hypermodel import ZooHyperModel
        >>> from seqmnist_zoo.tuning.spaces import default_space
        >>> tuner = make_tuner(ZooHyperModel("gru", default_space("gru")), seed=3,
        ...                    directory=tempfile.mkdtemp())
        >>> isinstance(tuner, SeededTrials), tuner.search_seed
        (True, 3)
    """

    search_seed = 0

    def run_trial(self, trial, *args, **kwargs):
        import keras

        keras.utils.set_random_seed(zlib.crc32(f"{self.search_seed}:{trial.trial_id}".encode()))
        return super().run_trial(trial, *args, **kwargs)


class _Tuner(SeededTrials, kt.Tuner):
    pass


class _RandomSearch(SeededTrials, kt.RandomSearch):
    pass


class _BayesianOptimization(SeededTrials, kt.BayesianOptimization):
    pass


class _Hyperband(SeededTrials, kt.Hyperband):
    pass


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
    The same `seed` draws the same trials on every run, 0 included, and each trial trains from
    a seed of its own (`SeededTrials`).

    Examples:
        >>> from seqmnist_zoo.tuning.hypermodel import ZooHyperModel
        >>> from seqmnist_zoo.tuning.spaces import default_space
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
        build = functools.partial(_Hyperband, hypermodel, max_epochs=epochs, factor=3, **common)
    elif kind == "grid":
        oracle = ResumableGridSearchOracle(objective=common.pop("objective"),
                                           max_trials=max_trials, seed=common.pop("seed"))
        build = functools.partial(_Tuner, oracle=oracle, hypermodel=hypermodel, **common)
    else:
        tuner_class = {"random": _RandomSearch, "bayesian": _BayesianOptimization}[kind]
        build = functools.partial(tuner_class, hypermodel, max_trials=max_trials, **common)
    try:
        tuner = build()  # reloads the project's state files when it exists
    except json.JSONDecodeError:
        raise damaged_project_error(Path(directory) / common["project_name"]) from None
    if isinstance(tuner.oracle, kt.Oracle):  # a distributed worker holds a client, not the oracle
        _retry_unrecorded_trials(tuner.oracle)
    tuner.search_seed = seed
    return tuner


def project_trials(project_dir) -> dict[str, int] | None:
    """How many trials a search project holds, by status; None when its state files do not all
    parse (`damaged_project_error` says which).

    Examples:
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> (folder / "trial_0").mkdir()
        >>> _ = (folder / "trial_0" / "trial.json").write_text('{"status": "COMPLETED"}')
        >>> project_trials(folder)
        {'COMPLETED': 1}
    """
    states = _state_files(project_dir)
    if None in states.values():
        return None
    counts: dict[str, int] = {}
    for name, state in states.items():
        if name.endswith("trial.json"):
            counts[state.get("status")] = counts.get(state.get("status"), 0) + 1
    return counts


def _state_files(project_dir) -> dict[str, Any]:
    """Each JSON state file of a project (path relative to it) and its content, None if it does
    not parse."""
    project_dir = Path(project_dir)
    states = {}
    for path in sorted(project_dir.glob("*.json")) + sorted(project_dir.glob("trial_*/trial.json")):
        try:
            states[str(path.relative_to(project_dir))] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            states[str(path.relative_to(project_dir))] = None
    return states


def damaged_project_error(project_dir) -> SeqMnistZooError:
    """The error for a project whose state files do not all parse, naming them.

    Examples:
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "oracle.json").write_text("")
        >>> str(damaged_project_error(folder)).endswith("another --project-name")
        True
    """
    damaged = [name for name, state in _state_files(project_dir).items() if state is None]
    return SeqMnistZooError(
        f"tuning project {project_dir}: cannot resume it, {', '.join(damaged) or 'a state file'} "
        "is not valid JSON (cut short: an earlier search was killed while writing it); pass "
        "--overwrite to start the project afresh, or another --project-name")


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
    try:
        recorded = json.loads(recorded_file.read_text(encoding="utf-8"))
    except ValueError:
        raise damaged_project_error(project_dir) from None
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
    _write_whole(project_dir / DEFINITION_FILE, json.dumps(definition, indent=2) + "\n")


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
