"""The CPU training path: fused recurrent loops, unrolled short sequences, batches per step call."""

from __future__ import annotations

import contextlib
import os

import keras

from ..errors import InvalidArgumentError
from ..models.builders import timesteps_of
from . import fused_rnn

MAX_UNROLLED_STEPS = fused_rnn.UNROLL_STEPS  # longer recurrences run a symbolic loop


CPU_STEPS_PER_EXECUTION = 16


PROGRESS_UPDATES_PER_EPOCH = 25  # short epochs run fewer batches per step call, so progress shows


def cpu_steps_per_execution(steps_per_epoch: int) -> int:
    """Batches per step call on a CPU: up to 16, but at least 25 progress updates an epoch.

    Examples:
        >>> cpu_steps_per_execution(430), cpu_steps_per_execution(16)
        (16, 1)
    """
    return max(1, min(CPU_STEPS_PER_EXECUTION, steps_per_epoch // PROGRESS_UPDATES_PER_EPOCH))


def has_gpu() -> bool:
    """Whether the active Keras backend sees a GPU.

    Examples:
        >>> isinstance(has_gpu(), bool)
        True
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if keras.backend.backend() == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    return False


def cpu_matmul_dtype() -> str:
    """The fused loops' matmul operand type on this CPU: bfloat16 where it has bf16 matrix units.

    ``SEQMNIST_ZOO_CPU_MATMUL=float32`` (or ``bfloat16``) overrides the choice.

    Examples:
        >>> cpu_matmul_dtype() in ("float32", "bfloat16")
        True
    """
    chosen = os.environ.get("SEQMNIST_ZOO_CPU_MATMUL", "").strip().lower()
    if chosen:
        if chosen not in fused_rnn.MATMUL_DTYPES:
            raise InvalidArgumentError(f"SEQMNIST_ZOO_CPU_MATMUL={chosen!r} is not one of "
                                       f"{', '.join(fused_rnn.MATMUL_DTYPES)}")
        return chosen
    return "bfloat16" if fused_rnn.cpu_has_bfloat16_matmul() else "float32"


@contextlib.contextmanager
def cpu_fast_path(model: keras.Model, enabled: bool | None = None,
                  unroll_steps: int = MAX_UNROLLED_STEPS, chains: int = fused_rnn.CHAINS):
    """The zoo's CPU training path for `model` while the block runs.

    LSTM and GRU layers train on `fused_rnn`'s loops (TensorFlow backend; matmul operands of
    type `cpu_matmul_dtype`; each layer's batch cut into `chains` loops that run side by side).
    Recurrences of up to `unroll_steps` steps are unrolled: the fused loops are written out step
    by step, and other recurrent layers get ``unroll=True`` (`cpu_unrolled`). Unrolled graphs
    and more chains run faster but take longer to build, so a short run may pass
    ``unroll_steps=0, chains=1``. On a GPU (``enabled=None``) nothing changes, so cuDNN's kernels stay
    in use. Afterwards the model is exactly as before: the same layers, configs and weights.

    Examples:
        >>> from seqmnist_zoo import compile_model, gru
        >>> model = gru(units=8)
        >>> with cpu_fast_path(model, enabled=True) as path:
        ...     path["fused"]
        ['gru']
    """
    if enabled is None:
        enabled = not has_gpu()
    fused = enabled and keras.backend.backend() == "tensorflow"
    dtype = cpu_matmul_dtype() if fused else "float32"
    with contextlib.ExitStack() as stack:
        layers = stack.enter_context(fused_rnn.fused_training(model, dtype, chains, unroll_steps)) \
            if fused else []
        stack.enter_context(cpu_unrolled(model, enabled=enabled, max_steps=unroll_steps, skip=layers))
        yield {"fused": [layer.name for layer in layers], "matmul_dtype": dtype if layers else None}


def build_for_fit(model: keras.Model, x, y) -> None:
    """Create a compiled model's optimizer and metric variables from a sample batch ``(x, y)``
    before `fit` traces its first step.

    Variables created inside that trace make TensorFlow trace the step twice, which costs a
    short tuning trial more than its training. Keras builds this way itself under a distribution
    strategy and on its other backends (`_symbolic_build`, the private method used here).

    Examples:
        >>> from seqmnist_zoo import compile_model, gru
        >>> model = compile_model(gru(units=8), get_model_spec("gru").recipe)
        >>> build_for_fit(model, np.zeros((1, 28, 28), "uint8"), np.zeros(1, "int64"))
        >>> model.optimizer.built
        True
    """
    if keras.backend.backend() == "tensorflow" and hasattr(model, "_symbolic_build"):
        with model.distribute_strategy.scope():
            model._symbolic_build(data_batch=(x, y))


@contextlib.contextmanager
def layers_set(layers, **values):
    """Give `layers` these attribute values while the block runs, then put back what each had.

    Layers without an attribute are left without it.

    Examples:
        >>> from seqmnist_zoo import gru
        >>> layer = gru(units=4).get_layer("gru")
        >>> with layers_set([layer], unroll=True):
        ...     layer.unroll
        True
        >>> layer.unroll
        False
    """
    layers = list(layers)
    saved = [{name: getattr(layer, name) for name in values if hasattr(layer, name)} for layer in layers]
    for layer, old in zip(layers, saved, strict=True):
        for name in old:
            setattr(layer, name, values[name])
    try:
        yield layers
    finally:
        for layer, old in zip(layers, saved, strict=True):
            for name, value in old.items():
                setattr(layer, name, value)


@contextlib.contextmanager
def cpu_unrolled(model: keras.Model, enabled: bool | None = None,
                 max_steps: int = MAX_UNROLLED_STEPS, skip=()):
    """Unroll the model's recurrent layers (but those in `skip`) while the block runs.

    On a CPU an unrolled loop of up to `max_steps` steps trains faster than the
    symbolic loop; on a GPU the unrolled form would lose the cuDNN kernels, so by default
    (`enabled=None`) nothing changes there. The layers' saved config keeps ``unroll=False``
    and the weights are the same objects, so the trained model is an ordinary one.

    Examples:
        >>> from seqmnist_zoo import compile_model, gru
        >>> model = gru(units=8)
        >>> with cpu_unrolled(model, enabled=True):
        ...     model.get_layer("gru").unroll
        True
        >>> model.get_layer("gru").unroll
        False
    """
    if enabled is None:
        enabled = not has_gpu()
    length = timesteps_of(model)
    short = length is not None and length <= max_steps
    recurrent = [layer for layer in model._flatten_layers()
                 if isinstance(layer, keras.layers.RNN) and short and layer not in skip]
    with layers_set(recurrent if enabled else [], unroll=True):
        yield model
