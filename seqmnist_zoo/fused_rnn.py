"""Fused LSTM and GRU time loops for training on a CPU, with hand-written gradients.

Keras runs a recurrent layer on a GPU through cuDNN's fused kernel; on a CPU it runs the cell
step by step and lets autodiff build the backward pass, one small op at a time. This module is
the CPU counterpart of the cuDNN path, written with `keras.ops`:

- the input projection of all timesteps is one batched matmul, and so are the weight gradients
  of the whole sequence (not one small matmul per step);
- the state is kept feature-major, ``(units, batch)``, so that the gates are row blocks and
  splitting or joining them costs nothing (column slices are slow copies on TensorFlow's CPU);
- the backward pass is written out (`keras.ops.custom_gradient`), a handful of element-wise ops
  per step instead of autodiff's dozens;
- on CPUs with bfloat16 matrix units the matmul operands may be bfloat16 (``matmul_dtype``),
  with the state, the gates and every sum kept in float32.

`fused_training` (TensorFlow backend) swaps these loops into a model's stock LSTM and GRU layers
while a block runs and puts the layers back afterwards: the weights are the layers' own
variables, so the trained model is the ordinary model (`load_model` needs no `custom_objects`).
Layers it cannot compute exactly (masking, dropout inside the layer, other activations, stateful
layers, a mixed-precision policy) and sequences over `MAX_STEPS` steps keep Keras's loop.
Tests check both loops against Keras's own cells, forward and gradients.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import keras
from keras import ops

MATMUL_DTYPES = ("float32", "bfloat16")
# Independent loops per layer (batch parts): one per core of the 2-core machine this was built
# on. ``python benchmarks/training_options.py --options one_chain`` compares it with one chain.
CHAINS = 2
MAX_STEPS = 64  # longer sequences keep Keras's symbolic loop: an unrolled graph grows with T


def cpu_has_bfloat16_matmul(cpuinfo: str | None = None) -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (Intel AMX-BF16 or AVX512-BF16).

    Examples:
        >>> cpu_has_bfloat16_matmul("flags : fpu sse2 avx512f amx_bf16 amx_tile")
        True
        >>> cpu_has_bfloat16_matmul("flags : fpu sse2 avx2")
        False
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith(("flags", "Features")):
            flags.update(line.split(":", 1)[1].split())
    return bool({"amx_bf16", "avx512_bf16"} & flags)


def _gate_major(weights, order):
    """(features, k*units) Keras weights -> (k*units, features), gate blocks in `order`."""
    blocks = ops.split(ops.transpose(weights), len(order), axis=0)
    return ops.concatenate([blocks[i] for i in order], axis=0)


def _project(sequences, kernel_t, bias_t, go_backwards: bool, low: str):
    """All timesteps' input projections at once: (batch, T, F) -> (T, gates*units, batch).

    The bias rides in the matmul as a column against a row of ones, so that its gradient is part
    of the kernel's matmul instead of a slow sum over two axes.
    """
    x = ops.transpose(sequences, (1, 2, 0))  # (T, F, batch)
    if go_backwards:
        x = ops.flip(x, axis=0)
    x = ops.concatenate([x, ops.ones_like(x[:, :1])], axis=1)
    weights = ops.concatenate([kernel_t, bias_t[:, None]], axis=1)
    return ops.cast(ops.matmul(ops.cast(weights, low)[None], ops.cast(x, low)), "float32")


def _float32(*tensors):
    return [ops.cast(t, "float32") for t in tensors]


def _weight_gradient(dz_low, inputs_low):
    """Sum over steps and batch of dz_t @ input_t^T: (T, G, batch), (T, N, batch) -> (G, N)."""
    return ops.cast(ops.einsum("tgb,tnb->gn", dz_low, inputs_low), "float32")


def _outputs(last_t, seq_t, states_t, return_sequences: bool):
    """Feature-major results back in Keras's layout: (last, sequence, states)."""
    last = ops.transpose(last_t)
    states = [ops.transpose(s) for s in states_t]
    if return_sequences:
        return last, ops.transpose(seq_t, (2, 0, 1)), states
    return last, last[:, None, :], states


