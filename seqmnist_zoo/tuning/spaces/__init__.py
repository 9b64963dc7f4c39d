"""Search spaces for `tune`: the default one per family and the named spaces shipped here.

A space is plain data: each hyperparameter names a KerasTuner type (``int``, ``float``,
``choice``, ``boolean``, ``fixed``) and its arguments. A space file is a JSON object with a
``hyperparameters`` object and optional defaults (``tuner``, ``epochs``, ``max_trials``, ...).
``seqmnist-zoo tune NAME --space NAME_OR_FILE`` takes a shipped name or any such file. Nothing
here imports keras, so ``tune --help`` can list the spaces instantly.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ...errors import InvalidArgumentError
from ...models.registry import get_model_spec
from ...models.specs import valid_timesteps

HP_TYPES = {"int": "Int", "float": "Float", "choice": "Choice", "boolean": "Boolean",
            "fixed": "Fixed"}
KNOWN_HYPERPARAMETERS = {"units", "learning_rate", "timesteps", "layers", "clipnorm", "dropout"}
# Each type's arguments: (required, optional), as KerasTuner's HyperParameters methods take them.
HP_ARGUMENTS = {"int": ({"min_value", "max_value"}, {"step", "sampling", "default"}),
                "float": ({"min_value", "max_value"}, {"step", "sampling", "default"}),
                "choice": ({"values"}, {"ordered", "default"}),
                "boolean": (set(), {"default"}),
                "fixed": ({"value"}, set())}
SAMPLINGS = ("linear", "log", "reverse_log")
# A space file's settings besides its hyperparameters, and the least each count may be (as the
# command line's options accept them).
FILE_COUNTS = {"epochs": 1, "max_trials": 1, "train_samples": 10, "batch_size": 1}
FILE_KEYS = {"hyperparameters", "description", "models", "tuner", *FILE_COUNTS}


def default_space(name: str) -> dict[str, Any]:
    """The search space `tune` uses when none is given, adapted to the family.

    Examples:
        >>> sorted(default_space("stacked_lstm"))
        ['layers', 'learning_rate', 'timesteps', 'units']
    """
    family = get_model_spec(name).family
    space = {
        "units": {"type": "int", "min_value": 32, "max_value": 256, "step": 32},
        "learning_rate": {"type": "float", "min_value": 1e-4, "max_value": 1e-2, "sampling": "log"},
        "timesteps": {"type": "choice", "values": [7, 14, 16, 28, 49, 56, 112]},
    }
    if family == "stacked_lstm":
        space["layers"] = {"type": "int", "min_value": 2, "max_value": 3}
    if family == "simple_rnn":
        space["clipnorm"] = {"type": "float", "min_value": 0.25, "max_value": 4.0, "sampling": "log"}
    return space


def describe_space(space: dict[str, Any]) -> str:
    """A one-line summary of a space, as ``tune --help`` shows it.

    Examples:
        >>> describe_space({"units": {"type": "int", "min_value": 32, "max_value": 64, "step": 32},
        ...                 "timesteps": {"type": "choice", "values": [14, 28]}})
        'units 32-64 step 32; timesteps one of 14, 28'
    """
    parts = []
    for name, entry in space.items():
        if entry["type"] in ("int", "float"):
            step = f" step {entry['step']}" if "step" in entry else ""
            scale = " (log)" if entry.get("sampling") == "log" else ""
            parts.append(f"{name} {entry['min_value']:g}-{entry['max_value']:g}{step}{scale}")
        elif entry["type"] == "choice":
            parts.append(f"{name} one of {', '.join(map(str, entry['values']))}")
        elif entry["type"] == "fixed":
            parts.append(f"{name} = {entry['value']}")
        else:
            parts.append(f"{name} {entry['type']}")
    return "; ".join(parts)


def shipped_spaces() -> dict[str, str]:
    """The named spaces shipped with the zoo and their descriptions.

    Examples:
        >>> "timesteps_study" in shipped_spaces()
        True
    """
    found = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            data = json.loads(entry.read_text(encoding="utf-8"))
            found[entry.name[:-5]] = data.get("description", "")
    return found


def load_space(name_or_path) -> dict[str, Any]:
    """Read a shipped space by name, or a space file: ``{"hyperparameters": {...}}`` + defaults.

    Examples:
        >>> load_space("timesteps_study")["hyperparameters"]["timesteps"]["type"]
        'choice'
    """
    shipped = str(name_or_path) in shipped_spaces()
    path = resources.files(__name__) / f"{name_or_path}.json" if shipped else Path(name_or_path)
    if not shipped and not Path(path).is_file():
        raise InvalidArgumentError(
            f"search space {name_or_path!r} is neither a shipped space "
            f"({', '.join(shipped_spaces())}) nor a JSON file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InvalidArgumentError(f"cannot read search space {name_or_path}: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("hyperparameters"), dict):
        raise InvalidArgumentError(
            f"search space {name_or_path} must be a JSON object with a 'hyperparameters' object")
    _check_file_settings(data, str(name_or_path))
    check_space(data["hyperparameters"], source=str(name_or_path))
    return data


def _check_file_settings(data: dict[str, Any], source: str) -> None:
    unknown = sorted(set(data) - FILE_KEYS)
    if unknown:
        raise InvalidArgumentError(
            f"{source}: unknown setting {', '.join(map(repr, unknown))}; accepted: "
            f"{', '.join(sorted(FILE_KEYS))}")
    for key, least in FILE_COUNTS.items():
        value = data.get(key)
        if key in data and (type(value) is not int or value < least):
            raise InvalidArgumentError(f"{source}: {key} must be a whole number >= {least}; got {value!r}")
    if not data["hyperparameters"]:
        raise InvalidArgumentError(
            f"{source}: 'hyperparameters' is empty; give at least one of "
            f"{', '.join(sorted(KNOWN_HYPERPARAMETERS))} (leave --space out for the default space)")


def check_space(space: dict[str, Any], source: str = "search space") -> None:
    """Refuse unknown names, types and arguments, impossible ranges and timesteps that do not
    divide 784, naming what is accepted.

    Examples:
        >>> check_space({"timesteps": {"type": "choice", "values": [27]}})
        Traceback (most recent call last):
        ...
        seqmnist_zoo.errors.InvalidArgumentError: search space: timesteps 27 do not divide 784
    """
    for name, entry in space.items():
        if name not in KNOWN_HYPERPARAMETERS:
            raise InvalidArgumentError(
                f"{source}: unknown hyperparameter {name!r}; known: "
                f"{', '.join(sorted(KNOWN_HYPERPARAMETERS))}")
        if not isinstance(entry, dict) or entry.get("type") not in HP_TYPES:
            got = f"; got {entry.get('type')!r}" if isinstance(entry, dict) and "type" in entry else ""
            raise InvalidArgumentError(
                f"{source}: {name} needs a 'type' among {', '.join(HP_TYPES)}{got}")
        _check_arguments(name, entry, source)
    steps = space.get("timesteps", {})
    candidates = steps.get("values", [steps.get("value")] if "value" in steps else [])
    bad = [t for t in candidates if t not in valid_timesteps()]
    if bad:
        raise InvalidArgumentError(f"{source}: timesteps {', '.join(map(str, bad))} do not divide 784")


def _check_arguments(name: str, entry: dict[str, Any], source: str) -> None:
    kind = entry["type"]
    required, optional = HP_ARGUMENTS[kind]
    given = set(entry) - {"type"}
    missing, unknown = sorted(required - given), sorted(given - required - optional)
    if missing or unknown:
        accepted = ", ".join([*sorted(required), *(f"optional {o}" for o in sorted(optional))])
        wrong = [f"{what} {', '.join(names)}" for what, names in (("missing", missing), ("unknown", unknown))
                 if names]
        article = "an" if kind == "int" else "a"
        raise InvalidArgumentError(f"{source}: {name} ({kind}): {'; '.join(wrong)}; "
                                   f"{article} {kind} takes {accepted or 'no arguments'}")

    def fail(why: str):
        raise InvalidArgumentError(f"{source}: {name} ({kind}): {why}")

    if kind in ("int", "float"):
        number = int if kind == "int" else (int, float)
        low, high = entry["min_value"], entry["max_value"]
        if not all(isinstance(v, number) and not isinstance(v, bool) for v in (low, high)):
            whole = "whole " if kind == "int" else ""
            fail(f"min_value and max_value must be {whole}numbers; got {low!r}, {high!r}")
        if low > high:
            fail(f"min_value {low} is above max_value {high}")
        sampling = entry.get("sampling", "linear")
        if sampling not in SAMPLINGS:
            fail(f"sampling {sampling!r} is not one of {', '.join(SAMPLINGS)}")
        if sampling != "linear" and low <= 0:
            fail(f"{sampling} sampling needs min_value > 0; got {low}")
        step = entry.get("step")
        if step is not None and (not isinstance(step, number) or isinstance(step, bool) or step <= 0):
            fail(f"step must be a positive number; got {step!r}")
    elif kind == "choice" and (not isinstance(entry["values"], list) or not entry["values"]):
        fail(f"values must be a non-empty list; got {entry['values']!r}")
