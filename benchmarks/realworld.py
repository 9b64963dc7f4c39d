"""How the zoo reads digits people bring: re-photographed MNIST, fonts, pen strokes.

    python benchmarks/realworld.py            # full sets (about 15 minutes on 2 cores)
    python benchmarks/realworld.py --quick    # small sets, a smoke run

Every family is measured through the user path (`seqmnist_zoo.prepare_each`, the reader behind
`seqmnist-zoo predict`) and, for comparison, through "resize only": the whole picture stretched to
28x28 and inverted when its border is light, what most tutorials do. Writes JSON with a markdown
table that the README and the docs show (`python -m seqmnist_zoo.cards README.md`).
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
from seqmnist_zoo.preprocess import prepare_each  # noqa: E402
from seqmnist_zoo.realworld import drawn_digits, photographed_pages, rendered_digits  # noqa: E402

SETS = {
    "mnist": "MNIST test set, as distributed",
    "photographed": "MNIST test digits photographed on paper: pages 300x300 to 1200x900, digit "
                    "30-300 px tall, grey paper with a shadow, noise, blur, JPEG",
    "fonts": "digits 0-9 typed in every TrueType font on the machine, 200x200, black on white",
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
    from seqmnist_zoo.images import pil_to_grayscale

    labels, pictures, fonts = [], [], set()
    for digit, font, image in rendered_digits():
        labels.append(digit)
        pictures.append(image)
        fonts.add(font)
    reader = [item.image if item.ok else None for item in prepare_each(pictures)]
    naive = [resize_only(pil_to_grayscale(p)) for p in pictures]
    return np.array(labels), reader, naive, sorted(fonts)


def drawn_set(count: int, seed: int):
    from seqmnist_zoo.images import read_picture

    labels = []
    with tempfile.TemporaryDirectory() as folder:
        for index, (digit, _, png) in enumerate(drawn_digits(count, seed=seed)):
            (Path(folder) / f"{index:05d}.png").write_bytes(png)
            labels.append(digit)
        reader = [item.image if item.ok else None for item in prepare_each(folder)]
        naive = [resize_only(read_picture(p)) for p in sorted(Path(folder).iterdir())]
    return np.array(labels), reader, naive


def accuracy(model, images, labels) -> float:
    """Share of correct answers; a picture the reader refused counts as wrong."""
    kept = [i for i, image in enumerate(images) if image is not None]
    if not kept:
        return 0.0
    predicted = model.predict(np.stack([images[i] for i in kept]), batch_size=1000, verbose=0)
    return float((predicted.argmax(axis=1) == np.asarray(labels)[kept]).sum() / len(images))


def markdown(report: dict) -> str:
    sizes = report["samples"]
    lines = [f"Accuracy of the shipped weights through `seqmnist-zoo predict`'s reader; in brackets "
             f"the same pictures stretched to 28x28 (\"resize only\"). Measured by "
             f"`{report['command']}` (seed {report['seed']}, one run; the sets are fixed by the seed).",
             "",
             f"| model | MNIST test ({sizes['mnist']:,}) | photographed ({sizes['photographed']:,}) "
             f"| fonts ({sizes['fonts']:,}) | drawn ({sizes['drawn']:,}) |",
             "|---|---|---|---|---|"]
    for name, row in report["accuracy"].items():
        cells = [f"{row['mnist']['reader']:.2%}"]
        cells += [f"{row[s]['reader']:.2%} ({row[s]['resize_only']:.1%})"
                  for s in ("photographed", "fonts", "drawn")]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 photographed, 200 drawn digits")
    parser.add_argument("--photographed", type=int, help="how many test digits to photograph (10000)")
    parser.add_argument("--drawn", type=int, help="how many digits to draw (1000)")
    parser.add_argument("--families", nargs="+", default=None, help="default: every shipped model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "realworld.json")
    args = parser.parse_args(argv)
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

    from seqmnist_zoo import get_model

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
        model = get_model(name, weights="mnist")
        report["accuracy"][name] = {
            set_name: {"reader": accuracy(model, reader, labels),
                       "resize_only": accuracy(model, naive, labels)}
            for set_name, (labels, reader, naive) in sets.items()}
        row = report["accuracy"][name]
        # the clean accuracy of exactly the digits that were photographed, for the target
        row["photographed"]["clean"] = accuracy(model, list(x[:photographed]), y[:photographed])
        print(f"{name:<13}" + "  ".join(f"{s} {row[s]['reader']:.2%} ({row[s]['resize_only']:.1%})"
                                        for s in SETS), flush=True)
    report["targets"] = {
        name: {"photographed_within_half_point":
               row["photographed"]["clean"] - row["photographed"]["reader"] <= 0.005,
               "fonts_at_least_98": row["fonts"]["reader"] >= 0.98}
        for name, row in report["accuracy"].items()}
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["markdown"] = markdown(report)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n{report['markdown']}\n\ntargets: {json.dumps(report['targets'])}\nwritten to {args.output}")


if __name__ == "__main__":
    main()
