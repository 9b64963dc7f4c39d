"""How much a shipped recipe's test accuracy depends on its seed: retrain it with other seeds.

Usage: ``python -m tools.spread [NAME ...] --seeds 1 2 [--tag mnist-robust]`` trains each
recipe once per seed (`train` with ``seed=S``), measures the best checkpoint on the test set (and,
for a tag other than ``mnist``, on the real handwriting sets of `tools.realsets` in every form), and
records each run in ``tuning/results/seed_spread.json``. Runs already recorded are skipped, so an
interrupted spread resumes where it stopped. Each shipped weights record in the manifest then gets
a ``seed_spread``: the test accuracy of every seed (the shipped file's own seed included), their
mean and standard deviation, which `list`, `info`, the README table and the model cards show
beside the shipped figure, and for real sets each seed's lowest form. ``--manifest-only``
rewrites that from the recorded runs without training.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path
from typing import Any

from seqmnist_zoo.errors import SeqMnistZooError
from seqmnist_zoo.models.factory import get_model
from seqmnist_zoo.models.registry import get_model_spec, list_models
from seqmnist_zoo.models.specs import Recipe
from seqmnist_zoo.quiet import framework_logs_silenced
from tools.realsets import MissingRealDigitsError, check_real_sets, real_accuracy, real_sets

RESULTS = Path("tuning/results/seed_spread.json")
MANIFEST = Path(__file__).resolve().parents[1] / "seqmnist_zoo" / "models" / "weights" / "manifest.json"
COMMAND = "python -m tools.spread"


def seed_spread(shipped: dict[str, Any], runs: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The spread over seeds of a shipped weights record and the retrained runs of its recipe.

    Runs whose recipe differs from the shipped one in anything but the seed are left out; with
    no other seed left, there is no spread (None).

    Examples:
        >>> shipped = {"metrics": {"accuracy": 0.99}, "recipe": {"epochs": 3, "seed": 0}}
        >>> runs = {"1": {"test_accuracy": 0.98, "recipe": {"epochs": 3, "seed": 1}},
        ...         "2": {"test_accuracy": 0.97, "recipe": {"epochs": 9, "seed": 2}}}
        >>> seed_spread(shipped, runs)["test_accuracy_by_seed"]
        {'0': 0.99, '1': 0.98}
        >>> round(seed_spread(shipped, runs)["std"], 4)
        0.0071
    """
    def same_recipe(recipe):
        return _without_seed(recipe) == _without_seed(shipped["recipe"])

    by_seed = {str(shipped["recipe"].get("seed", 0)): shipped["metrics"]["accuracy"]}
    by_seed.update({seed: run["test_accuracy"] for seed, run in sorted(runs.items())
                    if same_recipe(run["recipe"])})
    if len(by_seed) < 2:
        return None
    values = list(by_seed.values())
    command = spread_command(shipped["model"], shipped["tag"]) if "model" in shipped else COMMAND
    spread = {"test_accuracy_by_seed": by_seed, "mean": statistics.fmean(values),
              "std": statistics.stdev(values), "runs": len(values), "command": command}
    lowest = {seed: {name: min(forms.values()) for name, forms in run["real_accuracy"].items()}
              for seed, run in sorted(runs.items())
              if same_recipe(run["recipe"]) and "real_accuracy" in run}
    if lowest:  # each seed's worst handed-over form of every real set
        spread["real_lowest_by_seed"] = lowest
    return spread


def spread_key(name: str, tag: str = "mnist") -> str:
    """Where a model's runs for weights `tag` are recorded: the name alone for ``mnist``.

    Examples:
        >>> spread_key("lstm"), spread_key("lstm", "mnist-robust")
        ('lstm', 'lstm:mnist-robust')
    """
    return name if tag == "mnist" else f"{name}:{tag}"


def spread_command(name: str, tag: str = "mnist") -> str:
    """The command that repeats the recipe of `name`'s weights `tag` with other seeds.

    Examples:
        >>> spread_command("lstm"), spread_command("lstm", "mnist-robust")
        ('python -m tools.spread lstm', 'python -m tools.spread lstm --tag mnist-robust')
    """
    return f"{COMMAND} {name}" + ("" if tag == "mnist" else f" --tag {tag}")


def _without_seed(recipe: dict[str, Any]) -> dict[str, Any]:
    """A recorded recipe without its seed; fields added to `Recipe` since it was recorded are
    taken at their defaults, which are what every earlier run trained with."""
    return {k: v for k, v in {**Recipe().to_dict(), **recipe}.items() if k != "seed"}


