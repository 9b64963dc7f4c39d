"""The zoo's exceptions (one base class, so callers and the CLI can catch them all) and warnings."""

import sys
import warnings
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parent)


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, pointing at the first line outside the zoo (the user's call), not at the zoo's code.

    Examples:
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_user("two marks")
        >>> caught[0].filename.startswith(_PACKAGE)
        False
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)


class SeqMnistZooError(Exception):
    """Base class of every error the zoo raises on purpose.

    `exit_code` is what the CLI exits with: 2 for a mistake in what was asked, 1 for a failure.

    Examples:
        >>> try:
        ...     raise SeqMnistZooError("something went wrong")
        ... except SeqMnistZooError as err:
        ...     err.exit_code
        1
    """

    exit_code = 1


class InvalidArgumentError(SeqMnistZooError, ValueError):
    """An argument has a value the zoo does not accept; the message lists what is accepted.

    Examples:
        >>> issubclass(InvalidArgumentError, ValueError)
        True
    """

    exit_code = 2


class UnknownModelError(InvalidArgumentError, KeyError):
    """A model name that is not registered; the message lists the known names.

    Examples:
        >>> issubclass(UnknownModelError, KeyError)
        True
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DatasetError(SeqMnistZooError):
    """MNIST could not be found, read or validated; the message says where it looked.

    Examples:
        >>> DatasetError("no MNIST at /nowhere").exit_code
        1
    """


class WeightsError(SeqMnistZooError):
    """Weights could not be found or loaded.

    Examples:
        >>> WeightsError("no such file").exit_code
        1
    """


class WeightsFileNotFoundError(WeightsError, InvalidArgumentError):
    """A weights file named by path that does not exist: a mistake in what was asked (exit 2).

    Examples:
        >>> err = WeightsFileNotFoundError("weights file w.weights.h5 does not exist")
        >>> isinstance(err, WeightsError), err.exit_code
        (True, 2)
    """


class WeightsMismatchError(WeightsError, InvalidArgumentError):
    """A weights file named by path that does not fit the model asked for (exit 2).

    `facts` says what did not fit, `advice` what to do; the message joins them, so a caller
    (the CLI) can keep the facts and give its own advice.

    Examples:
        >>> err = WeightsMismatchError("could not load w.weights.h5 into lstm(units=8)",
        ...                            advice="load it into the family it was trained as")
        >>> err.exit_code, str(err).endswith("; load it into the family it was trained as")
        (2, True)
    """

    def __init__(self, facts: str, advice: str | None = None):
        super().__init__(f"{facts}; {advice}" if advice else facts)
        self.facts, self.advice = facts, advice


class WeightsIntegrityError(WeightsError):
    """A weights file whose sha256 differs from its record; it is never opened.

    Examples:
        >>> err = WeightsIntegrityError("lstm.weights.h5", expected="ab", actual="cd")
        >>> err.expected, err.actual
        ('ab', 'cd')
    """

    def __init__(self, path, expected: str, actual: str):
        self.path, self.expected, self.actual = str(path), expected, actual
        super().__init__(
            f"weights file {self.path} failed its integrity check: sha256 is {actual}, "
            f"expected {expected}. The file is corrupt or was replaced; reinstall seqmnist-zoo "
            "or pass weights=None."
        )


class NoDigitError(InvalidArgumentError):
    """A picture in which no digit could be found (blank, or too little contrast).

    Examples:
        >>> NoDigitError("no digit found").exit_code
        1
    """

    exit_code = 1
