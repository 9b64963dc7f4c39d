"""Tables and figures of a study's record: every figure in the guides is drawn from here.

`write_report` summarises the runs of ``studies/results/NAME.json`` that the study file still
declares: per point (a group and one value of each grid setting) the number of seeds, the test
accuracy's mean, standard deviation and range, how many runs failed (NaN loss, or stuck below 20%),
the weight-gradient norm's peak during training, and how strongly the first quarter of the
timesteps reaches the loss compared with the last quarter. It stores the markdown tables in the
record (``markdown``), which the docs pages take between ``<!-- study NAME.TABLE:start -->``
markers (see `tools.cards`), and draws the figures the study file lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .run_settings import settings_of


def current_runs(study: dict[str, Any], record: dict[str, Any]) -> list[dict[str, Any]]:
    """The recorded runs that the study file still declares (changed settings drop out).

    Examples:
        >>> study, record = example_record()
        >>> len(current_runs(study, record)), len(record["runs"])
        (2, 3)
    """
    from .record import find_run, planned_runs

    found = (find_run(record, r["group"], r["declared"], r["seed"]) for r in planned_runs(study))
    return [run for run in found if run is not None]


def grid_keys(study: dict[str, Any]) -> list[str]:
    """The settings the study varies, in the order its groups declare them.

    Examples:
        >>> grid_keys({"groups": [{"grid": {"cell": [], "timesteps": []}}, {"grid": {"cell": []}}]})
        ['cell', 'timesteps']
    """
    keys: list[str] = []
    for group in study["groups"]:
        keys += [k for k in group.get("grid", {}) if k not in keys]
    return keys


def summarize(study: dict[str, Any], record: dict[str, Any]) -> list[dict[str, Any]]:
    """One summary per declared point, in declaration order, with the statistics over its seeds.

    Points without any recorded run are listed with ``n = 0``.

    Examples:
        >>> study, record = example_record()
        >>> [(s["settings"]["timesteps"], s["n"], s["planned"]) for s in summarize(study, record)]
        [(14, 2, 2), (28, 0, 2)]
    """
    from .record import find_run, planned_runs

    keys, points = grid_keys(study), {}
    for planned in planned_runs(study):
        settings = settings_of(planned["declared"])
        point = (planned["group"], tuple(settings[k] for k in keys))
        entry = points.setdefault(point, {"group": planned["group"], "settings": settings,
                                          "planned": 0, "runs": []})
        entry["planned"] += 1
        run = find_run(record, planned["group"], planned["declared"], planned["seed"])
        if run is not None:
            entry["runs"].append(run)
    return [_statistics(entry) for entry in points.values()]


def _statistics(entry: dict[str, Any]) -> dict[str, Any]:
    runs = entry.pop("runs")
    accuracy = np.array([r["test_accuracy"] for r in runs])
    failed = [r for r in runs if r["outcome"] != "ok"]
    peaks = [max(n for _, n in r["gradient_norms"] if n is not None)
             for r in runs if any(n is not None for _, n in r["gradient_norms"])]
    return {**entry, "n": len(runs), "failed": len(failed),
            "nan": sum(r["outcome"] == "nan" for r in runs),
            "mean": float(accuracy.mean()) if len(runs) else None,
            "std": float(accuracy.std(ddof=1)) if len(runs) > 1 else None,
            "min": float(accuracy.min()) if len(runs) else None,
            "max": float(accuracy.max()) if len(runs) else None,
            "slice_min": min((min(r["slice_accuracies"]) for r in runs), default=None),
            "slice_max": max((max(r["slice_accuracies"]) for r in runs), default=None),
            "peak_gradient_norm": float(np.median(peaks)) if peaks else None,
            "reach_before": _median([reach(r["timestep_gradients_before"]) for r in runs]),
            "reach_after": _median([reach(r["timestep_gradients_after"]) for r in runs])}


def _median(values):
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def reach(profile) -> float | None:
    """How much the first quarter of the timesteps reaches the loss, relative to the last quarter.

    The ratio of the mean per-step input gradient over the first quarter of the steps to that over
    the last quarter: about 1 when early rows matter as much as late ones, far below 1 when the
    gradient from the end of the sequence vanishes before it gets back to the start. One step: 1.

    Examples:
        >>> reach([1e-6, 1e-6, 1e-3, 1e-3])
        0.001
        >>> reach(None) is None
        True
    """
    if not profile:
        return None
    quarter = max(len(profile) // 4, 1)
    late = float(np.mean(profile[-quarter:]))
    return float(np.mean(profile[:quarter])) / late if late > 0 else None


def mean_std(summary: dict[str, Any]) -> str:
    """``99.12% ± 0.05 (3)``: mean test accuracy ± standard deviation in points (seeds).

    Examples:
        >>> mean_std({"mean": 0.9912, "std": 0.0005, "n": 3, "planned": 3})
        '99.12% ± 0.05 (3)'
        >>> mean_std({"mean": 0.5, "std": None, "n": 1, "planned": 3})
        '50.00% (1 of 3)'
        >>> mean_std({"mean": None, "std": None, "n": 0, "planned": 3})
        'not run yet'
    """
    if not summary["n"]:
        return "not run yet"
    seeds = f"{summary['n']}" if summary["n"] == summary["planned"] else \
        f"{summary['n']} of {summary['planned']}"
    if summary["std"] is None:
        return f"{summary['mean']:.2%} ({seeds})"
    return f"{summary['mean']:.2%} ± {summary['std'] * 100:.2f} ({seeds})"


def _value(value) -> str:
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _sci(value) -> str:
    return "-" if value is None else f"{value:.2g}"


def _failed(summary: dict[str, Any]) -> str:
    if not summary["n"]:
        return "-"
    nan = f" ({summary['nan']} NaN)" if summary["nan"] else ""
    return f"{summary['failed']} of {summary['n']}{nan}"


def summary_table(study: dict[str, Any], summaries: list[dict[str, Any]]) -> str:
    """The study's main table: one row per point, grid settings first, then the measurements.

    Examples:
        >>> study, record = example_record()
        >>> print(summary_table(study, summarize(study, record)).splitlines()[2])
        | g | 14 | 95.00% ± 1.41 (2) | 94.00%–96.00% | 0 of 2 | 2 | 0.1 → 1 |
    """
    keys = grid_keys(study)
    labels = {g["name"]: g.get("label", g["name"]) for g in study["groups"]}
    lines = ["| runs | " + " | ".join(keys) + " | test accuracy, mean ± std (seeds) | range "
             "| failed | peak gradient norm, median over seeds | first/last quarter gradient, start → end |",
             "|---|" + "---|" * len(keys) + "---|---|---|---|---|"]
    for s in summaries:
        cells = [labels[s["group"]], *(_value(s["settings"][k]) for k in keys), mean_std(s),
                 "-" if not s["n"] else f"{s['min']:.2%}–{s['max']:.2%}",
                 _failed(s),
                 _sci(s["peak_gradient_norm"]),
                 f"{_sci(s['reach_before'])} → {_sci(s['reach_after'])}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def recipes_table(study: dict[str, Any], summaries: list[dict[str, Any]]) -> str:
    """Tutorial recipes: what each claims, what it measures here over seeds, and on 1,000 digits.

    Examples:
        >>> study, record = example_record()
        >>> print(recipes_table(study, summarize(study, record)).splitlines()[2])
        | g | 95% | 95.00% ± 1.41 (2) | 94.00%–96.00% | 0 of 2 | 93.0%–97.0% |
    """
    groups = {g["name"]: g for g in study["groups"]}
    lines = ["| recipe | claim | test accuracy, mean ± std (seeds) | range over seeds "
             "| failed | any 1,000-digit slice |", "|---|---|---|---|---|---|"]
    for s in summaries:
        group = groups[s["group"]]
        lines.append("| " + " | ".join([
            group.get("label", group["name"]), group.get("claim", "-"), mean_std(s),
            "-" if not s["n"] else f"{s['min']:.2%}–{s['max']:.2%}", _failed(s),
            "-" if not s["n"] else f"{s['slice_min']:.1%}–{s['slice_max']:.1%}"]) + " |")
    return "\n".join(lines)


def about(study: dict[str, Any], summaries: list[dict[str, Any]]) -> str:
    """What the study ran, how much of it is recorded, and the command that reproduces it.

    Examples:
        >>> study, record = example_record()
        >>> about(study, summarize(study, record)).splitlines()[-1].split(" Reproduce")[0]
        'Recorded so far: 2 of 4 runs.'
    """
    done = sum(s["n"] for s in summaries)
    planned = sum(s["planned"] for s in summaries)
    status = f"All {planned} runs recorded." if done == planned else \
        f"Recorded so far: {done} of {planned} runs."
    return (f"{study.get('description', '')}\n\n{status} Reproduce or resume: "
            f"`python -m seqmnist_zoo.studies.runner studies/{study['name']}.json`.")


TABLES = {"summary": summary_table, "recipes": recipes_table}


def write_report(study: dict[str, Any], record: dict[str, Any], results_dir=None) -> dict[str, Any]:
    """Write the tables into the record and draw the study's figures beside it.

    Examples:
        >>> study, record = example_record()
        >>> study["figures"] = ["curves"]
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> len(write_report(study, record, folder)["markdown"]["summary"].splitlines())
        4
        >>> sorted(p.name for p in folder.iterdir())
        ['example.json', 'example_curves.png']
    """
    from .figures import FIGURES
    from .record import RESULTS_DIR, results_path, write_record

    results_dir = Path(results_dir or RESULTS_DIR)
    summaries = summarize(study, record)
    record["markdown"] = {name: TABLES[name](study, summaries)
                          for name in study.get("tables", ["summary"])}
    record["markdown"]["about"] = about(study, summaries)
    record["summaries"] = summaries
    for name in study.get("figures", []):
        FIGURES[name](study, current_runs(study, record), results_dir / f"{study['name']}_{name}.png")
    results_dir.mkdir(parents=True, exist_ok=True)
    write_record(record, results_path(study, results_dir))
    return record


