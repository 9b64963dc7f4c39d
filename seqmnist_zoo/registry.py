"""The catalogue of model families: what exists, its defaults, its recipe and its weights.

Nothing here imports keras, so listing and describing models is instant. Builders are named as
``"module:function"`` strings and imported only when a model is actually built.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata, resources
from types import MappingProxyType
from typing import Any

from .errors import InvalidArgumentError, UnknownModelError

ENTRY_POINT_GROUP = "seqmnist_zoo.models"
IMAGE_PIXELS = 28 * 28
ROBUST_TAG = "mnist-robust"  # weights fine-tuned for real handwriting (`ModelSpec.recipe_for`)
ROBUST_EPOCHS = 6


@dataclass(frozen=True)
class Recipe:
    """How a family is trained: optimizer, schedule, clipping, budget and augmentation.

    `schedule` is ``"constant"`` or ``"cosine"`` (decay to zero over all steps). `shift_pixels`
    randomly shifts training digits by up to that many pixels; `augment="handwriting"` adds a
    scanned-handwriting rewrite of each (`seqmnist_zoo.augment`); `start_from` names the weights
    tag training starts from. The last `validation_size` training images (after a seeded
    shuffle) select the best epoch; the test set only reports.

    Examples:
        >>> Recipe(learning_rate=1e-3, clipnorm=1.0).clipnorm
        1.0
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "cosine"
    clipnorm: float | None = None
    epochs: int = 20
    batch_size: int = 128
    validation_size: int = 5000
    shift_pixels: int = 0
    dropout: float = 0.0
    seed: int = 0
    # "handwriting" adds a real-world rewrite of every training digit (`seqmnist_zoo.augment`).
    augment: str | None = None
    # A weights tag to start from (fine-tuning) instead of random weights.
    start_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain JSON-able values.

        Examples:
            >>> Recipe().to_dict()["optimizer"]
            'adam'
        """
        return asdict(self)


@dataclass(frozen=True)
class WeightsSpec:
    """One shipped weights file and everything measured about it (a manifest record).

    Examples:
        >>> spec = WeightsSpec(model="lstm", tag="mnist", file="lstm_mnist.weights.h5",
        ...                    sha256="0" * 64, config={"timesteps": 28})
        >>> spec.config["timesteps"]
        28
    """

    model: str
    tag: str
    file: str
    sha256: str
    config: Mapping[str, Any] = field(default_factory=dict)
    num_params: int | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    recipe: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, Any] = field(default_factory=dict)
    # Test accuracy of the same recipe over seeds (`seqmnist_zoo.spread`); None until measured.
    seed_spread: Mapping[str, Any] | None = None
    package: str = "seqmnist_zoo.weights"

    def path(self):
        """The weights file inside its package, as a `pathlib.Path`-like resource.

        Examples:
            >>> get_model_spec("lstm").weights_for("mnist").path().name
            'lstm_mnist.weights.h5'
        """
        return resources.files(self.package).joinpath(self.file)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-able values.

        Examples:
            >>> WeightsSpec("lstm", "mnist", "f.weights.h5", "0" * 64).to_dict()["tag"]
            'mnist'
        """
        out = asdict(self)
        out.pop("package")
        return out


