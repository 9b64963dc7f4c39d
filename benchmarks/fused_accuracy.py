"""Does a shipped recipe still reach its accuracy when trained on the zoo's CPU fast path?

    python benchmarks/fused_accuracy.py [lstm gru ...] [--output benchmarks/fused_accuracy.json]

Trains each named family with its full shipped recipe (seed 0) through `seqmnist_zoo.train`, on
this machine's CPU path (the fused loops, bfloat16 matmul operands where the CPU has bf16 matrix
units), evaluates the best checkpoint on the 10,000 test digits, and records it beside the
shipped float32 result and its seed spread. Each family is merged into the JSON as it finishes,
so an interrupted run keeps the families already done.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqmnist_zoo import evaluate, get_model_spec, list_models, train  # noqa: E402


def measure(name: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        result = train(name, output=Path(folder) / f"{name}.weights.h5", verbose=0)
        metrics = evaluate(name, weights=str(result.output))
    shipped = get_model_spec(name).weights_for("mnist")
    spread = (shipped.seed_spread or {}).get("test_accuracy_by_seed", {})
    return {"test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"],
            "val_accuracy": result.record["val_accuracy"], "best_epoch": result.record["best_epoch"],
            "training_path": result.record["training_path"],
            "train_seconds": result.record["train_seconds"],
            "shipped_float32": {"test_accuracy": shipped.metrics["accuracy"],
                                "seeds": sorted(spread.values())},
            "environment": result.record["environment"]}


def render(results: dict) -> str:
    """One row per family: the fast path's test accuracy beside the float32 recipe's seeds."""
    lines = ["Shipped recipes (seed 0) trained on the CPU fast path and measured on the full test set "
             "(`python benchmarks/fused_accuracy.py`, one run per family), beside the same recipe "
             "trained in float32 with 3 seeds:", "",
             "| model | matmul operands | test accuracy | float32, 3 seeds: mean ± std (range) "
             "| difference from the float32 mean |", "|---|---|---|---|---|"]
    close = []
    for name, row in sorted(results.items()):
        seeds = row["shipped_float32"]["seeds"]
        mean, std = statistics.mean(seeds), statistics.stdev(seeds)
        gap = row["test_accuracy"] - mean
        if abs(gap) <= 2 * std:
            close.append(f"`{name}`")
        lines.append(f"| `{name}` | {row['training_path']['matmul_dtype']} | {row['test_accuracy']:.2%} "
                     f"| {mean:.2%} ± {100 * std:.2f} ({min(seeds):.2%}–{max(seeds):.2%}) "
                     f"| {100 * gap:+.2f} points ({gap / std:+.1f} std) |")
    lines += ["", "Within two standard deviations of the float32 mean: " + (", ".join(close) or "none")
              + "."]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["lstm", "gru"],
                        choices=list_models(pretrained=True), metavar="NAME")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "fused_accuracy.json")
    parser.add_argument("--render", action="store_true", help="only re-render the JSON's markdown")
    args = parser.parse_args(argv)
    if args.render:
        report = json.loads(args.output.read_text())
        report["markdown"] = render(report["results"])
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(report["markdown"])
        return
    for name in args.names:
        report = json.loads(args.output.read_text()) if args.output.is_file() else {"results": {}}
        report["results"][name] = measure(name)
        report["markdown"] = render(report["results"])
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(report["markdown"], flush=True)


if __name__ == "__main__":
    main()
