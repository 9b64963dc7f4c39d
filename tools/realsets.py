"""The real handwriting sets (Semeion, UCI optdigits): where they are, and reading them as users would.

Each set is saved as PNG files in every handed-over form (`tools.realworld.HANDED_OVER`) and read
back through the reader behind `seqmnist-zoo predict`; `python benchmarks/realworld.py` and
`python -m tools.spread --tag mnist-robust` measure models on what this reads.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from seqmnist_zoo.errors import NoDigitError
from seqmnist_zoo.inputs.preprocess import prepare_each
from tools.realworld import HANDED_OVER, write_handed_over

ROOT = Path(__file__).resolve().parents[1]
REAL_SETS = {
    "semeion": "Semeion Handwritten Digit (UCI, CC BY 4.0): 1,593 digits by 80 writers, 16x16 binary",
    "optdigits32": "UCI optdigits bitmaps (CC BY 4.0): 2,880 digits by 30 writers, 32x32 binary",
}
# What every family's reader default should read in every form (issue 22's "done when")
REAL_AIMS = {"semeion": 0.95, "optdigits32": 0.97}


def real_digits_folder() -> Path:
    """$SEQMNIST_ZOO_REALDIGITS, else beside $SEQMNIST_ZOO_DATA's mnist.npz, else ../shared/datasets.

    Examples:
        >>> real_digits_folder().name
        'realdigits'
    """
    if os.environ.get("SEQMNIST_ZOO_REALDIGITS"):
        return Path(os.environ["SEQMNIST_ZOO_REALDIGITS"])
    if os.environ.get("SEQMNIST_ZOO_DATA"):
        return Path(os.environ["SEQMNIST_ZOO_DATA"]).parent / "realdigits"
    return ROOT.parent / "shared" / "datasets" / "realdigits"


class MissingRealDigitsError(FileNotFoundError):
    """A real set's .npz is not where `real_digits_folder` points."""


def check_real_sets(folder: Path | None = None) -> Path:
    """The folder holding every real set's .npz; `MissingRealDigitsError` names the first missing.

    Examples:
        >>> try:
        ...     check_real_sets("/nowhere")
        ... except MissingRealDigitsError as err:
        ...     print(str(err).split(" (")[0])
        /nowhere/semeion.npz is missing
    """
    folder = real_digits_folder() if folder is None else Path(folder)
    for name in REAL_SETS:
        if not (folder / f"{name}.npz").is_file():
            raise MissingRealDigitsError(
                f"{folder / name}.npz is missing (looked for in $SEQMNIST_ZOO_REALDIGITS, else "
                "realdigits/ beside $SEQMNIST_ZOO_DATA's file, else ../shared/datasets/realdigits); "
                "set SEQMNIST_ZOO_REALDIGITS to the realdigits folder")
    return folder


def real_sets(folder: Path | None = None, limit: int | None = None) -> dict:
    """Each real set in each handed-over form, read through the user path from PNG files.

    `limit` keeps the first pictures of each set only (a quick check; reports read them whole).
    Returns ``{set: {form: (labels, images or None, errors)}}``; `errors` counts refusals
    ("no digit") and every other failure apart.

    Examples:
        >>> sets = real_sets(limit=2)  # doctest: +SKIP
        >>> sets["semeion"]["tight"][2]  # doctest: +SKIP
        {'refused': 0, 'failed': 0}
    """
    folder = check_real_sets(folder)
    sets = {}
    for name in REAL_SETS:
        data = np.load(folder / f"{name}.npz")
        pictures, labels = data["x"][:limit], data["y"][:limit]
        sets[name] = {}
        for form in HANDED_OVER:
            with tempfile.TemporaryDirectory() as tmp:
                write_handed_over(pictures, form, tmp)
                items = prepare_each(tmp)
            refused = sum(isinstance(item.error, NoDigitError) for item in items)
            failed = sum(not item.ok for item in items) - refused
            sets[name][form] = (labels, [item.image if item.ok else None for item in items],
                                {"refused": refused, "failed": failed})
    return sets


def accuracy(model, images, labels) -> float:
    """Share of correct answers; a picture the reader refused (None) counts as wrong.

    Examples:
        >>> from seqmnist_zoo import gru
        >>> accuracy(gru(units=4), [None, None], [1, 2])
        0.0
    """
    kept = [i for i, image in enumerate(images) if image is not None]
    if not kept:
        return 0.0
    predicted = model.predict(np.stack([images[i] for i in kept]), batch_size=1000, verbose=0)
    return float((predicted.argmax(axis=1) == np.asarray(labels)[kept]).sum() / len(images))


def real_accuracy(model, sets: dict) -> dict[str, dict[str, float]]:
    """`model`'s accuracy on every set and form of `real_sets`: ``{set: {form: accuracy}}``.

    Examples:
        >>> from seqmnist_zoo import gru
        >>> real_accuracy(gru(units=4), {"semeion": {"tight": ([3], [None], {})}})
        {'semeion': {'tight': 0.0}}
    """
    return {set_name: {form: accuracy(model, images, labels)
                       for form, (labels, images, _) in forms.items()}
            for set_name, forms in sets.items()}
