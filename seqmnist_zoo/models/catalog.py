"""The five built-in families: defaults, training recipes and parameter arithmetic (no keras)."""

from __future__ import annotations

from collections.abc import Sequence

from .specs import IMAGE_PIXELS, ModelSpec, Recipe, readonly

# Two untaught families that read Semeion at 95%; the one-layer ones learn from their answers (`Recipe`).
_TEACHERS = ("stacked_lstm:mnist-robust", "bilstm:mnist-robust")

# Weights per recurrent cell for input width f and u units (Keras 3 layouts; GRU uses reset_after).
_CELL_PARAMS = {
    "lstm": lambda f, u: 4 * (f * u + u * u + u),
    "gru": lambda f, u: 3 * (f * u + u * u + 2 * u),
    "simple_rnn": lambda f, u: f * u + u * u + u,
}


def _counter(cell: str, bidirectional: bool = False):
    def count_params(timesteps: int = 28, units=128, classes: int = 10, include_top: bool = True,
                     **_ignored) -> int:
        layers: Sequence[int] = units if isinstance(units, (list, tuple)) else (units,)
        width, total = IMAGE_PIXELS // timesteps, 0
        for u in layers:
            directions = 2 if bidirectional else 1
            total += directions * _CELL_PARAMS[cell](width, u)
            width = directions * u
        return total + ((width + 1) * classes if include_top else 0)

    return count_params


def builtin_specs() -> list[ModelSpec]:
    """The zoo's own families, in the order they are documented.

    Examples:
        >>> [spec.name for spec in builtin_specs()]
        ['lstm', 'gru', 'bilstm', 'stacked_lstm', 'simple_rnn']
    """
    base = dict(timesteps=28, classes=10)
    return [
        ModelSpec(
            name="lstm",
            builder="seqmnist_zoo.models:lstm",
            family="lstm",
            description="One LSTM layer reading the image row by row; its last state is classified.",
            defaults=readonly({**base, "units": 128}),
            recipe=Recipe(learning_rate=2e-3, epochs=30, shift_pixels=2, dropout=0.2),
            robust_recipe=readonly({"open_fours": True, "long_upstrokes": True, "g_nines": True,
                                   "teachers": _TEACHERS, "ema_momentum": 0.999}),
            count_params=_counter("lstm"),
        ),
        ModelSpec(
            name="gru",
            builder="seqmnist_zoo.models:gru",
            family="gru",
            description="One GRU layer (reset_after, cuDNN-compatible) reading the image row by row.",
            defaults=readonly({**base, "units": 128}),
            recipe=Recipe(learning_rate=2e-3, epochs=30, shift_pixels=2, dropout=0.2),
            robust_recipe=readonly({"open_fours": True, "long_upstrokes": True, "g_nines": True,
                                   "teachers": _TEACHERS}),
            count_params=_counter("gru"),
        ),
        ModelSpec(
            name="bilstm",
            builder="seqmnist_zoo.models:bilstm",
            family="bilstm",
            description="A bidirectional LSTM: rows read top-down and bottom-up, states concatenated.",
            defaults=readonly({**base, "units": 192}),
            recipe=Recipe(learning_rate=2e-3, epochs=40, shift_pixels=2, dropout=0.3),
            robust_recipe=readonly({"open_fours": True, "long_upstrokes": True, "g_nines": True}),
            count_params=_counter("lstm", bidirectional=True),
        ),
        ModelSpec(
            name="stacked_lstm",
            builder="seqmnist_zoo.models:stacked_lstm",
            family="stacked_lstm",
            description="Two LSTM layers; the first passes its whole sequence to the second.",
            defaults=readonly({**base, "units": (128, 128)}),
            recipe=Recipe(learning_rate=2e-3, epochs=30, shift_pixels=2, dropout=0.3),
            robust_recipe=readonly({"open_fours": True, "long_upstrokes": True, "g_nines": True}),
            count_params=_counter("lstm"),
        ),
        ModelSpec(
            name="simple_rnn",
            builder="seqmnist_zoo.models:simple_rnn",
            family="simple_rnn",
            description="A plain SimpleRNN (no gates); its recipe clips the gradient norm as a guard.",
            notes=(
                "The clipping is a guard, not what makes this model train: at 28 timesteps the "
                "plain-RNN study (docs: Why a plain RNN needs help; the repository's "
                "`studies/plain_rnn.json`) trained it as well without clipping as with it, with "
                "every seed. What stops a plain RNN is a high learning rate over long sequences, "
                "where its units saturate and it stays at chance with or without clipping."
            ),
            defaults=readonly({**base, "units": 128}),
            recipe=Recipe(learning_rate=1e-3, clipnorm=1.0, epochs=30, shift_pixels=2, dropout=0.1),
            # still improving at the shared 20 epochs; 40 read all three sets better
            robust_recipe=readonly({"long_upstrokes": True, "g_nines": True, "epochs": 40,
                                   "teachers": _TEACHERS}),
            count_params=_counter("simple_rnn"),
        ),
    ]