# LSTM: Keras orders the gates i, f, c, o; the loop wants the three sigmoid gates together.
_LSTM_ORDER = (0, 1, 3, 2)


def lstm(sequences, h0, c0, *, kernel, recurrent_kernel, bias, return_sequences=False,
         go_backwards=False, matmul_dtype="float32"):
    """An LSTM layer's loop (tanh/sigmoid, bias): returns ``(last, outputs, [h, c])`` as Keras does.

    Examples:
        >>> import numpy as np
        >>> x = np.zeros((2, 5, 3), "float32"); h = np.zeros((2, 4), "float32")
        >>> last, outputs, (h_T, c_T) = lstm(x, h, h, kernel=np.ones((3, 16)),
        ...                                  recurrent_kernel=np.ones((4, 16)), bias=np.zeros(16))
        >>> tuple(last.shape), tuple(outputs.shape)
        ((2, 4), (2, 1, 4))
    """
    sequences, h0, c0, kernel, recurrent_kernel, bias = _float32(
        sequences, h0, c0, kernel, recurrent_kernel, bias)
    units = recurrent_kernel.shape[0]
    low = matmul_dtype
    kernel_t = _gate_major(kernel, _LSTM_ORDER)
    recurrent_t = ops.cast(_gate_major(recurrent_kernel, _LSTM_ORDER), low)
    bias_t = ops.concatenate([ops.split(bias, 4)[i] for i in _LSTM_ORDER])
    projected = _project(sequences, kernel_t, bias_t, go_backwards, low)
    steps = projected.shape[0]

    @ops.custom_gradient
    def loop(projected, recurrent_t, h, c):
        inputs = ops.unstack(projected, steps, axis=0)
        saved, seq = [], []
        for t in range(steps):
            h_low = ops.cast(h, low)
            z = inputs[t] + ops.cast(ops.matmul(recurrent_t, h_low), "float32")
            sig, g = ops.split(z, [3 * units], axis=0)
            sig, g = ops.sigmoid(sig), ops.tanh(g)
            i, f, o = ops.split(sig, 3, axis=0)
            c_prev = c
            c = f * c + i * g
            tanh_c = ops.tanh(c)
            h = o * tanh_c
            saved.append((sig, g, c_prev, tanh_c, h_low))
            seq.append(h)

        def grad(*grads):  # one upstream gradient per output (TensorFlow's convention)
            d_seq = ops.unstack(grads[0], steps, axis=0) if return_sequences else None
            dh, dc = grads[-2:]
            recurrent_back = ops.transpose(recurrent_t)
            dzs, dzs_low = [None] * steps, [None] * steps
            for t in reversed(range(steps)):
                sig, g, c_prev, tanh_c, _ = saved[t]
                if d_seq is not None:
                    dh = dh + d_seq[t]
                i, f, o = ops.split(sig, 3, axis=0)
                dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
                d_sig = ops.concatenate([dc * g, dc * c_prev, dh * tanh_c], axis=0) * (sig - sig * sig)
                dz = ops.concatenate([d_sig, dc * i * (1.0 - g * g)], axis=0)
                dc = dc * f
                dzs[t], dzs_low[t] = dz, ops.cast(dz, low)
                dh = ops.cast(ops.matmul(recurrent_back, dzs_low[t]), "float32")
            d_recurrent = _weight_gradient(ops.stack(dzs_low), ops.stack([s[4] for s in saved]))
            return ops.stack(dzs), ops.cast(d_recurrent, low), dh, dc

        outputs = (ops.stack(seq), h, c) if return_sequences else (h, c)
        return outputs, grad

    results = loop(projected, recurrent_t, ops.transpose(h0), ops.transpose(c0))
    return _outputs(results[-2], results[0], results[-2:], return_sequences)