def write_manifest_spread(record: dict[str, Any], manifest=MANIFEST) -> list[str]:
    """Attach each shipped weights record's `seed_spread`; returns the models:tags updated.

    Examples:
        >>> copy = pathlib.Path(tempfile.mkdtemp()) / "manifest.json"
        >>> _ = copy.write_text(MANIFEST.read_text())
        >>> "lstm" in write_manifest_spread(read_spread(), copy)
        True
    """
    manifest = Path(manifest)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    updated = []
    for weights in data["weights"]:
        key = spread_key(weights["model"], weights["tag"])
        spread = seed_spread(weights, record.get(key, {}))
        weights.pop("seed_spread", None)
        if spread is not None:
            weights["seed_spread"] = spread
            updated.append(key)
    manifest.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return updated


def read_spread(results=RESULTS) -> dict[str, Any]:
    """The recorded retraining runs, by model and seed ({} before the first).

    Examples:
        >>> sorted(read_spread()["lstm"])
        ['1', '2']
    """
    results = Path(results)
    return json.loads(results.read_text(encoding="utf-8")) if results.is_file() else {}


def run_spread(names, seeds, results=RESULTS, runs_dir="runs/seeds", data=None,
               verbose="auto", tag: str = "mnist") -> dict[str, Any]:
    """Train and test each recipe of weights `tag` in `names` once per seed; returns the whole record.

    Examples:
        >>> run_spread(["simple_rnn"], [1])["simple_rnn"]["1"]["test_accuracy"]  # doctest: +SKIP
        0.98...
    """
    from seqmnist_zoo.models.pretrained import read_run_config
    from seqmnist_zoo.training.evaluation import evaluate
    from seqmnist_zoo.training.fit import train

    results = Path(results)
    record = read_spread(results)
    real = None  # the real sets, read once, only for the tags judged on them
    for name in names:
        key = spread_key(name, tag)
        for seed in seeds:
            if str(seed) in record.get(key, {}):
                continue
            folder = Path(runs_dir) / name / ("" if tag == "mnist" else tag)
            output = folder / f"seed_{seed}" / f"{name}.weights.h5"
            run = train(name, seed=seed, tag=tag, output=output, overwrite=True, data=data,
                        verbose=verbose)
            if run.interrupted:
                return record
            model = get_model(name, weights=str(output), **read_run_config(output))
            test = evaluate(model, data=data[1] if isinstance(data, tuple) else data)
            entry = {
                "test_accuracy": test["accuracy"], "test_loss": test["loss"],
                "val_accuracy": run.record["val_accuracy"], "best_epoch": run.record["best_epoch"],
                "train_seconds": run.record["train_seconds"], "recipe": run.record["recipe"],
                "environment": run.record["environment"]}
            if tag != "mnist":
                real = real_sets() if real is None else real
                entry["real_accuracy"] = real_accuracy(model, real)
            record.setdefault(key, {})[str(seed)] = entry
            results.parent.mkdir(parents=True, exist_ok=True)
            partial = results.with_suffix(".partial")
            partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            os.replace(partial, results)
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.spread", description=__doc__)
    parser.add_argument("names", nargs="*", help="default: every shipped model, fastest first")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2],
                        help="the seeds to train with (default: 1 2; the shipped files are seed 0)")
    parser.add_argument("--tag", default="mnist",
                        help="the weights tag whose recipe is repeated (default: mnist; mnist-robust "
                             "runs are also read on the real handwriting sets)")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help=f"the record of the runs (default: {RESULTS})")
    parser.add_argument("--manifest-only", action="store_true",
                        help="only copy the recorded runs' spread into the weights manifest")
    args = parser.parse_args(argv)
    if args.manifest_only:
        print("updated:", ", ".join(write_manifest_spread(read_spread(args.results))) or "nothing")
        return
    fastest_first = ["simple_rnn", "lstm", "gru", "stacked_lstm", "bilstm"]
    shipped = list_models(pretrained=True)
    names = args.names or [n for n in fastest_first if n in shipped] + [
        n for n in shipped if n not in fastest_first]
    try:
        for name in names:
            get_model_spec(name).recipe_for(args.tag)
        if args.tag != "mnist":
            check_real_sets()  # before hours of training, not after
        with framework_logs_silenced():
            record = run_spread(names, args.seeds, args.results, verbose=2, tag=args.tag)
    except (SeqMnistZooError, MissingRealDigitsError) as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    write_manifest_spread(record)
    print(json.dumps({n: {s: r["test_accuracy"] for s, r in seeds.items()} for n, seeds in record.items()},
                     indent=2))


if __name__ == "__main__":
    main()