@dataclass(frozen=True)
class ModelSpec:
    """A registered model family.

    `builder` is a callable or a ``"module:function"`` string resolved on first use; it accepts
    the keras.applications-style keyword arguments (`weights`, `timesteps`, `units`, ...).
    `count_params(**config)` gives the parameter count without building (optional).

    Examples:
        >>> spec = ModelSpec("tiny", builder="my_pkg.models:tiny", family="lstm",
        ...                  defaults={"timesteps": 28, "units": 8})
        >>> spec.defaults["units"]
        8
    """

    name: str
    builder: str | Callable[..., Any]
    family: str
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    recipe: Recipe = field(default_factory=Recipe)
    weights: tuple[WeightsSpec, ...] = ()
    count_params: Callable[..., int] | None = None
    # What the zoo's own studies found about this model that a user should know (model card, info).
    notes: str = ""

    def load_builder(self) -> Callable[..., Any]:
        """Import and return the builder function.

        Examples:
            >>> get_model_spec("gru").load_builder().__name__
            'gru'
        """
        if callable(self.builder):
            return self.builder
        from .quiet import start_keras_quietly

        start_keras_quietly()
        module_name, _, attr = self.builder.partition(":")
        return getattr(importlib.import_module(module_name), attr)

    def recipe_for(self, tag: str = "mnist") -> Recipe:
        """The recipe that makes the weights tagged `tag`.

        ``"mnist"`` is the family's recipe. ``"mnist-robust"`` starts from the ``"mnist"``
        weights and trains `ROBUST_EPOCHS` more at a quarter of the learning rate on MNIST plus
        a handwriting rewrite of every digit, so it reads real scanned handwriting better.

        Examples:
            >>> get_model_spec("gru").recipe_for("mnist-robust").start_from
            'mnist'
        """
        if tag == "mnist":
            return self.recipe
        if tag == ROBUST_TAG:
            return replace(self.recipe, epochs=ROBUST_EPOCHS, learning_rate=self.recipe.learning_rate / 4,
                           augment="handwriting", start_from="mnist")
        raise InvalidArgumentError(f"no recipe for weights tag {tag!r}; known: 'mnist', {ROBUST_TAG!r}")

    def weights_for(self, tag: str) -> WeightsSpec:
        """The weights record with this tag, or an error listing the available tags.

        Examples:
            >>> get_model_spec("gru").weights_for("mnist").file
            'gru_mnist.weights.h5'
        """
        for spec in self.weights:
            if spec.tag == tag:
                return spec
        available = ", ".join(repr(w.tag) for w in self.weights) or "none"
        raise InvalidArgumentError(
            f"model {self.name!r} has no pretrained weights tagged {tag!r}; available: {available}"
        )

    @property
    def reader_weights(self) -> str:
        """The weights `predict_digits` and ``seqmnist-zoo predict`` use by default.

        `ROBUST_TAG` where shipped (measured better on real handwriting), else ``"mnist"``.

        Examples:
            >>> ModelSpec("x", builder="m:f", family="lstm").reader_weights
            'mnist'
        """
        return ROBUST_TAG if ROBUST_TAG in self.pretrained_tags else "mnist"

    @property
    def pretrained_tags(self) -> tuple[str, ...]:
        """The tags of the weights shipped for this model.

        Examples:
            >>> ModelSpec("x", builder="m:f", family="lstm").pretrained_tags
            ()
        """
        return tuple(w.tag for w in self.weights)


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


def read_manifest(package: str = "seqmnist_zoo.weights") -> list[WeightsSpec]:
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


def get_model(name: str, *, compile: bool = False, **kwargs: Any):
    """Build the model registered under `name`; keyword arguments go to its factory.

    With ``compile=True`` the model is compiled with its family's recipe (optimizer,
    learning rate, gradient clipping).

    Examples:
        >>> model = get_model("simple_rnn", units=32, compile=True)
        >>> float(model.optimizer.clipnorm)
        1.0
    """
    spec = get_model_spec(name)
    model = spec.load_builder()(**kwargs)
    if compile:
        from .training import compile_model

        compile_model(model, spec.recipe)
    return model


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


def valid_timesteps() -> list[int]:
    """Every T that splits a 28x28 image into T steps of 784 // T features.

    Examples:
        >>> valid_timesteps()[:6]
        [1, 2, 4, 7, 8, 14]
    """
    return [t for t in range(1, IMAGE_PIXELS + 1) if IMAGE_PIXELS % t == 0]


def readonly(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view, so shared defaults cannot be mutated by accident.

    Examples:
        >>> readonly({"a": 1})["a"]
        1
    """
    return MappingProxyType(dict(mapping))