def gru(sequences, h0, *, kernel, recurrent_kernel, bias, return_sequences=False,
        go_backwards=False, matmul_dtype="float32"):
    """A GRU layer's loop (``reset_after=True``, tanh/sigmoid): ``(last, outputs, [h])``.

    Examples:
        >>> import numpy as np
        >>> x = np.zeros((2, 5, 3), "float32"); h = np.zeros((2, 4), "float32")
        >>> last, _, _ = gru(x, h, kernel=np.ones((3, 12)), recurrent_kernel=np.ones((4, 12)),
        ...                  bias=np.zeros((2, 12)))
        >>> tuple(last.shape)
        (2, 4)
    """
    sequences, h0, kernel, recurrent_kernel, bias = _float32(sequences, h0, kernel, recurrent_kernel, bias)
    units = recurrent_kernel.shape[0]
    low = matmul_dtype
    order = (0, 1, 2)  # z, r, h: the two sigmoid gates already lead
    kernel_t = _gate_major(kernel, order)
    recurrent_t = ops.cast(_gate_major(recurrent_kernel, order), low)
    input_bias, recurrent_bias = ops.unstack(bias, 2, axis=0)
    projected = _project(sequences, kernel_t, input_bias, go_backwards, low)
    steps = projected.shape[0]

    @ops.custom_gradient
    def loop(projected, recurrent_t, recurrent_bias, h):
        inputs = ops.unstack(projected, steps, axis=0)
        bias_col = recurrent_bias[:, None]
        saved, seq = [], []
        for t in range(steps):
            h_low = ops.cast(h, low)
            rec = ops.cast(ops.matmul(recurrent_t, h_low), "float32") + bias_col
            x_zr, x_h = ops.split(inputs[t], [2 * units], axis=0)
            rec_zr, rec_h = ops.split(rec, [2 * units], axis=0)
            zr = ops.sigmoid(x_zr + rec_zr)
            z, r = ops.split(zr, 2, axis=0)
            candidate = ops.tanh(x_h + r * rec_h)
            h_prev = h
            h = candidate + z * (h - candidate)
            saved.append((zr, rec_h, candidate, h_prev, h_low))
            seq.append(h)

        def grad(*grads):  # one upstream gradient per output (TensorFlow's convention)
            d_seq = ops.unstack(grads[0], steps, axis=0) if return_sequences else None
            dh = grads[-1]
            recurrent_back = ops.transpose(recurrent_t)
            d_inputs, d_recs, d_recs_low = [None] * steps, [None] * steps, [None] * steps
            for t in reversed(range(steps)):
                zr, rec_h, candidate, h_prev, _ = saved[t]
                if d_seq is not None:
                    dh = dh + d_seq[t]
                z, r = ops.split(zr, 2, axis=0)
                d_candidate = dh * (1.0 - z) * (1.0 - candidate * candidate)
                d_zr = ops.concatenate([dh * (h_prev - candidate), d_candidate * rec_h], axis=0) \
                    * (zr - zr * zr)
                d_recs[t] = ops.concatenate([d_zr, d_candidate * r], axis=0)
                d_inputs[t] = ops.concatenate([d_zr, d_candidate], axis=0)
                d_recs_low[t] = ops.cast(d_recs[t], low)
                dh = dh * z + ops.cast(ops.matmul(recurrent_back, d_recs_low[t]), "float32")
            d_recurrent = _weight_gradient(ops.stack(d_recs_low), ops.stack([s[4] for s in saved]))
            d_bias = ops.sum(ops.stack(d_recs), axis=(0, 2))
            return ops.stack(d_inputs), ops.cast(d_recurrent, low), d_bias, dh

        outputs = (ops.stack(seq), h) if return_sequences else (h,)
        return outputs, grad

    results = loop(projected, recurrent_t, recurrent_bias, ops.transpose(h0))
    return _outputs(results[-1], results[0], results[-1:], return_sequences)


def _fusable(layer) -> bool:
    """Whether `layer` is a stock LSTM/GRU whose loop this module computes exactly."""
    cell = getattr(layer, "cell", None)
    if type(layer) not in (keras.layers.LSTM, keras.layers.GRU) or cell is None:
        return False
    exact = (cell.activation is keras.activations.tanh
             and cell.recurrent_activation is keras.activations.sigmoid
             and cell.use_bias and not cell.dropout and not cell.recurrent_dropout
             and not layer.stateful and layer.compute_dtype == "float32")
    if isinstance(layer, keras.layers.GRU):
        exact = exact and cell.reset_after
    return exact and hasattr(layer, "inner_loop")


