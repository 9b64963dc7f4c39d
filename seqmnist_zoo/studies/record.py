"""A declared study and its record: the study file, its planned runs, the runs recorded so far.

The runner (`seqmnist_zoo.studies.runner`) writes records, the report and figures
(`seqmnist_zoo.studies.report`, `seqmnist_zoo.studies.figures`) read them; all three share this module.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError
from .run_settings import settings_of

RESULTS_DIR = Path("studies/results")


def load_study(path) -> dict[str, Any]:
    """Read and check a study file; every run's settings are validated before anything trains.

    Examples:
        >>> study = load_study("studies/plain_rnn.json")
        >>> study["name"], study["groups"][0]["name"]
        ('plain_rnn', 'T28')
    """
    path = Path(path)
    try:
        study = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise InvalidArgumentError(f"could not read study file {path}: {err}") from None
    if not isinstance(study, dict) or not study.get("groups"):
        raise InvalidArgumentError(f"{path} is not a study file: it needs a non-empty 'groups' list")
    names = [group.get("name") for group in study["groups"]]
    if None in names or len(set(names)) != len(names):
        raise InvalidArgumentError(f"{path}: every group needs its own 'name' (found {names})")
    study["name"] = path.stem
    for run in planned_runs(study):
        settings_of(run["declared"])
    return study


def planned_runs(study: dict[str, Any]) -> list[dict[str, Any]]:
    """Every run the study declares, ordered seed by seed: ``{group, declared, seed}`` each.

    Examples:
        >>> study = {"defaults": {"epochs": 1}, "seeds": [0, 1], "groups": [
        ...     {"name": "g", "grid": {"timesteps": [14, 28]}}]}
        >>> [(r["declared"]["timesteps"], r["seed"]) for r in planned_runs(study)]
        [(14, 0), (28, 0), (14, 1), (28, 1)]
    """
    runs = []
    for group in study["groups"]:
        grid = group.get("grid", {})
        for point in itertools.product(*grid.values()):
            declared = {**study.get("defaults", {}), **group.get("settings", {}),
                        **dict(zip(grid, point, strict=True))}
            for rank, seed in enumerate(group.get("seeds", study.get("seeds", [0]))):
                runs.append({"group": group["name"], "declared": declared, "seed": seed,
                             "rank": rank})
    runs.sort(key=lambda run: run["rank"])
    return runs


def results_path(study: dict[str, Any], results_dir=RESULTS_DIR) -> Path:
    """Where a study's record lives: ``studies/results/NAME.json``.

    Examples:
        >>> results_path({"name": "timesteps"}).as_posix()
        'studies/results/timesteps.json'
    """
    return Path(results_dir) / f"{study['name']}.json"


def read_record(study: dict[str, Any], results_dir=RESULTS_DIR) -> dict[str, Any]:
    """The study's record so far (``{"runs": []}`` before its first run).

    Examples:
        >>> read_record({"name": "nothing"}, tempfile.mkdtemp())
        {'runs': []}
    """
    path = results_path(study, results_dir)
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"runs": []}


def find_run(record: dict[str, Any], group: str, declared: dict[str, Any], seed: int):
    """The recorded run of `group` with these settings and seed, or None.

    Settings compare complete (defaults filled in), so a changed setting finds nothing.

    Examples:
        >>> record = {"runs": [{"group": "g", "seed": 0, "settings": settings_of({"epochs": 1})}]}
        >>> find_run(record, "g", {"epochs": 1, "units": 128}, 0) is not None
        True
        >>> find_run(record, "g", {"epochs": 2}, 0) is None
        True
    """
    settings = settings_of(declared)
    for run in record["runs"]:
        if run["group"] == group and run["seed"] == seed and run["settings"] == settings:
            return run
    return None


def write_record(record: dict[str, Any], path) -> None:
    """Write a study record atomically, one run per line (small files, readable diffs).

    Examples:
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.json"
        >>> write_record({"study": "s", "runs": [{"seed": 0}, {"seed": 1}]}, path)
        >>> json.loads(path.read_text())["runs"][1]
        {'seed': 1}
        >>> len(path.read_text().splitlines())
        7
    """
    path = Path(path)
    lines = ["{", *(f" {json.dumps(k)}: {json.dumps(v)}," for k, v in record.items() if k != "runs"),
             ' "runs": [', ",\n".join("  " + json.dumps(run) for run in record.get("runs", [])),
             " ]", "}"]
    text = "\n".join(lines) + "\n"
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def example_record() -> tuple[dict[str, Any], dict[str, Any]]:
    """A two-point study with two recorded seeds of one point and a stale run (for examples).

    Examples:
        >>> study, record = example_record()
        >>> study["groups"][0]["grid"]
        {'timesteps': [14, 28]}
    """
    study = {"name": "example", "defaults": {"epochs": 1, "units": 8}, "seeds": [0, 1],
             "groups": [{"name": "g", "claim": "95%", "grid": {"timesteps": [14, 28]}}],
             "curve_timesteps": [14], "gradient_timesteps": [14]}

    def run(seed, accuracy, units=8):
        return {"group": "g", "seed": seed, "outcome": "ok", "test_accuracy": accuracy,
                "settings": settings_of({"epochs": 1, "units": units, "timesteps": 14}),
                "slice_accuracies": [accuracy - 0.01, accuracy + 0.01],
                "checkpoint_steps": [5, 10], "val_accuracy": [accuracy - 0.1, accuracy],
                "gradient_norms": [[0, 1.0], [5, 2.0]], "train_seconds": 3.0,
                "timestep_gradients_before": [0.1] * 3 + [1.0] * 11,
                "timestep_gradients_after": [1.0] * 14}
    return study, {"runs": [run(0, 0.94), run(1, 0.96), run(0, 0.5, units=16)]}
