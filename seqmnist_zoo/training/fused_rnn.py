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
layers, a mixed-precision policy) keep Keras's loop. Sequences of up to `UNROLL_STEPS` steps run
the loops written out step by step; longer ones, as a symbolic loop (`keras.ops.scan`).
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
# Longer sequences run the loops symbolically: an unrolled graph grows with T and is slow to build.
UNROLL_STEPS = 64


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


def _scan(step, init, xs, *, reverse=False, unroll=False):
    """`keras.ops.scan` of `step` over the leading axis of `xs` (a tuple of sequences).

    The step returns its new carry twice, as carry and as output (the form TensorFlow's
    `ops.scan` supports). ``unroll`` writes the loop out step by step instead: a graph that grows
    with the sequence and is slower to build, but runs faster on TensorFlow's CPU. Its sequences
    are then lists of per-step tensors (`_stacked` joins one), so that nothing is copied twice.
    """
    if not unroll:
        return ops.scan(step, init, xs, reverse=reverse)
    columns = [x if isinstance(x, list) else ops.unstack(x, axis=0) for x in xs]
    steps = len(columns[0])
    carry, outputs = init, [None] * steps
    for t in (reversed(range(steps)) if reverse else range(steps)):
        carry, outputs[t] = step(carry, tuple(column[t] for column in columns))
    return carry, tuple(list(parts) for parts in zip(*outputs, strict=True))


def _stacked(sequence):
    """A `_scan` sequence as one (T, ...) tensor."""
    return ops.stack(sequence) if isinstance(sequence, list) else sequence


def _previous(first, sequence):
    """Each step's incoming state: `first`, then all but the last of `sequence` (T, ...)."""
    if isinstance(sequence, list):
        return [first, *sequence[:-1]]
    return ops.concatenate([first[None], sequence[:-1]], axis=0)


# LSTM: Keras orders the gates i, f, c, o; the loop wants the three sigmoid gates together.
_LSTM_ORDER = (0, 1, 3, 2)


def lstm(sequences, h0, c0, *, kernel, recurrent_kernel, bias, return_sequences=False,
         go_backwards=False, matmul_dtype="float32", unroll=True):
    """An LSTM layer's loop (tanh/sigmoid, bias): returns ``(last, outputs, [h, c])`` as Keras does.

    ``unroll=False`` runs it as a symbolic loop (`_scan`).

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

    @ops.custom_gradient
    def loop(projected, recurrent_t, h0, c0):
        def step(carry, xs):
            h, c = carry[:2]
            z = xs[0] + ops.cast(ops.matmul(recurrent_t, ops.cast(h, low)), "float32")
            sig, g = ops.split(z, [3 * units], axis=0)
            sig, g = ops.sigmoid(sig), ops.tanh(g)
            i, f, o = ops.split(sig, 3, axis=0)
            c = f * c + i * g
            tanh_c = ops.tanh(c)
            new = (o * tanh_c, c, sig, g, tanh_c)
            return new, new

        zeros = ops.zeros_like(c0)
        init = (h0, c0, ops.zeros_like(projected[0, :3 * units]), zeros, zeros)
        (h, c, *_), (hs, cs, sigs, gs, tanh_cs) = _scan(step, init, (projected,), unroll=unroll)

        def grad(*grads):  # one upstream gradient per output (TensorFlow's convention)
            recurrent_back = ops.transpose(recurrent_t)

            def back(carry, xs):
                dh, dc = carry[:2]
                sig, g, c_prev, tanh_c = xs[:4]
                if return_sequences:
                    dh = dh + xs[4]
                i, f, o = ops.split(sig, 3, axis=0)
                dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
                d_sig = ops.concatenate([dc * g, dc * c_prev, dh * tanh_c], axis=0) * (sig - sig * sig)
                dz = ops.concatenate([d_sig, dc * i * (1.0 - g * g)], axis=0)
                dz_low = ops.cast(dz, low)
                new = (ops.cast(ops.matmul(recurrent_back, dz_low), "float32"), dc * f, dz, dz_low)
                return new, new

            xs = (sigs, gs, _previous(c0, cs), tanh_cs) + ((grads[0],) if return_sequences else ())
            init = (*grads[-2:], ops.zeros_like(projected[0]), ops.cast(ops.zeros_like(projected[0]), low))
            (dh, dc, *_), (_, _, dzs, dzs_low) = _scan(back, init, xs, reverse=True, unroll=unroll)
            h_prev_low = ops.cast(_stacked(_previous(h0, hs)), low)
            d_recurrent = _weight_gradient(_stacked(dzs_low), h_prev_low)
            return _stacked(dzs), ops.cast(d_recurrent, low), dh, dc

        outputs = (_stacked(hs), h, c) if return_sequences else (h, c)
        return outputs, grad

    results = loop(projected, recurrent_t, ops.transpose(h0), ops.transpose(c0))
    return _outputs(results[-2], results[0], results[-2:], return_sequences)


def gru(sequences, h0, *, kernel, recurrent_kernel, bias, return_sequences=False,
        go_backwards=False, matmul_dtype="float32", unroll=True):
    """A GRU layer's loop (``reset_after=True``, tanh/sigmoid): ``(last, outputs, [h])``.

    ``unroll=False`` runs it as a symbolic loop (`_scan`).

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

    @ops.custom_gradient
    def loop(projected, recurrent_t, recurrent_bias, h0):
        bias_col = recurrent_bias[:, None]

        def step(carry, xs):
            h = carry[0]
            rec = ops.cast(ops.matmul(recurrent_t, ops.cast(h, low)), "float32") + bias_col
            x_zr, x_h = ops.split(xs[0], [2 * units], axis=0)
            rec_zr, rec_h = ops.split(rec, [2 * units], axis=0)
            zr = ops.sigmoid(x_zr + rec_zr)
            z, r = ops.split(zr, 2, axis=0)
            candidate = ops.tanh(x_h + r * rec_h)
            new = (candidate + z * (h - candidate), zr, rec_h, candidate)
            return new, new

        zeros = ops.zeros_like(h0)
        init = (h0, ops.zeros_like(projected[0, :2 * units]), zeros, zeros)
        (h, *_), (hs, zrs, rec_hs, candidates) = _scan(step, init, (projected,), unroll=unroll)

        def grad(*grads):  # one upstream gradient per output (TensorFlow's convention)
            recurrent_back = ops.transpose(recurrent_t)

            def back(carry, xs):
                dh = carry[0]
                zr, rec_h, candidate, h_prev = xs[:4]
                if return_sequences:
                    dh = dh + xs[4]
                z, r = ops.split(zr, 2, axis=0)
                d_candidate = dh * (1.0 - z) * (1.0 - candidate * candidate)
                d_zr = ops.concatenate([dh * (h_prev - candidate), d_candidate * rec_h], axis=0) \
                    * (zr - zr * zr)
                d_rec = ops.concatenate([d_zr, d_candidate * r], axis=0)
                d_rec_low = ops.cast(d_rec, low)
                new = (dh * z + ops.cast(ops.matmul(recurrent_back, d_rec_low), "float32"),
                       ops.concatenate([d_zr, d_candidate], axis=0), d_rec, d_rec_low)
                return new, new

            h_prevs = _previous(h0, hs)
            xs = (zrs, rec_hs, candidates, h_prevs) + ((grads[0],) if return_sequences else ())
            gates = ops.zeros_like(projected[0])
            init = (grads[-1], gates, gates, ops.cast(gates, low))
            (dh, *_), (_, d_inputs, d_recs, d_recs_low) = _scan(back, init, xs, reverse=True, unroll=unroll)
            d_recurrent = _weight_gradient(_stacked(d_recs_low), ops.cast(_stacked(h_prevs), low))
            d_bias = ops.sum(_stacked(d_recs), axis=(0, 2))
            return _stacked(d_inputs), ops.cast(d_recurrent, low), d_bias, dh

        outputs = (_stacked(hs), h) if return_sequences else (h,)
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


