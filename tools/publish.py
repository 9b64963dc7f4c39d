"""Maintainers' step from a trained file to shipped weights: measure, copy, record.

Usage: ``python -m tools.publish NAME runs/NAME/version_N/NAME.weights.h5 [--tag mnist]``.
The file's JSON record written by `train` supplies the config and recipe; the test-set accuracy
and loss are measured here by `evaluate`, never typed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from seqmnist_zoo.models.factory import get_model
from seqmnist_zoo.models.pretrained import read_run_config, run_record_path, sha256_of

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "seqmnist_zoo" / "models" / "weights"


def publish(name: str, trained: str | Path, tag: str = "mnist", data=None,
            weights_dir: Path = WEIGHTS_DIR) -> dict[str, Any]:
    """Evaluate `trained` on the test set, copy it into `weights_dir` and record it in the manifest.

    Examples:
        >>> publish("gru", "runs/gru/gru.weights.h5")["metrics"]["accuracy"]  # doctest: +SKIP
        0.99...
    """
    from seqmnist_zoo.training.evaluation import evaluate

    trained = Path(trained)
    run = json.loads(run_record_path(trained).read_text(encoding="utf-8"))
    model = get_model(name, weights=str(trained), **read_run_config(trained))
    result = evaluate(model, data=data)
    target = weights_dir / f"{name}_{tag}.weights.h5"
    # Saved from the uncompiled model: the training checkpoint also holds the optimizer's state,
    # which would triple the file and is of no use to someone loading pretrained weights.
    model.save_weights(target)
    record = {
        "model": name,
        "tag": tag,
        "file": target.name,
        "sha256": sha256_of(target),
        "config": run["config"],
        "num_params": model.count_params(),
        "metrics": {"accuracy": result["accuracy"], "loss": round(result["loss"], 6),
                    "samples": result["samples"],
                    "per_class_accuracy": [round(a, 6) for a in result["per_class_accuracy"]]},
        "recipe": run["recipe"],
        "training": {k: run[k] for k in ("best_epoch", "val_accuracy", "train_samples",
                                         "validation_samples", "epochs_run", "train_seconds")},
        "environment": run["environment"],
    }
    manifest_path = weights_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    others = [r for r in manifest["weights"] if (r["model"], r["tag"]) != (name, tag)]
    manifest["weights"] = sorted([*others, record], key=lambda r: (r["model"], r["tag"]))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.publish", description=__doc__)
    parser.add_argument("name")
    parser.add_argument("trained", help="a .weights.h5 written by `seqmnist-zoo train`")
    parser.add_argument("--tag", default="mnist")
    args = parser.parse_args(argv)
    record = publish(args.name, args.trained, args.tag)
    print(f"{record['file']}: test accuracy {record['metrics']['accuracy']:.4f}, "
          f"sha256 {record['sha256']}")


if __name__ == "__main__":
    main()
