"""Pictures of a model's mistakes: confusion matrix, misclassified digits, per-class accuracy.

Each picture is a matplotlib figure, written as a PNG file (`write_report`) or as a TensorBoard
image (`log_images`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or wanted
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DIGITS = list(range(10))


def confusion_figure(confusion, title: str = "Confusion matrix"):
    """A heat map of a 10x10 confusion matrix with the counts written in each cell.

    Examples:
        >>> confusion_figure(np.eye(10, dtype=int) * 100).axes[0].get_xlabel()
        'predicted digit'
    """
    confusion = np.asarray(confusion)
    figure, axis = plt.subplots(figsize=(6.4, 5.6), dpi=100)
    shown = np.log1p(confusion)  # mistakes are small next to the diagonal; log keeps them visible
    axis.imshow(shown, cmap="Blues")
    for (row, col), count in np.ndenumerate(confusion):
        if count:
            dark = shown[row, col] > shown.max() / 2
            axis.text(col, row, str(count), ha="center", va="center", fontsize=7,
                      color="white" if dark else "black")
    axis.set(xticks=DIGITS, yticks=DIGITS, xlabel="predicted digit", ylabel="true digit",
             title=title)
    figure.tight_layout()
    return figure


def misclassified_figure(images, labels, predicted, probabilities, limit: int = 36,
                         title: str = "Misclassified digits"):
    """A grid of up to `limit` misclassified digits, most confident mistakes first.

    Each cell is captioned ``true -> predicted (confidence)``.

    Examples:
        >>> x = np.zeros((3, 28, 28), "uint8"); p = np.full((3, 10), 0.1)
        >>> len(misclassified_figure(x, [1, 2, 3], [1, 5, 3], p).axes)  # one row of six cells
        6
    """
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    wrong = np.flatnonzero(labels != predicted)
    confidence = np.asarray(probabilities)[wrong, predicted[wrong]]
    wrong = wrong[np.argsort(-confidence)][:limit]
    columns = 6
    rows = max(1, -(-len(wrong) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.5 + 0.4), dpi=100,
                                squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, index in zip(axes.flat, wrong, strict=False):
        axis.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
        axis.set_title(f"{labels[index]} -> {predicted[index]} "
                       f"({probabilities[index][predicted[index]]:.0%})", fontsize=8)
    figure.suptitle(f"{title}: {len(np.flatnonzero(labels != predicted))} in all, "
                    f"true -> predicted (confidence)" if len(wrong) else f"{title}: none",
                    fontsize=9)
    figure.tight_layout()
    return figure


def per_class_figure(per_class_accuracy, title: str = "Error rate per digit"):
    """Each digit's accuracy, drawn as its error rate in percent on an axis that starts at 0.

    Near 99% every accuracy bar looks the same unless the axis is cut, which exaggerates; the
    error rates, from zero, show the true proportions. Bars are labelled in the same unit.

    Examples:
        >>> per_class_figure([0.99] * 10).axes[0].get_ylabel()
        'error rate (%) = 100% - accuracy'
    """
    errors = (1.0 - np.asarray(per_class_accuracy, dtype=float)) * 100
    figure, axis = plt.subplots(figsize=(6.4, 3.2), dpi=100)
    axis.bar(DIGITS, errors, color="tab:red")
    top = max(float(errors.max()) * 1.2, 0.5)
    axis.set(xticks=DIGITS, xlabel="digit", ylabel="error rate (%) = 100% - accuracy", ylim=(0, top),
             title=title)
    for digit, value in enumerate(errors):
        axis.text(digit, value, f"{value:.1f}%", ha="center", va="bottom", fontsize=7)
    figure.tight_layout()
    return figure


def figures_for(result: dict[str, Any], images, labels, probabilities, split: str) -> dict:
    """The three report figures for an `evaluate`-style result, keyed by file stem.

    Examples:
        >>> sorted(figures_for(result, x, y, probs, "test"))  # doctest: +SKIP
        ['confusion_matrix', 'misclassified', 'per_class_accuracy']
    """
    predicted = np.asarray(probabilities).argmax(axis=1)
    return {
        "confusion_matrix": confusion_figure(result["confusion_matrix"],
                                             f"Confusion matrix ({split} set)"),
        "misclassified": misclassified_figure(images, labels, predicted, probabilities,
                                              title=f"Misclassified {split} digits"),
        "per_class_accuracy": per_class_figure(result["per_class_accuracy"],
                                               f"Error rate per digit ({split} set)"),
    }


def figure_to_array(figure) -> np.ndarray:
    """Render a figure to an RGB uint8 array and close it.

    Examples:
        >>> figure_to_array(per_class_figure([1.0] * 10)).shape
        (320, 640, 3)
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def log_images(logdir, figures: dict, step: int = 0) -> Path:
    """Write figures as TensorBoard images into ``logdir/images``; returns that folder.

    Examples:
        >>> log_images(tempfile.mkdtemp(), {"bars": per_class_figure([1.0] * 10)}).name
        'images'
    """
    import tensorflow as tf

    folder = Path(logdir) / "images"
    writer = tf.summary.create_file_writer(str(folder))
    with writer.as_default():
        for name, figure in figures.items():
            tf.summary.image(name, figure_to_array(figure)[None], step=step)
    writer.close()
    return folder


