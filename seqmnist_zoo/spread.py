"""How much a shipped recipe's test accuracy depends on its seed: retrain it with other seeds.

Usage: ``python -m seqmnist_zoo.spread [NAME ...] --seeds 1 2`` trains each recipe once per seed
(`train` with ``seed=S``), measures the best checkpoint on the test set, and records each run in
``tuning/results/seed_spread.json``. Runs already recorded are skipped, so an interrupted spread
resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from .registry import get_model, list_models

RESULTS = Path("tuning/results/seed_spread.json")


def run_spread(names, seeds, results=RESULTS, runs_dir="runs/seeds", data=None,
               verbose="auto") -> dict[str, Any]:
    """Train and test each recipe in `names` once per seed; returns the whole record.

    Examples:
        >>> run_spread(["simple_rnn"], [1])["simple_rnn"]["1"]["test_accuracy"]  # doctest: +SKIP
        0.98...
    """
    from .pretrained import read_run_config
    from .training import evaluate, train

    results = Path(results)
    record = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else {}
    for name in names:
        for seed in seeds:
            if str(seed) in record.get(name, {}):
                continue
            output = Path(runs_dir) / name / f"seed_{seed}" / f"{name}.weights.h5"
            run = train(name, seed=seed, output=output, overwrite=True, data=data, verbose=verbose)
            if run.interrupted:
                return record
            model = get_model(name, weights=str(output), **read_run_config(output))
            test = evaluate(model, data=data[1] if isinstance(data, tuple) else data)
            record.setdefault(name, {})[str(seed)] = {
                "test_accuracy": test["accuracy"], "test_loss": test["loss"],
                "val_accuracy": run.record["val_accuracy"], "best_epoch": run.record["best_epoch"],
                "train_seconds": run.record["train_seconds"], "recipe": run.record["recipe"],
                "environment": run.record["environment"]}
            results.parent.mkdir(parents=True, exist_ok=True)
            partial = results.with_suffix(".partial")
            partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            os.replace(partial, results)
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m seqmnist_zoo.spread", description=__doc__)
    parser.add_argument("names", nargs="*", help="default: every shipped model, fastest first")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    fastest_first = ["simple_rnn", "lstm", "gru", "stacked_lstm", "bilstm"]
    shipped = list_models(pretrained=True)
    names = args.names or [n for n in fastest_first if n in shipped] + [
        n for n in shipped if n not in fastest_first]
    record = run_spread(names, args.seeds, args.results, verbose=2)
    print(json.dumps({n: {s: r["test_accuracy"] for s, r in seeds.items()} for n, seeds in record.items()},
                     indent=2))


if __name__ == "__main__":
    main()
