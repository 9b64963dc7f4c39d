"""How the zoo reads digits people bring: real scanned handwriting, re-photographed MNIST, fonts, pens.

    python benchmarks/realworld.py            # full sets (about 15 minutes on 2 cores)
    python benchmarks/realworld.py --quick    # small made sets, a smoke run
    python benchmarks/realworld.py --real-only  # only the real handwriting (kept beside the rest)

The real handwriting (Semeion, UCI optdigits; $SEQMNIST_ZOO_REALDIGITS, else `realdigits/` beside
$SEQMNIST_ZOO_DATA's mnist.npz, else `../shared/datasets/realdigits/`) is saved as PNG files the way
users hand digits over (tight crops, with a margin, enlarged) and read from those files, for every
shipped weights tag.

Every family is measured through the user path (`seqmnist_zoo.prepare_each`, the reader behind
`seqmnist-zoo predict`) and, for comparison, through "resize only": the whole picture stretched to
28x28 and inverted when its border is light, what most tutorials do. Writes JSON with a markdown
table that the README and the docs show (`python -m tools.cards README.md`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqmnist_zoo import list_models, load_mnist  # noqa: E402
from seqmnist_zoo.inputs.preprocess import prepare_each  # noqa: E402
from tools.arguments import positive_count  # noqa: E402
from tools.realsets import (  # noqa: E402
    REAL_AIMS,
    REAL_SETS,
    MissingRealDigitsError,
    accuracy,
    real_accuracy,
    real_sets,
)
from tools.realworld import (  # noqa: E402
    HANDED_OVER,
    drawn_digits,
    photographed_pages,
    rendered_digits,
)

SETS = {
    "mnist": "MNIST test set, as distributed",
    "photographed": "MNIST test digits photographed on paper: pages 300x300 to 1200x900, digit "
                    "30-300 px tall, grey paper with a shadow, noise, blur, JPEG",
    "fonts": "digits 0-9 typed in every text font matplotlib ships that has them (DejaVu, STIX, "
             "Computer Modern), 200x200, black on white",
    "drawn": "digits drawn as pen strokes 2-20 px wide on 280x280 PNG canvases: white paper, "
             "black canvas, transparent background",
}


def resize_only(gray: np.ndarray) -> np.ndarray:
    """The usual tutorial path: stretch to 28x28, invert when the border is light."""
    from PIL import Image

    picture = Image.fromarray(np.asarray(gray, "float32"), mode="F")
    image = np.asarray(picture.resize((28, 28), Image.BILINEAR))
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return np.clip(255.0 - image if border.mean() > 127 else image, 0, 255)


def _photographed_chunk(args):
    digits, seed, start = args
    reader, naive = [], []
    for page in photographed_pages(digits, seed=seed, start=start):
        item = prepare_each(page)[0]
        reader.append(item.image if item.ok else None)
        naive.append(resize_only(page))
    return reader, naive


def photographed_set(x, seed: int, workers: int):
    chunks = [(x[i:i + 250], seed, i) for i in range(0, len(x), 250)]
    reader, naive = [], []
    with ProcessPoolExecutor(workers) as pool:
        for r, n in pool.map(_photographed_chunk, chunks):
            reader += r
            naive += n
    return reader, naive


def fonts_set():
    from seqmnist_zoo.inputs.images import pil_to_grayscale

    labels, pictures, fonts = [], [], set()
    for digit, font, image in rendered_digits():
        labels.append(digit)
        pictures.append(image)
        fonts.add(font)
    reader = [item.image if item.ok else None for item in prepare_each(pictures)]
    naive = [resize_only(pil_to_grayscale(p)) for p in pictures]
    return np.array(labels), reader, naive, sorted(fonts)


def drawn_set(count: int, seed: int):
    from seqmnist_zoo.inputs.images import read_picture

    labels = []
    with tempfile.TemporaryDirectory() as folder:
        for index, (digit, _, png) in enumerate(drawn_digits(count, seed=seed)):
            (Path(folder) / f"{index:05d}.png").write_bytes(png)
            labels.append(digit)
        reader = [item.image if item.ok else None for item in prepare_each(folder)]
        naive = [resize_only(read_picture(p)) for p in sorted(Path(folder).iterdir())]
    return np.array(labels), reader, naive


def targets(report: dict) -> dict:
    """Each model's verdicts: the reader keeps photographed digits within half a point of the
    clean ones, and reads at least 95% of the typed digits (matplotlib's fonts: bold serif 1s and
    italic 9s are what MNIST-trained models miss)."""
    return {name: {"photographed_within_half_point":
                   row["photographed"]["clean"] - row["photographed"]["reader"] <= 0.005,
                   "fonts_at_least_95": row["fonts"]["reader"] >= 0.95}
            for name, row in report["accuracy"].items()}


def markdown(report: dict) -> str:
    sizes = report["samples"]
    lines = [f"Accuracy of the shipped weights through `seqmnist-zoo predict`'s reader; in brackets "
             f"the same pictures stretched to 28x28 (\"resize only\"). Measured by "
             f"`{report['command']}` (seed {report['seed']}, one run; the sets are fixed by the seed).",
             "",
             f"| model | weights | MNIST test ({sizes['mnist']:,}) "
             f"| photographed ({sizes['photographed']:,}) | fonts ({sizes['fonts']:,}) "
             f"| drawn ({sizes['drawn']:,}) |",
             "|---|---|---|---|---|---|"]
    for key, row in report["accuracy"].items():
        name, tag = key.split(":")
        cells = [f"{row['mnist']['reader']:.2%}"]
        cells += [f"{row[s]['reader']:.2%} ({row[s]['resize_only']:.1%})"
                  for s in ("photographed", "fonts", "drawn")]
        lines.append(f"| `{name}` | `{tag}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def measure_real(tags=None, families=None, limit: int | None = None) -> dict:
    """Accuracy of every shipped weights tag on every real set and form, with refusals counted."""
    from seqmnist_zoo import get_model, get_model_spec, model_info

    try:
        sets = real_sets(limit=limit)
    except MissingRealDigitsError as err:
        sys.exit(f"realworld: {err}")
    report = {"command": "python benchmarks/realworld.py --real-only", "sets": REAL_SETS,
              "whole": limit is None,
              "forms": HANDED_OVER,
              "samples": {name: len(forms["tight"][0]) for name, forms in sets.items()},
              "errors": {name: {form: errors for form, (_, _, errors) in forms.items()}
                         for name, forms in sets.items()},
              "accuracy": {}}
    for name in families or list_models(pretrained=True):
        for tag in tags or get_model_spec(name).pretrained_tags:
            model = get_model(name, weights=tag)
            row = real_accuracy(model, sets)
            spread = model_info(name)["weights"][tag].get("seed_spread") or {}
            if "real_lowest_by_seed" in spread and limit is None:
                report.setdefault("seeds", {})[f"{name}:{tag}"] = {
                    "command": spread["command"], "lowest_by_seed": spread["real_lowest_by_seed"]}
            report["accuracy"][f"{name}:{tag}"] = row
            print(f"{name:<13}{tag:<14}" + "  ".join(
                f"{s} {f} {row[s][f]:.2%}" for s in row for f in row[s]), flush=True)
    report["markdown"] = markdown_real(report)
    return report


def markdown_real(report: dict) -> str:
    sizes, forms = report["samples"], list(report["forms"])
    pictures = "every picture" if report.get("whole", True) else "the first pictures"
    lines = [f"Accuracy on real scanned handwriting (not MNIST), {pictures} of each set, saved as "
             "PNG files and read through `seqmnist-zoo predict`'s reader (one run); the pictures are "
             + "; ".join(f"**{form}**: {text}" for form, text in report["forms"].items())
             + f". Measured by `{report['command']}`.",
             "",
             "| model | weights | " + " | ".join(f"{name} ({sizes[name]:,}) {form}"
                                                for name in sizes for form in forms) + " |",
             "|---|---|" + "---|" * (len(sizes) * len(forms))]
    for key, row in report["accuracy"].items():
        name, tag = key.split(":")
        lines.append(f"| `{name}` | `{tag}` | " + " | ".join(f"{row[s][f]:.2%}" for s in sizes for f in forms)
                     + " |")
    counts = [f"{name} {form}: {e['refused']} refused, {e['failed']} failed"
              for name, by_form in report["errors"].items() for form, e in by_form.items()]
    lines += ["", "Pictures the reader refused or failed on (counted as wrong above): "
              + "; ".join(counts) + "."]
    return "\n".join(lines + ["", aims_line(report)] + seeds_lines(report))


def seeds_lines(report: dict) -> list[str]:
    """Each seed's lowest form where a shipped recipe was retrained with other seeds (`tools.spread`)."""
    lines = []
    for key, seeds in report.get("seeds", {}).items():
        name, tag = key.split(":")
        sets = "; ".join(f"{set_name} " + ", ".join(f"{lowest[set_name]:.2%} (seed {seed})"
                                                 for seed, lowest in seeds["lowest_by_seed"].items())
                         for set_name in report["samples"])
        lines.append(f"`{name}` `{tag}` retrained with other seeds (`{seeds['command']}`; the table's "
                     f"row is seed 0), each run's lowest form: {sets}.")
    return [""] + lines if lines else []


