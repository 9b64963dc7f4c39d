"""Classifying people's own digits: the shared reader, then a model, then the top guesses."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgumentError, NoDigitError, SeqMnistZooError, warn_user  # noqa: F401 (doctest)
from ..inputs.preprocess import PreparedDigit, prepare_each


@dataclass(frozen=True, repr=False)
class DigitPrediction:
    """A model's answer for one input: its source, the 28x28 digit it saw, the top-k guesses.

    An input that could not be read keeps its `error` instead (`ok` is False, `digit` None);
    `warnings` holds what the reader said about the picture (for example "2 digit-sized marks").

    Examples:
        >>> p = DigitPrediction("a.png", np.zeros((28, 28), "uint8"), ((7, 0.9), (1, 0.05)))
        >>> p.digit, p.probability
        (7, 0.9)
        >>> p
        DigitPrediction('a.png': 7 (90.0%), then 1 (5.0%))
    """

    source: str
    image: np.ndarray | None
    top: tuple[tuple[int, float], ...] = ()
    error: SeqMnistZooError | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def digit(self) -> int | None:
        return self.top[0][0] if self.top else None

    @property
    def probability(self) -> float | None:
        return self.top[0][1] if self.top else None

    def __repr__(self) -> str:
        if not self.ok:
            return f"DigitPrediction({self.source!r}: error: {self._message()})"
        guesses = [f"{d} ({p:.1%})" for d, p in self.top]
        return f"DigitPrediction({self.source!r}: {', then '.join(guesses)})"

    def _message(self) -> str:
        """The error's message without the input's name in front (the source is shown beside it)."""
        return str(self.error).removeprefix(f"{self.source}: ")

    def to_dict(self) -> dict:
        """The prediction as JSON-able values (without the image); ``warnings`` only when any.

        An error's message is given without the input's name in front: ``image`` holds it.

        Examples:
            >>> DigitPrediction("a.png", None, ((3, 0.5),)).to_dict()
            {'image': 'a.png', 'top': [{'digit': 3, 'probability': 0.5}]}
            >>> DigitPrediction("b.png", None, error=NoDigitError("b.png: no digit found")).to_dict()
            {'image': 'b.png', 'error': 'no digit found'}
        """
        if not self.ok:
            return {"image": self.source, "error": self._message()}
        answer = {"image": self.source, "top": [{"digit": d, "probability": p} for d, p in self.top]}
        return answer | ({"warnings": list(self.warnings)} if self.warnings else {})


# Ten digits at 10% each is a guess: a trained model's answers stand well above this.
NEAR_CHANCE = 0.2


def predict_digits(model, inputs, top_k: int = 3, weights=None, invert: bool | None = None,
                   raw: bool = False, each_digit: bool = False) -> list[DigitPrediction]:
    """Read pictures of digits the way MNIST was made and classify them: one answer per input.

    `model` is a Keras model or a registered name, built with `weights` (default: the family's
    `reader_weights`, ``"mnist-robust"`` where shipped: it reads real handwriting better; a name
    is built once per process and weights, so a loop over files stays fast). `inputs` are files,
    folders, PIL images or arrays, as for `prepare_digits`; `raw=True` skips normalisation for
    inputs already in MNIST's form; `each_digit=True` answers for every digit-sized mark of a
    picture ("42" gives two answers). An input that cannot be read or holds no digit gets an
    answer with its `error` (``ok`` False) in its place; the others are still classified. When
    no answer stands above `NEAR_CHANCE` the model is likely untrained, and a warning says so.

    Examples:
        >>> page = np.full((200, 150), 245, "uint8"); page[40:160, 70:82] = 20   # a "1" on paper
        >>> [(p.source, p.digit) for p in predict_digits("lstm", [page, np.full((9, 9), 245)])]
        [('array[0]', 1), ('array[1]', None)]
    """
    _check_top_k(top_k)
    prepared = prepare_each(inputs, invert, raw, each_digit)
    if not prepared:
        raise InvalidArgumentError("no inputs were given; pass files, folders, PIL images or arrays")
    return rank(model, prepared, top_k, weights)


def rank(model, prepared: list[PreparedDigit], top_k: int = 3, weights=None) -> list[DigitPrediction]:
    """Top-k predictions of `model` (or a registered name) for prepared digits, in their order.

    Items that failed preparation are answered with their error.

    Examples:
        >>> digit = PreparedDigit("blank", np.zeros((28, 28), "uint8"))
        >>> len(rank("gru", [digit], top_k=2)[0].top)
        2
    """
    _check_top_k(top_k)
    ready = [item for item in prepared if item.ok]
    answers = {}
    if ready:
        from ..quiet import start_keras_quietly

        start_keras_quietly()
        if isinstance(model, str):
            model = _named_model(model, weights)
        from .probabilities import predict_probabilities

        probabilities = predict_probabilities(model, np.stack([item.image for item in ready]))
        if probabilities.max() < NEAR_CHANCE:
            warn_user(f"every answer is near chance (no digit above {NEAR_CHANCE:.0%}): the model's "
                      f"weights look untrained, and random weights guess (a factory or get_model "
                      f"without weights= builds random ones); the shipped tags 'mnist' and "
                      f"'mnist-robust' are trained")
        for item, probs in zip(ready, probabilities, strict=True):
            best = np.argsort(probs)[::-1][:top_k]
            answers[id(item)] = DigitPrediction(
                item.source, item.image, tuple((int(d), float(probs[d])) for d in best),
                warnings=item.warnings)
    return [answers[id(item)] if item.ok else DigitPrediction(item.source, None, error=item.error)
            for item in prepared]


def _check_top_k(top_k) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= 10:
        raise InvalidArgumentError(f"top_k must be an integer from 1 to 10 (there are ten digits), "
                                   f"got {top_k!r}")


def _named_model(name: str, weights=None):
    """The model a registered name reads with, built once per weights and then reused.

    Reading one picture at a time by name (a loop over files) would otherwise rebuild the model
    for every call, ten times slower, and TensorFlow would warn about retracing. A weights file
    is loaded again when it changes on disk (retrained since).
    """
    from pathlib import Path

    from ..models.registry import get_model_spec

    spec = get_model_spec(name)
    weights = weights or spec.reader_weights
    stamp = None
    if str(weights) not in spec.pretrained_tags and Path(weights).is_file():
        state = Path(weights).stat()
        stamp = (str(Path(weights).resolve()), state.st_mtime_ns, state.st_size)
    return _built_model(name, str(weights), stamp)


@functools.lru_cache(maxsize=4)
def _built_model(name: str, weights: str, stamp):
    from ..models.factory import get_model

    return get_model(name, weights=weights)
