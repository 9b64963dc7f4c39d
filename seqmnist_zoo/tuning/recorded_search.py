"""A recorded search: one grid search per model over a search file, summarised as a table and plot.

Usage: ``python -m seqmnist_zoo.tuning.recorded_search timesteps_study`` (a shipped space, see
`seqmnist_zoo.tuning.spaces`, or a study file) writes ``tuning/results/<study>.json`` (every trial, the
table) and ``tuning/results/<study>.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from .search import tune
from .spaces import load_space


def run_recorded_search(study_name, directory="tuning_runs/studies", data=None, overwrite: bool = False,
              verbose="auto", results_dir="tuning/results") -> dict[str, Any]:
    """Run the study file's search for each of its models and record the results beside it.

    Examples:
        >>> run_recorded_search("timesteps_study")["models"]  # doctest: +SKIP
        ['lstm', 'gru']
    """
    path = Path(study_name)
    study = load_space(study_name)
    out_dir = Path(results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[int, dict[str, float]]] = {}
    for name in study["models"]:
        started = time.perf_counter()
        result = tune(name, tuner=study.get("tuner", "grid"), max_trials=_grid_size(study),
                      epochs=study["epochs"], train_samples=study.get("train_samples"),
                      space=study["hyperparameters"], directory=directory,
                      project_name=f"{path.stem}_{name}", overwrite=overwrite, data=data,
                      verbose=verbose)
        rows[name] = {t["hyperparameters"]["timesteps"]: {"val_accuracy": t["score"]}
                      for t in result.trials if t["status"] == "COMPLETED"}
        rows[name]["seconds"] = round(time.perf_counter() - started)
    record = {"study": path.stem, "description": study.get("description", ""),
              "command": f"python -m seqmnist_zoo.tuning.recorded_search {study_name}",
              "models": study["models"], "results": rows, "table": study_table(rows)}
    (out_dir / f"{path.stem}.json").write_text(json.dumps(record, indent=2) + "\n")
    plot_study(rows, out_dir / f"{path.stem}.png", study.get("description", ""))
    return record


def _grid_size(study: dict[str, Any]) -> int:
    size = 1
    for entry in study["hyperparameters"].values():
        size *= len(entry.get("values", [None]))
    return size


def study_table(rows: dict[str, dict]) -> str:
    """A markdown table: one row per timestep layout, one validation-accuracy column per model.

    Examples:
        >>> print(study_table({"gru": {28: {"val_accuracy": 0.98}, "seconds": 9}}))
        | timesteps x features | gru |
        |---|---|
        | 28 x 28 | 98.00% |
        | search time | 9 s |
    """
    names = list(rows)
    steps = sorted({t for r in rows.values() for t in r if t != "seconds"}, key=int)
    lines = ["| timesteps x features | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    for t in steps:
        cells = [f"{rows[n][t]['val_accuracy']:.2%}" if t in rows[n] else "-" for n in names]
        lines.append(f"| {t} x {784 // int(t)} | " + " | ".join(cells) + " |")
    lines.append("| search time | " + " | ".join(f"{rows[n]['seconds']} s" for n in names) + " |")
    return "\n".join(lines)


def plot_study(rows: dict[str, dict], output, title: str = "") -> None:
    """Validation accuracy against timesteps, one line per model, saved as PNG.

    The timesteps are the study's discrete choices, drawn evenly spaced in order so that close
    values (14 and 16, 49 and 56) keep readable labels.

    Examples:
        >>> plot_study({"gru": {7: {"val_accuracy": .9}, 28: {"val_accuracy": .98}}},
        ...            tempfile.mktemp(suffix=".png"))
    """
    from ..reports import plt

    figure, axis = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    every = sorted({int(t) for by_steps in rows.values() for t in by_steps if t != "seconds"})
    position = {t: i for i, t in enumerate(every)}
    for name, by_steps in rows.items():
        steps = sorted(int(t) for t in by_steps if t != "seconds")
        axis.plot([position[t] for t in steps], [by_steps[t]["val_accuracy"] * 100 for t in steps],
                  marker="o", label=name)
    axis.set_xticks(range(len(every)), [str(t) for t in every])
    axis.set(xlabel="timesteps T (each step reads 784 / T pixels)", ylabel="validation accuracy (%)",
             title="Accuracy against the timestep reshape")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(output)
    plt.close(figure)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m seqmnist_zoo.tuning.recorded_search",
                                     description=__doc__)
    parser.add_argument("study", help="a shipped study space (e.g. timesteps_study) or a file")
    parser.add_argument("--overwrite", action="store_true", help="re-run finished trials")
    args = parser.parse_args(argv)
    record = run_recorded_search(args.study, overwrite=args.overwrite, verbose=2)
    print(record["table"])


if __name__ == "__main__":
    main()
