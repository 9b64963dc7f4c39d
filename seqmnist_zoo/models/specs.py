"""What a model family is: its recipe, its weights records and its spec (`ModelSpec`).

Nothing here imports keras, so listing and describing models is instant. Builders are named as
``"module:function"`` strings and imported only when a model is actually built.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any

from ..errors import InvalidArgumentError

IMAGE_PIXELS = 28 * 28
TEACHER_FORM = re.compile(r"[\w.-]+:[\w.-]+")  # NAME:TAG, as registry names and weights tags are written
ROBUST_TAG = "mnist-robust"  # weights fine-tuned for real handwriting (`ModelSpec.recipe_for`)
ROBUST_EPOCHS = 20
ROBUST_REWRITES = 3


# Recipe fields that must be numbers (ranges are checked where they are used) and may be None.
_NUMBERS = ("learning_rate", "clipnorm", "dropout", "label_weight", "temperature", "ema_momentum")
_COUNTS = ("epochs", "batch_size", "validation_size", "shift_pixels", "seed", "rewrites")
_OPTIONAL = ("clipnorm", "ema_momentum")


@dataclass(frozen=True)
class Recipe:
    """How a family is trained: optimizer, schedule, clipping, budget and augmentation.

    `schedule` is ``"constant"`` or ``"cosine"`` (decay to zero over all steps). `shift_pixels`
    randomly shifts training digits by up to that many pixels; `augment="handwriting"` adds a
    scanned-handwriting rewrite of each (`seqmnist_zoo.inputs.augment`): `rewrites` of them, epoch
    k reading rewrite k mod `rewrites`, bent as well when `elastic`, half the 4s opened when
    `open_fours`, 1s' upstrokes as long as their stem when `long_upstrokes`, some 9s written
    like a "g" when `g_nines`; `start_from` names the weights tag training starts from. With
    `teachers` (``"NAME:TAG"`` weights of registered models) every training digit's target mixes
    its label (`label_weight` of it) with the teachers' averaged answer softened by `temperature`
    (knowledge distillation): a small network learns how a larger one reads. With `ema_momentum`
    the optimizer also keeps an exponential moving average of the weights (Keras's `use_ema`),
    and that average is what is validated and saved: less of the last steps' noise. The last
    `validation_size` training images (after a seeded shuffle) select the best epoch; the test
    set only reports.

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
    # "handwriting" adds a real-world rewrite of every training digit (`seqmnist_zoo.inputs.augment`).
    augment: str | None = None
    rewrites: int = 1
    elastic: bool = False
    # With augment: half the 4s are also rewritten open, their stem starting at the crossbar.
    open_fours: bool = False
    # With augment: 1s' upstrokes as long as the stem, at 15-75 degrees (else 0.25-0.8 of it, 20-65).
    long_upstrokes: bool = False
    # With augment: half the rewritten 9s written like a "g", the stem ending in a wide bowl.
    g_nines: bool = False
    # A weights tag to start from (fine-tuning) instead of random weights.
    start_from: str | None = None
    # Weights ("NAME:TAG") whose answers the targets mix in; label_weight is the label's share.
    teachers: tuple[str, ...] = ()
    label_weight: float = 0.5
    temperature: float = 2.0
    # The weights' moving average kept over training steps (0.999: about the last 1,000 steps).
    ema_momentum: float | None = None

    def __post_init__(self):
        for name in _NUMBERS + _COUNTS:
            value = getattr(self, name)
            kinds = Integral if name in _COUNTS else Real
            if value is None and name in _OPTIONAL:
                continue
            if isinstance(value, bool) or not isinstance(value, kinds):
                kind = "an integer" if name in _COUNTS else "a number"
                raise InvalidArgumentError(f"{name} must be {kind}"
                                           f"{' or None' if name in _OPTIONAL else ''}, got {value!r}")
        teachers = self.teachers
        if isinstance(teachers, str) or not all(isinstance(t, str) for t in teachers):
            raise InvalidArgumentError(f"teachers must be a list of 'NAME:TAG' strings (for example "
                                       f"['bilstm:mnist-robust']), got {teachers!r}")
        bad = [t for t in teachers if not TEACHER_FORM.fullmatch(t)]
        if bad or len(set(teachers)) != len(teachers):
            problem = f"{bad[0]!r} is not NAME:TAG" if bad else "a teacher is named twice"
            raise InvalidArgumentError(f"teachers: {problem}; give each once as 'NAME:TAG' (a "
                                       f"registered model and one of its weights tags, for "
                                       f"example 'bilstm:mnist-robust')")
        object.__setattr__(self, "teachers", tuple(teachers))
        if isinstance(self.label_weight, bool) or not 0.0 <= self.label_weight <= 1.0:
            raise InvalidArgumentError(f"label_weight must be from 0 to 1 (the label's share of each "
                                       f"target), got {self.label_weight!r}")
        momentum = self.ema_momentum
        if momentum is not None and (isinstance(momentum, bool) or not 0.0 < momentum < 1.0):
            raise InvalidArgumentError(f"ema_momentum must be strictly between 0 and 1 (0.999 averages about "
                                       f"the last 1,000 steps) or None, got {momentum!r}")
        if isinstance(self.temperature, bool) or not self.temperature > 0:
            raise InvalidArgumentError(f"temperature must be above 0 (1 keeps the teachers' answers, "
                                       f"higher softens them), got {self.temperature!r}")

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain JSON-able values (tuples as lists, as JSON reads them back).

        Examples:
            >>> Recipe().to_dict()["optimizer"]
            'adam'
            >>> Recipe(teachers=("bilstm:mnist-robust",)).to_dict()["teachers"]
            ['bilstm:mnist-robust']
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def rewrite_style(self) -> dict[str, bool]:
        """The `handwriting_variants` options this recipe's rewrites are made with.

        Examples:
            >>> Recipe(augment="handwriting", open_fours=True).rewrite_style()["open_fours"]
            True
        """
        return {"elastic": self.elastic, "open_fours": self.open_fours,
                "long_upstrokes": self.long_upstrokes, "g_nines": self.g_nines}


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
    # Test accuracy of the same recipe over seeds (`tools.spread`); None until measured.
    seed_spread: Mapping[str, Any] | None = None
    package: str = "seqmnist_zoo.models.weights"

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
    # Recipe fields this family's ROBUST_TAG recipe sets on top of the shared ones (`recipe_for`).
    robust_recipe: Mapping[str, Any] = field(default_factory=dict)
    # What the zoo's own studies found about this model that a user should know (model card, info).
    notes: str = ""

    def __post_init__(self):
        if not isinstance(self.robust_recipe, Mapping):
            raise InvalidArgumentError(f"{self.name}: robust_recipe must be a mapping of Recipe fields "
                                       f"to values, got {type(self.robust_recipe).__name__}")
        unknown = sorted(set(self.robust_recipe) - {f.name for f in fields(Recipe)})
        if unknown:
            accepted = ", ".join(f.name for f in fields(Recipe))
            raise InvalidArgumentError(f"{self.name}: robust_recipe sets {', '.join(unknown)}, not a "
                                       f"Recipe field; accepted: {accepted}")
        try:
            self.recipe_for(ROBUST_TAG)  # a bad value is refused where it is written, too
        except (InvalidArgumentError, TypeError) as err:
            raise InvalidArgumentError(f"{self.name}: robust_recipe: {err}") from None

    def load_builder(self) -> Callable[..., Any]:
        """Import and return the builder function.

        Examples:
            >>> get_model_spec("gru").load_builder().__name__
            'gru'
        """
        if callable(self.builder):
            return self.builder
        from ..quiet import start_keras_quietly

        start_keras_quietly()
        module_name, _, attr = self.builder.partition(":")
        return getattr(importlib.import_module(module_name), attr)

    def recipe_for(self, tag: str = "mnist") -> Recipe:
        """The recipe that makes the weights tagged `tag`.

        ``"mnist"`` is the family's recipe. ``"mnist-robust"`` starts from the ``"mnist"``
        weights and trains `ROBUST_EPOCHS` more at the same learning rate on MNIST plus a
        handwriting rewrite of every digit (`ROBUST_REWRITES` of them, read in turn, one per epoch;
        half of them bent), keeping the epoch that reads best the validation digits and their
        rewrite, so it reads real scanned handwriting better. The family's own `robust_recipe`
        fields are set on top, and win over these (a family may train longer).

        Examples:
            >>> get_model_spec("gru").recipe_for("mnist-robust").start_from
            'mnist'
        """
        if tag == "mnist":
            return self.recipe
        if tag == ROBUST_TAG:
            shared = {"epochs": ROBUST_EPOCHS, "augment": "handwriting", "rewrites": ROBUST_REWRITES,
                      "elastic": True, "start_from": "mnist"}
            return replace(self.recipe, **{**shared, **self.robust_recipe})
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


def recipe_shown(recipe: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded recipe as people read it: the distillation settings only when it has teachers.

    Examples:
        >>> shown = recipe_shown(Recipe(epochs=3).to_dict())
        >>> shown["epochs"], "temperature" in shown
        (3, False)
    """
    if recipe.get("teachers"):
        return dict(recipe)
    return {k: v for k, v in recipe.items() if k not in ("teachers", "label_weight", "temperature")}


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


def spread_text(spread: dict[str, Any] | None) -> str:
    """``99.32% ± 0.07 (3 seeds)``: mean ± standard deviation in points, or ``-`` if unmeasured.

    Examples:
        >>> spread_text({"mean": 0.99323, "std": 0.00068, "runs": 3})
        '99.32% ± 0.07 (3 seeds)'
        >>> spread_text(None)
        '-'
    """
    if not spread:
        return "-"
    return f"{spread['mean']:.2%} ± {spread['std'] * 100:.2f} ({spread['runs']} seeds)"


def seeds_text(spread: dict[str, Any]) -> str:
    """Each seed's test accuracy, as `info` and the model cards list them.

    Examples:
        >>> seeds_text({"test_accuracy_by_seed": {"0": 0.994, "1": 0.9929}})
        'seed 0: 99.40%, seed 1: 99.29%'
    """
    return ", ".join(f"seed {s}: {a:.2%}" for s, a in spread["test_accuracy_by_seed"].items())