def aims_line(report: dict) -> str:
    """Which reader defaults (`mnist-robust`) read each real set at its aim in every form, which not."""
    robust = {key.split(":")[0]: row for key, row in report["accuracy"].items()
              if key.endswith(":mnist-robust")}
    parts = []
    for set_name, aim in REAL_AIMS.items():
        if not all(set_name in row for row in robust.values()):
            continue
        lowest = {name: min(row[set_name].items(), key=lambda item: item[1])
                  for name, row in robust.items()}
        met = [f"`{name}`" for name, (_, value) in lowest.items() if value >= aim]
        short = [f"`{name}` (lowest {value:.2%}, {form})" for name, (form, value) in lowest.items()
                 if value < aim]
        parts.append(f"{set_name} at {aim:.0%} or more in every form: {', '.join(met) or 'none'}"
                     + (f"; below it: {', '.join(short)}" if short else ""))
    return "Reader defaults (`mnist-robust`), " + "; ".join(parts) + "."


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 photographed, 200 drawn digits")
    parser.add_argument("--photographed", type=int, help="how many test digits to photograph (10000)")
    parser.add_argument("--drawn", type=int, help="how many digits to draw (1000)")
    parser.add_argument("--families", nargs="+", default=None, help="default: every shipped model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "realworld.json")
    parser.add_argument("--real-only", action="store_true",
                        help="measure only the real handwriting; the made sets' record is kept")
    parser.add_argument("--real-samples", type=positive_count, default=None, metavar="N",
                        help="read only the first N pictures of each real set (default: every one)")
    args = parser.parse_args(argv)
    if args.real_only:
        report = json.loads(args.output.read_text(encoding="utf-8")) if args.output.is_file() else {}
        report["real"] = measure_real(families=args.families, limit=args.real_samples)
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\n{report['real']['markdown']}\nwritten to {args.output}")
        return
    photographed = args.photographed or (500 if args.quick else 10000)
    drawn = args.drawn or (200 if args.quick else 1000)
    started = time.perf_counter()
    _, (x, y) = load_mnist()
    sets = {"mnist": (y, list(x), list(x))}
    print(f"photographing {photographed} test digits ...", flush=True)
    sets["photographed"] = (y[:photographed], *photographed_set(x[:photographed], args.seed, args.workers))
    print("typing digits in every font ...", flush=True)
    font_labels, font_reader, font_naive, fonts = fonts_set()
    sets["fonts"] = (font_labels, font_reader, font_naive)
    print(f"drawing {drawn} digits ...", flush=True)
    sets["drawn"] = drawn_set(drawn, args.seed)

    from seqmnist_zoo import get_model, get_model_spec

    report = {
        "command": "python benchmarks/realworld.py" + (" --quick" if args.quick else ""),
        "seed": args.seed,
        "sets": SETS,
        "samples": {name: len(labels) for name, (labels, _, _) in sets.items()},
        "refused": {name: sum(image is None for image in reader) for name, (_, reader, _) in sets.items()},
        "fonts": fonts,
        "accuracy": {},
        "environment": {"python": platform.python_version(), "numpy": np.__version__},
    }
    for name in args.families or list_models(pretrained=True):
        for tag in get_model_spec(name).pretrained_tags:
            model = get_model(name, weights=tag)
            row = report["accuracy"][f"{name}:{tag}"] = {
                set_name: {"reader": accuracy(model, reader, labels),
                           "resize_only": accuracy(model, naive, labels)}
                for set_name, (labels, reader, naive) in sets.items()}
            # the clean accuracy of exactly the digits that were photographed, for the target
            row["photographed"]["clean"] = accuracy(model, list(x[:photographed]), y[:photographed])
            print(f"{name:<13}{tag:<14}" + "  ".join(
                f"{s} {row[s]['reader']:.2%} ({row[s]['resize_only']:.1%})" for s in SETS), flush=True)
    report["targets"] = targets(report)
    print("reading real handwriting ...", flush=True)
    report["real"] = measure_real(families=args.families, limit=args.real_samples)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["markdown"] = markdown(report)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n{report['markdown']}\n\ntargets: {json.dumps(report['targets'])}\nwritten to {args.output}")


if __name__ == "__main__":
    main()
