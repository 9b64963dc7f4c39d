"""Export every shipped model to every format and check each file in its own runtime.

    python benchmarks/export.py      # writes benchmarks/export.json; the Deploy page shows it

Each file is compared with Keras on the first 1,000 MNIST test digits: how many get the same
top-1 digit, and the largest absolute difference of any probability (float32 files).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqmnist_zoo import get_model, list_models, load_mnist  # noqa: E402
from seqmnist_zoo.apps.export import FORMATS, default_path, export_model  # noqa: E402


def markdown(report: dict) -> str:
    lines = [f"Each shipped model exported and run in the format's own runtime on the first 1,000 "
             f"MNIST test digits, against Keras (`{report['command']}`; one run, deterministic):", "",
             "| model | " + " | ".join(FORMATS) + " |", "|---|" + "---|" * len(FORMATS)]
    for name, row in report["checks"].items():
        cells = [f"{c['same_top1']:,}/{c['images']:,} same top-1, max diff {c['max_abs_difference']:.1e}"
                 for c in (row[f] for f in FORMATS)]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    runtimes = sorted({c["runtime"] for row in report["checks"].values() for c in row.values()})
    lines += ["", f"Runtimes: {', '.join(runtimes)}."]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=None)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "export.json")
    args = parser.parse_args(argv)
    images = load_mnist()[1][0][:1000]
    report = {"command": "python benchmarks/export.py", "checks": {}}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.families or list_models(pretrained=True):
            model = get_model(name, weights="mnist")
            report["checks"][name] = {}
            for format in FORMATS:
                path = Path(folder) / default_path(name, format).name
                check = export_model(model, path, format, check_images=images)["check"]
                report["checks"][name][format] = check
                print(f"{name:<13}{format:<12}{check['same_top1']}/{check['images']} same top-1, "
                      f"max diff {check['max_abs_difference']:.1e}", flush=True)
    report["markdown"] = markdown(report)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n{report['markdown']}\nwritten to {args.output}")


if __name__ == "__main__":
    main()
