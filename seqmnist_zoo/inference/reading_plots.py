"""Pictures of a model reading: digits revealed step by step beside the belief it holds."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..reports import plt
from .reading import blanked_after, decided_at


def reading_figure(images, labels, beliefs, limit: int = 6, title: str = "Reading digits step by step"):
    """For a few digits, right and wrong, the probability of the true and the predicted digit
    after each step, beside the digit.

    `beliefs` is `read_along`'s ``(n, steps, classes)``; up to two thirds of the rows are digits
    read right, the rest mistakes, when there are any.

    Examples:
        >>> beliefs = np.tile(np.eye(10)[[3]], (2, 28, 1))
        >>> len(reading_figure(np.zeros((2, 28, 28)), [3, 5], beliefs).axes)
        4
    """
    images, labels, beliefs = np.asarray(images), np.asarray(labels), np.asarray(beliefs)
    final = beliefs[:, -1].argmax(axis=1)
    right, wrong = np.flatnonzero(final == labels), np.flatnonzero(final != labels)
    wrong_count = min(len(wrong), limit // 3)
    chosen = [*right[:limit - wrong_count], *wrong[:wrong_count]]
    steps = np.arange(1, beliefs.shape[1] + 1)
    figure, axes = plt.subplots(len(chosen), 2, figsize=(7.2, 1.6 * len(chosen) + 0.5), dpi=100,
                                squeeze=False, gridspec_kw={"width_ratios": [1, 4]})
    for row, index in zip(axes, chosen, strict=False):
        row[0].imshow(images[index], cmap="gray", vmin=0, vmax=255)
        row[0].axis("off")
        truth, guess = int(labels[index]), int(final[index])
        row[1].plot(steps, beliefs[index, :, truth] * 100, color="tab:green", label=f"true {truth}")
        if guess != truth:
            row[1].plot(steps, beliefs[index, :, guess] * 100, color="tab:red", label=f"answer {guess}")
        row[1].axvline(decided_at(beliefs[index]), color="gray", linestyle=":", linewidth=1)
        row[1].set(ylim=(0, 100), xlim=(1, len(steps)), ylabel="belief (%)")
        row[1].legend(loc="upper left", fontsize=7)
        row[1].grid(alpha=0.3)
    axes[-1][1].set_xlabel("timestep (the dotted line: from here on the answer does not change)")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return figure


def reading_figure_for(model, images, labels, probabilities, limit: int = 6, split: str = "test"):
    """`reading_figure` for a sample of an evaluation: the first digits read right, then mistakes.

    Examples:
        >>> reading_figure_for(model, x_test, y_test, probabilities)  # doctest: +SKIP
        <Figure size 720x1010 with 12 Axes>
    """
    from .reading import read_along

    predicted = np.asarray(probabilities).argmax(axis=1)
    labels = np.asarray(labels)
    wrong = np.flatnonzero(predicted != labels)[:limit // 3]
    right = np.flatnonzero(predicted == labels)[:limit - len(wrong)]
    chosen = np.concatenate([right, wrong]).astype(int)
    images = np.asarray(images)[chosen]
    return reading_figure(images, labels[chosen], read_along(model, images), limit,
                          title=f"Reading {split} digits step by step, right and wrong")


def write_reading_gif(path, image, beliefs, label: str = "", frame_ms: int = 150) -> Path:
    """An animated GIF: the digit revealed step by step beside the ten probabilities at that step.

    `image` is one MNIST-form digit, `beliefs` its ``(steps, classes)`` from `read_along`.

    Examples:
        >>> beliefs = np.tile(np.eye(10)[[7]], (28, 1))
        >>> write_reading_gif(tempfile.mktemp(suffix=".gif"), np.zeros((28, 28)), beliefs).suffix
        '.gif'
    """
    from PIL import Image

    beliefs = np.asarray(beliefs)
    steps = len(beliefs)
    revealed = blanked_after(np.asarray(image)[None], steps)[0]
    frames = []
    for t in range(steps):
        figure, (left, right) = plt.subplots(1, 2, figsize=(5.6, 2.6), dpi=80,
                                             gridspec_kw={"width_ratios": [1, 1.6]})
        shown = np.maximum(revealed[t], np.asarray(image) * 0.18)  # unread pixels stay faint
        left.imshow(shown, cmap="gray", vmin=0, vmax=255)
        left.set_title(f"{label} step {t + 1}/{steps}".strip(), fontsize=9)
        left.axis("off")
        top = int(beliefs[t].argmax())
        right.bar(range(len(beliefs[t])), beliefs[t] * 100,
                  color=["tab:orange" if d == top else "tab:blue" for d in range(len(beliefs[t]))])
        right.set(ylim=(0, 100), xticks=range(len(beliefs[t])), ylabel="belief (%)")
        right.set_title(f"thinks {top} ({beliefs[t, top]:.0%})", fontsize=9)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        frames.append(Image.open(io.BytesIO(buffer.getvalue())).convert("P", palette=Image.ADAPTIVE))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = [frame_ms] * (steps - 1) + [2000]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path