def write_report(output, name: str, weights: str, result: dict[str, Any], figures: dict) -> Path:
    """Save the figures as PNG files plus a markdown summary into `output`; returns the summary.

    Examples:
        >>> write_report("report", "lstm", "mnist", result, figures)  # doctest: +SKIP
        PosixPath('report/summary.md')
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    for stem, figure in figures.items():
        figure.savefig(output / f"{stem}.png")
        plt.close(figure)
    worst = int(np.argmin(result["per_class_accuracy"]))
    lines = [
        f"# {name} ({weights}) on the MNIST test set",
        "",
        f"- accuracy: {result['accuracy']:.2%} of {result['samples']} digits "
        f"({round((1 - result['accuracy']) * result['samples'])} mistakes)",
        f"- loss: {result['loss']:.4f}",
        f"- hardest digit: {worst} ({result['per_class_accuracy'][worst]:.2%} right)",
        "",
        "| digit | " + " | ".join(map(str, DIGITS)) + " |",
        "|---|" + "---|" * 10,
        "| accuracy | " + " | ".join(f"{a:.2%}" for a in result["per_class_accuracy"]) + " |",
        "",
        *[f"![{stem}]({stem}.png)" for stem in figures],
        "",
    ]
    summary = output / "summary.md"
    summary.write_text("\n".join(lines), encoding="utf-8")
    return summary


SAVED_INPUTS = "saved_inputs.txt"


def write_inputs(folder, predictions) -> list[Path]:
    """Write the 28x28 digits a model saw, one PNG each, plus ``contact_sheet.png`` with captions.

    `predictions` are `DigitPrediction`s (or anything with ``source``, ``image`` and ``top``).
    The pictures an earlier call wrote (listed in ``saved_inputs.txt``) are removed first, so the
    folder always shows one run; other files in it are left alone. A picture's digits read one
    by one (``photo.png#2``) keep their number. Returns the files written, the contact sheet last.

    Examples:
        >>> from seqmnist_zoo.inference.predict import DigitPrediction
        >>> seen = DigitPrediction("my digit.png", np.zeros((28, 28), "uint8"), ((4, 0.9),))
        >>> [p.name for p in write_inputs(tempfile.mkdtemp(), [seen])]
        ['001_my_digit.png', 'contact_sheet.png']
    """
    import re

    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    listing = folder / SAVED_INPUTS
    if listing.exists():
        for name in listing.read_text().split():
            (folder / Path(name).name).unlink(missing_ok=True)
    written = []
    for index, item in enumerate(predictions, start=1):
        stem = re.sub(r"\.\w+(?=#\d+$|$)", "", Path(item.source).name)  # "a.png#2" -> "a#2"
        stem = re.sub(r"[^\w.#-]+", "_", stem)[:60]
        path = folder / f"{index:03d}_{stem}.png"
        Image.fromarray(np.asarray(item.image, "uint8")).save(path)
        written.append(path)
    columns = min(8, max(1, len(written)))
    rows = max(1, -(-len(written) // columns))
    # at least 3 inches wide: the title must fit above one or two digits too
    figure, axes = plt.subplots(rows, columns, figsize=(max(columns * 1.5, 3.0), rows * 1.75 + 0.3),
                                dpi=100, squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, item in zip(axes.flat, predictions, strict=False):
        axis.imshow(item.image, cmap="gray", vmin=0, vmax=255)
        digit, probability = item.top[0]
        name = Path(item.source).name
        name = name if len(name) <= 16 else "..." + name[-13:]  # the end holds "#2" and the suffix
        axis.set_title(f"{name}\n{digit} ({probability:.0%})", fontsize=7)
    title = "What the model saw (28x28) and its answer"
    figure.suptitle(title if columns > 2 else title.replace(" and", "\nand"), fontsize=9)
    figure.tight_layout()
    sheet = folder / "contact_sheet.png"
    figure.savefig(sheet)
    plt.close(figure)
    listing.write_text("".join(f"{path.name}\n" for path in [*written, sheet]))
    return [*written, sheet]