def _fused_inner_loop(layer, matmul_dtype: str, chains: int, unroll_steps: int, stock_loop):
    """A replacement for `layer.inner_loop` that runs the fused loop in training (unrolled up to
    `unroll_steps` steps) and Keras's loop for inference (cheaper to build, and the validation
    pass is small) and under a mask.

    The batch is cut into `chains` independent parts whose loops TensorFlow runs side by side,
    one per core: each step's ops are too small to gain from being split across threads.
    """

    @functools.wraps(stock_loop)
    def inner_loop(sequences, initial_state, mask, training=False):
        steps = sequences.shape[1]
        if not training or mask is not None or steps is None:
            return stock_loop(sequences, initial_state, mask, training=training)
        cell = layer.cell
        run = functools.partial(lstm if isinstance(layer, keras.layers.LSTM) else gru,
                                kernel=ops.convert_to_tensor(cell.kernel),
                                recurrent_kernel=ops.convert_to_tensor(cell.recurrent_kernel),
                                bias=ops.convert_to_tensor(cell.bias),
                                return_sequences=layer.return_sequences,
                                go_backwards=layer.go_backwards, matmul_dtype=matmul_dtype,
                                unroll=steps <= unroll_steps)
        batch = ops.shape(sequences)[0]
        cuts = [batch * k // chains for k in range(chains + 1)]
        parts = [run(sequences[a:b], *[s[a:b] for s in initial_state])
                 for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        if len(parts) == 1:
            return parts[0]
        last, outputs, states = zip(*parts, strict=True)
        return (ops.concatenate(last, axis=0), ops.concatenate(outputs, axis=0),
                [ops.concatenate(s, axis=0) for s in zip(*states, strict=True)])

    inner_loop.unroll_steps, inner_loop.chains = unroll_steps, chains
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
                   unroll_steps: int = UNROLL_STEPS):
    """Run `model`'s LSTM and GRU layers on the fused loops while the block runs; yields them.

    Use it around `fit` (after `compile`, before the first batch traces the step). Training calls
    run fused, each layer's batch cut into `chains` parts that run side by side, unrolled for
    sequences of up to `unroll_steps` steps (0: never); inference calls keep Keras's loop. On
    leaving, the layers get Keras's own loop back; nothing else about the model changes.

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
                                             unroll_steps, layer.inner_loop)
    try:
        yield list(layers)
    finally:
        for layer in layers:
            del layer.inner_loop