def _fused_inner_loop(layer, matmul_dtype: str, chains: int, max_steps: int, stock_loop):
    """A replacement for `layer.inner_loop` that runs the fused loop; Keras's loop under a mask
    or for sequences longer than `max_steps` (the fused loop is unrolled: its graph grows with T).

    The batch is cut into `chains` independent parts whose loops TensorFlow runs side by side,
    one per core: each step's ops are too small to gain from being split across threads.
    """

    @functools.wraps(stock_loop)
    def inner_loop(sequences, initial_state, mask, training=False):
        steps = sequences.shape[1]
        if mask is not None or steps is None or steps > max_steps:
            return stock_loop(sequences, initial_state, mask, training=training)
        cell = layer.cell
        run = functools.partial(lstm if isinstance(layer, keras.layers.LSTM) else gru,
                                kernel=ops.convert_to_tensor(cell.kernel),
                                recurrent_kernel=ops.convert_to_tensor(cell.recurrent_kernel),
                                bias=ops.convert_to_tensor(cell.bias),
                                return_sequences=layer.return_sequences,
                                go_backwards=layer.go_backwards, matmul_dtype=matmul_dtype)
        batch = ops.shape(sequences)[0]
        cuts = [batch * k // chains for k in range(chains + 1)]
        parts = [run(sequences[a:b], *[s[a:b] for s in initial_state])
                 for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        if len(parts) == 1:
            return parts[0]
        last, outputs, states = zip(*parts, strict=True)
        return (ops.concatenate(last, axis=0), ops.concatenate(outputs, axis=0),
                [ops.concatenate(s, axis=0) for s in zip(*states, strict=True)])

    return inner_loop


def fused_layers(model: keras.Model) -> dict:
    """The recurrent layers of `model` that can run fused, each with its share of the cores.

    The two halves of a `Bidirectional` layer already run side by side, so each gets half.

    Examples:
        >>> from seqmnist_zoo import bilstm
        >>> list(fused_layers(bilstm(units=4)).values())  # the two halves, half the cores each
        [0.5, 0.5]
    """
    found = {}
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Bidirectional):
            found.update({id(half): (half, 0.5) for half in (layer.forward_layer, layer.backward_layer)
                          if _fusable(half)})
        elif _fusable(layer) and id(layer) not in found:  # the halves come after their wrapper
            found[id(layer)] = (layer, 1.0)
    return dict(found.values())


@contextlib.contextmanager
def fused_training(model: keras.Model, matmul_dtype: str = "float32", chains: int = CHAINS,
                   max_steps: int = MAX_STEPS):
    """Run `model`'s LSTM and GRU layers on the fused loops while the block runs; yields them.

    Use it around `fit` (after `compile`, before the first batch traces the step). Each layer's
    batch is cut into `chains` parts that run side by side; sequences longer than `max_steps`
    keep Keras's loop. On leaving, the layers get Keras's own loop back; nothing else about the
    model changes.

    Examples:
        >>> from seqmnist_zoo import lstm as lstm_model
        >>> model = lstm_model(units=8)
        >>> with fused_training(model):
        ...     "inner_loop" in vars(model.get_layer("lstm"))
        True
        >>> "inner_loop" in vars(model.get_layer("lstm"))
        False
    """
    if matmul_dtype not in MATMUL_DTYPES:
        raise ValueError(f"matmul_dtype must be one of {MATMUL_DTYPES}, got {matmul_dtype!r}")
    if keras.backend.backend() != "tensorflow":
        raise ValueError("the fused loops are built and tested for the TensorFlow backend, not "
                         f"{keras.backend.backend()!r}; `cpu_fast_path` unrolls the layers there instead")
    layers = fused_layers(model)
    for layer, share in layers.items():
        layer.inner_loop = _fused_inner_loop(layer, matmul_dtype, max(1, int(chains * share)),
                                             max_steps, layer.inner_loop)
    try:
        yield list(layers)
    finally:
        for layer in layers:
            del layer.inner_loop
