"""Classifying people's own digits: the shared reader, then a model, then the top guesses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .preprocess import PreparedDigit, all_prepared, prepare_each


@dataclass(frozen=True)
class DigitPrediction:
    """A model's answer for one input: its source, the 28x28 digit it saw, the top-k guesses.

    Examples:
        >>> p = DigitPrediction("a.png", np.zeros((28, 28), "uint8"), ((7, 0.9), (1, 0.05)))
        >>> p.digit, p.probability
        (7, 0.9)
    """

    source: str
    image: np.ndarray
    top: tuple[tuple[int, float], ...]

    @property
    def digit(self) -> int:
        return self.top[0][0]

    @property
    def probability(self) -> float:
        return self.top[0][1]

    def to_dict(self) -> dict:
        """The prediction as JSON-able values (without the image).

        Examples:
            >>> DigitPrediction("a.png", None, ((3, 0.5),)).to_dict()
            {'image': 'a.png', 'top': [{'digit': 3, 'probability': 0.5}]}
        """
        return {"image": self.source,
                "top": [{"digit": d, "probability": p} for d, p in self.top]}


def predict_digits(model, inputs, top_k: int = 3, weights="mnist", invert: bool | None = None,
                   raw: bool = False) -> list[DigitPrediction]:
    """Read pictures of digits the way MNIST was made and classify them.

    `model` is a Keras model or a registered name (built with `weights`). `inputs` are files,
    folders, PIL images or arrays, as for `prepare_digits`; `raw=True` skips normalisation for
    inputs already in MNIST's form.

    Examples:
        >>> page = np.full((200, 150), 245, "uint8"); page[40:160, 70:82] = 20   # a "1" on paper
        >>> [(p.source, p.digit) for p in predict_digits("lstm", page)]
        [('array[0]', 1)]
    """
    return rank(model, all_prepared(prepare_each(inputs, invert, raw)), top_k, weights)


def rank(model, prepared: list[PreparedDigit], top_k: int = 3, weights="mnist") -> list[DigitPrediction]:
    """Top-k predictions of `model` (or a registered name) for already prepared digits.

    Examples:
        >>> digit = PreparedDigit("blank", np.zeros((28, 28), "uint8"))
        >>> len(rank("gru", [digit], top_k=2)[0].top)
        2
    """
    if isinstance(model, str):
        from .registry import get_model

        model = get_model(model, weights=weights)
    from .training import predict_probabilities

    if not prepared:
        return []
    top_k = max(1, min(int(top_k), 10))
    probabilities = predict_probabilities(model, np.stack([item.image for item in prepared]))
    predictions = []
    for item, probs in zip(prepared, probabilities, strict=True):
        best = np.argsort(probs)[::-1][:top_k]
        predictions.append(DigitPrediction(
            item.source, item.image, tuple((int(d), float(probs[d])) for d in best)))
    return predictions
