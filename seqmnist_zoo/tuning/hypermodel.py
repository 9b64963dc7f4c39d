"""`ZooHyperModel`: a family built, compiled and fitted from a trial's hyperparameters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras
import keras_tuner as kt

from ..models.compile import compile_model
from ..models.registry import get_model_spec
from ..training.batches import fit_inputs, validation_inputs
from ..training.cpu_path import (
    MAX_UNROLLED_STEPS,
    build_for_fit,
    cpu_fast_path,
    cpu_steps_per_execution,
    has_gpu,
)
from ..training.fused_rnn import CHAINS
from .spaces import HP_TYPES, check_space

UNROLL_MIN_IMAGES = 200_000  # images a trial trains on before unrolled loops pay (see fit)


def _declare(hp: kt.HyperParameters, name: str, entry: dict[str, Any]):
    args = {k: v for k, v in entry.items() if k != "type"}
    return getattr(hp, HP_TYPES[entry["type"]])(name, **args)


class ZooHyperModel(kt.HyperModel):
    """A zoo family as a KerasTuner HyperModel; every hyperparameter is declared in `build`,
    and trials train on the same CPU fast path as `train` (see `fit`).

    Examples:
        >>> from seqmnist_zoo.tuning.spaces import default_space
        >>> hypermodel = ZooHyperModel("gru", default_space("gru"))
        >>> hypermodel.build(kt.HyperParameters()).name
        'gru'
    """

    def __init__(self, model_name: str, space: dict[str, Any], fast_path: bool = True,
                 unroll_min_images: int = UNROLL_MIN_IMAGES):
        super().__init__(name=model_name, tunable=True)
        check_space(space)
        self.model_name, self.space, self.fast_path = model_name, space, fast_path
        self.unroll_min_images = unroll_min_images
        self.spec = get_model_spec(model_name)

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        values = {name: _declare(hp, name, entry) for name, entry in self.space.items()}
        config = dict(self.spec.defaults)
        config.update({k: values[k] for k in ("timesteps", "units", "dropout") if k in values})
        if self.spec.family == "stacked_lstm":
            width = config["units"] if isinstance(config["units"], int) else config["units"][0]
            config["units"] = (width,) * values.get("layers", len(self.spec.defaults["units"]))
        model = self.spec.load_builder()(**config)
        recipe = replace(self.spec.recipe, schedule="constant",
                         learning_rate=values.get("learning_rate", self.spec.recipe.learning_rate),
                         clipnorm=values.get("clipnorm", self.spec.recipe.clipnorm))
        return compile_model(model, recipe)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args, **kwargs):
        """Train a trial on `train`'s CPU fast path (`cpu_fast_path`: fused LSTM/GRU loops,
        several batches per step call); KerasTuner's plain fit on a GPU and with
        ``fast_path=False``.

        Trials of fewer than ``unroll_min_images`` images (epochs x training images) run the
        loops symbolically and in one chain: an unrolled graph takes seconds to build, and a
        second chain about a second, more than a short trial gains from them.
        ``python benchmarks/tune_trials.py`` measures the paths. The data goes through
        `fit_inputs` and `validation_inputs`, as in `train`.
        """
        x = kwargs.pop("x") if "x" in kwargs else args[0]
        y = kwargs.pop("y") if "y" in kwargs else args[1]
        batch = kwargs.pop("batch_size", None) or 32
        kwargs.update(fit_inputs(x, y, batch_size=batch, shuffle=kwargs.pop("shuffle", True)))
        if isinstance(kwargs.get("validation_data"), (tuple, list)):
            kwargs["validation_data"] = validation_inputs(*kwargs["validation_data"], batch_size=batch)
        if not self.fast_path or has_gpu():
            return model.fit(**kwargs)
        images = len(x) * kwargs.get("epochs", 1)
        model.steps_per_execution = cpu_steps_per_execution(-(-len(x) // batch))
        build_for_fit(model, x[:1], y[:1])
        long = images >= self.unroll_min_images
        with cpu_fast_path(model, enabled=True, unroll_steps=MAX_UNROLLED_STEPS if long else 0,
                           chains=CHAINS if long else 1):
            return model.fit(**kwargs)
