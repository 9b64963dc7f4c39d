"""Resolving the `weights=` argument: tags to verified files, paths to checked files (no keras)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, WeightsError, WeightsFileNotFoundError, WeightsIntegrityError
from .specs import ModelSpec, WeightsSpec


def sha256_of(path) -> str:
    """The hex sha256 of a file, read in chunks.

    Examples:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = f.write_bytes(b"abc")
        >>> sha256_of(f)[:12]
        'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_file(record: WeightsSpec, path=None) -> Path:
    """The record's file (or `path`, a copy of it), after its sha256 matched the record.

    Raises `WeightsIntegrityError` naming the file and both hashes on a mismatch.

    Examples:
        >>> verified_file(get_model_spec("lstm").weights_for("mnist")).name
        'lstm_mnist.weights.h5'
    """
    path = Path(str(path if path is not None else record.path()))
    if not path.is_file():
        raise WeightsError(
            f"pretrained weights file {path} is missing from the installation; reinstall seqmnist-zoo"
        )
    actual = sha256_of(path)
    if actual != record.sha256:
        raise WeightsIntegrityError(path, expected=record.sha256, actual=actual)
    return path


def run_record_path(weights_file) -> Path:
    """Where `train` records a checkpoint's run (config, recipe, versions): beside it, as JSON.

    Examples:
        >>> run_record_path("runs/gru/gru.weights.h5").as_posix()
        'runs/gru/gru.json'
    """
    weights_file = Path(weights_file)
    return weights_file.with_name(weights_file.name.replace(".weights.h5", ".json"))


def read_run_config(weights_file) -> dict[str, Any]:
    """The model config (timesteps, units, ...) `train` recorded for a checkpoint, or {}.

    Lists are returned as tuples, the form the factories take for per-layer widths.

    Examples:
        >>> read_run_config("no/such.weights.h5")
        {}
    """
    record = run_record_path(weights_file)
    if not str(weights_file).endswith(".weights.h5") or not record.is_file():
        return {}
    try:
        config = json.loads(record.read_text(encoding="utf-8")).get("config", {})
    except (ValueError, AttributeError):  # not JSON, or JSON that is not an object
        config = None
    if not isinstance(config, dict):
        raise InvalidArgumentError(
            f"{record} beside {Path(weights_file).name} is not a run record: expected the JSON "
            f"object `seqmnist-zoo train` writes, with a \"config\" object such as "
            f"{{\"timesteps\": 28, \"units\": 128}}; fix or remove it")
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def resolve_weights(spec: ModelSpec, weights, config: dict[str, Any]) -> Path | None:
    """Turn a factory's `weights` argument into a file to load, or None for random init.

    `weights` is None, a tag of `spec` (e.g. ``"mnist"``) or a path to a ``.weights.h5`` file.
    A tag is refused when `config` (timesteps, units, classes) differs from the recorded one.

    Examples:
        >>> resolve_weights(get_model_spec("lstm"), None, {}) is None
        True
        >>> resolve_weights(get_model_spec("lstm"), "mnist", {"timesteps": 28}).name
        'lstm_mnist.weights.h5'
    """
    if weights is None:
        return None
    if not isinstance(weights, (str, Path)):
        raise InvalidArgumentError(
            f"weights must be None, a tag ({_tags(spec)}) or a path to a .weights.h5 file; "
            f"got {type(weights).__name__}"
        )
    if str(weights) in spec.pretrained_tags:
        record = spec.weights_for(str(weights))
        _check_compatible(spec.name, record, config)
        return verified_file(record)
    path = Path(weights).expanduser()
    if path.is_file():
        if not path.name.endswith(".weights.h5"):
            raise InvalidArgumentError(
                f"weights file {path} must be a Keras '.weights.h5' file (saved with "
                "model.save_weights); for a whole '.keras' model use keras.saving.load_model"
            )
        return path
    if path.suffix or path.parent != Path("."):
        raise WeightsFileNotFoundError(
            f"weights file {path} does not exist; accepted: a pretrained tag of {spec.name!r} "
            f"({_tags(spec)}) or an existing .weights.h5 file")
    raise InvalidArgumentError(
        f"weights={weights!r} is neither a pretrained tag of {spec.name!r} ({_tags(spec)}) "
        "nor an existing file; accepted: one of those tags or a .weights.h5 file"
    )


def check_start_shape(spec: ModelSpec, recipe, tag: str, config: dict[str, Any]) -> None:
    """Refuse to fine-tune a shipped tag (`recipe.start_from`) into another timesteps or units.

    Examples:
        >>> spec = get_model_spec("gru")
        >>> check_start_shape(spec, spec.recipe_for("mnist-robust"), "mnist-robust",
        ...                   {"timesteps": 28, "units": 128}) is None
        True
    """
    if recipe.start_from not in spec.pretrained_tags:
        return
    recorded = spec.weights_for(recipe.start_from).config
    for key in ("timesteps", "units"):
        asked = list(config[key]) if isinstance(config[key], (list, tuple)) else config[key]
        if key in recorded and asked != recorded[key]:
            raise InvalidArgumentError(
                f"the {tag!r} recipe of {spec.name} fine-tunes its {recipe.start_from!r} weights, "
                f"trained with {key}={recorded[key]!r}, so it cannot train {key}={asked!r}; keep "
                f"{key}={recorded[key]!r}, or train that shape from scratch with the 'mnist' recipe")


def weights_sha256(spec: ModelSpec, weights) -> str | None:
    """The sha256 of what `weights` names: a shipped tag's recorded hash, a file's own, or None.

    Examples:
        >>> spec = get_model_spec("lstm")
        >>> weights_sha256(spec, "mnist") == spec.weights_for("mnist").sha256
        True
    """
    if weights is None:
        return None
    if str(weights) in spec.pretrained_tags:
        return spec.weights_for(str(weights)).sha256
    return sha256_of(weights) if Path(weights).is_file() else None


def _tags(spec: ModelSpec) -> str:
    return ", ".join(repr(t) for t in spec.pretrained_tags) or "none shipped"


def _check_compatible(name: str, record: WeightsSpec, config: dict[str, Any]) -> None:
    for key, recorded in record.config.items():
        if key not in config:
            continue
        asked = list(config[key]) if isinstance(config[key], (list, tuple)) else config[key]
        recorded = list(recorded) if isinstance(recorded, (list, tuple)) else recorded
        if asked != recorded:
            raise InvalidArgumentError(
                f"{name}(weights={record.tag!r}) was trained with {key}={recorded!r}, "
                f"so it cannot be used with {key}={asked!r}; pass {key}={recorded!r} "
                "or weights=None"
            )
