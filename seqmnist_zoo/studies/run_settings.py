"""The settings of one declared study run: their defaults, and the check that refuses bad ones.

Kept apart from `seqmnist_zoo.studies.experiments` (which trains) so that reading and checking a study
file needs neither Keras nor a backend.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArgumentError

DEFAULTS: dict[str, Any] = {
    "cell": "lstm", "units": 128, "bidirectional": False, "readout": "last", "projection": None,
    "timesteps": 28, "layout": "reshape",
    "optimizer": "adam", "learning_rate": 0.001, "clipnorm": None, "loss": "crossentropy",
    "batch_size": 128, "epochs": None, "steps": None, "train_samples": None,
    "checkpoints": 10, "probe_every": 50,
}
CELLS = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}


def settings_of(declared: dict[str, Any]) -> dict[str, Any]:
    """Complete declared settings with `DEFAULTS` and check them; unknown keys are refused.

    Examples:
        >>> settings_of({"cell": "gru", "epochs": 1})["units"]
        128
        >>> settings_of({"cel": "gru"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        seqmnist_zoo.errors.InvalidArgumentError: unknown run setting 'cel'; known: batch_size, ...
    """
    unknown = sorted(set(declared) - set(DEFAULTS))
    if unknown:
        raise InvalidArgumentError(
            f"unknown run setting {unknown[0]!r}; known: {', '.join(sorted(DEFAULTS))}")
    settings = {**DEFAULTS, **declared}
    if settings["cell"] not in (*CELLS, "mlp"):
        raise InvalidArgumentError(
            f"cell {settings['cell']!r} is not one of {', '.join((*CELLS, 'mlp'))}")
    if 784 % settings["timesteps"]:
        raise InvalidArgumentError(f"timesteps {settings['timesteps']} does not divide 784")
    if (settings["epochs"] is None) == (settings["steps"] is None):
        raise InvalidArgumentError("a run's budget is either 'epochs' or 'steps', exactly one")
    for key, accepted in (("layout", ("reshape", "resize")), ("readout", ("last", "middle")),
                          ("loss", ("crossentropy", "mse"))):
        if settings[key] not in accepted:
            raise InvalidArgumentError(f"{key} {settings[key]!r} is not one of {', '.join(accepted)}")
    return settings
