"""`get_model`: a registered family by name, built by its factory and compiled on request."""

from __future__ import annotations

from typing import Any

from .registry import get_model_spec


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
        from .compile import compile_model  # imports keras: only when asked to compile

        compile_model(model, spec.recipe)
    return model
