"""The zoo's table of model families: built-ins, their shipped weights, then plugins.

Nothing here imports keras, so listing and describing models is instant.
"""

from __future__ import annotations

import fnmatch
import json
import warnings
from collections.abc import Iterable
from dataclasses import replace
from importlib import metadata, resources
from typing import Any

from ..errors import InvalidArgumentError, UnknownModelError
from .specs import ModelSpec, WeightsSpec, valid_timesteps

ENTRY_POINT_GROUP = "seqmnist_zoo.models"


class Registry:
    """A name -> `ModelSpec` table that refuses duplicates and loads entry-point plugins lazily.

    The package uses one instance (`default_registry()`); tests and embedders may build their own.

    Examples:
        >>> reg = Registry(entry_point_group=None)
        >>> reg.register(ModelSpec("tiny", builder="m:f", family="lstm")).name
        'tiny'
        >>> reg.names()
        ['tiny']
    """

    def __init__(self, entry_point_group: str | None = ENTRY_POINT_GROUP):
        self._specs: dict[str, ModelSpec] = {}
        self._entry_point_group = entry_point_group
        self._plugins_loaded = entry_point_group is None

    def register(self, spec: ModelSpec) -> ModelSpec:
        """Add a family; a name that is already taken is refused with a `ValueError`."""
        if not isinstance(spec, ModelSpec):
            raise InvalidArgumentError(f"register() takes a ModelSpec, got {type(spec).__name__}")
        if spec.name in self._specs:
            raise InvalidArgumentError(
                f"a model named {spec.name!r} is already registered; pick another name"
            )
        self._specs[spec.name] = spec
        return spec

    def get(self, name: str) -> ModelSpec:
        """The spec registered under `name`, or `UnknownModelError` listing the known names."""
        self._load_plugins()
        try:
            return self._specs[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._specs))
            raise UnknownModelError(f"unknown model {name!r}; known models: {known}") from None

    def names(self, pattern: str = "*", pretrained: bool = False) -> list[str]:
        """Sorted names matching the fnmatch `pattern`, only those with weights if `pretrained`."""
        self._load_plugins()
        return sorted(
            name
            for name, spec in self._specs.items()
            if fnmatch.fnmatchcase(name, pattern) and (spec.weights or not pretrained)
        )

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry_point in metadata.entry_points(group=self._entry_point_group):
            try:
                loaded = entry_point.load()
                specs = loaded() if callable(loaded) and not isinstance(loaded, ModelSpec) else loaded
                for spec in [specs] if isinstance(specs, ModelSpec) else specs:
                    self.register(spec)
            except Exception as err:  # a broken plugin must not break the zoo
                warnings.warn(
                    f"seqmnist-zoo: skipped plugin {entry_point.name!r} ({entry_point.value}): {err}",
                    RuntimeWarning,
                    stacklevel=3,
                )


def read_manifest(package: str = "seqmnist_zoo.models.weights") -> list[WeightsSpec]:
    """The weights records of a package's ``manifest.json`` (empty if it has none).

    Examples:
        >>> all(w.sha256 for w in read_manifest())
        True
    """
    manifest = resources.files(package).joinpath("manifest.json")
    if not manifest.is_file():
        return []
    records = json.loads(manifest.read_text(encoding="utf-8"))["weights"]
    return [WeightsSpec(**record, package=package) for record in records]


def attach_weights(specs: Iterable[ModelSpec], weights: Iterable[WeightsSpec]) -> list[ModelSpec]:
    """Return `specs` with each one's weights records (matched by model name) attached.

    Examples:
        >>> spec = ModelSpec("m", builder="a:b", family="lstm")
        >>> w = WeightsSpec("m", "mnist", "m.weights.h5", "0" * 64)
        >>> attach_weights([spec], [w])[0].pretrained_tags
        ('mnist',)
    """
    weights = list(weights)
    return [replace(s, weights=tuple(w for w in weights if w.model == s.name)) for s in specs]


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The package's registry: the built-in families, their shipped weights, then plugins.

    Examples:
        >>> "lstm" in default_registry().names()
        True
    """
    global _DEFAULT
    if _DEFAULT is None:
        from .catalog import builtin_specs

        registry = Registry()
        for spec in attach_weights(builtin_specs(), read_manifest()):
            registry.register(spec)
        _DEFAULT = registry
    return _DEFAULT


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a family to the zoo; refuses a name that is taken.

    Examples:
        >>> try:
        ...     register_model(ModelSpec("lstm", builder="m:f", family="lstm"))
        ... except ValueError as err:
        ...     print(err)
        a model named 'lstm' is already registered; pick another name
    """
    return default_registry().register(spec)


def get_model_spec(name: str) -> ModelSpec:
    """The `ModelSpec` registered under `name`.

    Examples:
        >>> get_model_spec("simple_rnn").recipe.clipnorm
        1.0
    """
    return default_registry().get(name)


def list_models(pattern: str = "*", pretrained: bool = False) -> list[str]:
    """Registered model names matching an fnmatch `pattern`, sorted.

    Examples:
        >>> list_models("*lstm")
        ['bilstm', 'lstm', 'stacked_lstm']
    """
    return default_registry().names(pattern, pretrained=pretrained)


def model_info(name: str) -> dict[str, Any]:
    """Everything the zoo knows about a model, as plain values; builds nothing.

    Examples:
        >>> info = model_info("lstm")
        >>> info["defaults"]["timesteps"], info["num_params"] > 0
        (28, True)
    """
    spec = get_model_spec(name)
    defaults = dict(spec.defaults)
    return {
        "name": spec.name,
        "family": spec.family,
        "description": spec.description,
        "notes": spec.notes,
        "defaults": defaults,
        "num_params": spec.count_params(**defaults) if spec.count_params else None,
        "valid_timesteps": valid_timesteps(),
        "recipe": spec.recipe.to_dict(),
        "weights": {w.tag: w.to_dict() for w in spec.weights},
    }


