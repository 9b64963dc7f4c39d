"""The shared model builder and the recurrent body of each family.

Every model reads raw MNIST-form digits ``(batch, 28, 28)``: light ink on black, pixels in
[0, 255] (uint8 or float), or in [0, 1] as tutorials feed them (``x / 255.``): an image whose
brightest pixel is at most 1 is taken in that scale (`either_scale`). It reshapes them to
``(timesteps, 784 // timesteps)`` and runs one recurrent body. Pictures of any other form (pages,
photos, drawings) go through `seqmnist_zoo.prepare_digits` or `predict_digits` first. Layers keep their
cuDNN-eligible defaults (tanh/sigmoid, ``recurrent_dropout=0``, ``unroll=False``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
from keras import layers

from ..errors import InvalidArgumentError, WeightsError, WeightsMismatchError
from .pretrained import resolve_weights
from .registry import get_model_spec
from .specs import IMAGE_PIXELS, valid_timesteps

Body = Callable[[keras.KerasTensor, Sequence[int]], keras.KerasTensor]


def _lstm_body(x, units):
    return layers.LSTM(units[0], name="lstm")(x)


def _gru_body(x, units):
    return layers.GRU(units[0], name="gru")(x)


def _bilstm_body(x, units):
    return layers.Bidirectional(layers.LSTM(units[0]), name="bilstm")(x)


def _stacked_lstm_body(x, units):
    for i, width in enumerate(units):
        last = i == len(units) - 1
        x = layers.LSTM(width, return_sequences=not last, name=f"lstm_{i + 1}")(x)
    return x


def _simple_rnn_body(x, units):
    return layers.SimpleRNN(units[0], name="simple_rnn")(x)


def either_scale(images):
    """Pixels in [0, 255] unchanged; an image whose brightest pixel is at most 1 (``x / 255.``) x 255.

    Built into every model with stock `keras.ops`, so `model.predict(x / 255.)` and every export
    read the same digits as `model.predict(x)` (an all-but-blank uint8 image is unchanged in effect).

    Examples:
        >>> images = np.zeros((2, 28, 28), "float32"); images[:, 5, 5] = [200.0, 200.0 / 255]
        >>> keras.ops.convert_to_numpy(either_scale(images))[:, 5, 5].round(3).tolist()
        [200.0, 200.0]
    """
    peak = keras.ops.max(images, axis=(1, 2), keepdims=True)
    return keras.ops.where(peak <= 1.0, images * 255.0, images)


def timesteps_of(model: keras.Model) -> int | None:
    """The timesteps a zoo-built model reads (its ``timesteps`` reshape layer); None for other models.

    Examples:
        >>> timesteps_of(build_model("lstm", _lstm_body, units=4, timesteps=14))
        14
    """
    try:
        return int(model.get_layer("timesteps").output.shape[1])
    except ValueError:
        return None


def build_model(
    family: str,
    body: Body,
    *,
    weights=None,
    timesteps: int = 28,
    units: int | Sequence[int] | None = None,
    include_top: bool = True,
    classes: int = 10,
    classifier_activation: str | None = "softmax",
    dropout: float = 0.0,
    name: str | None = None,
    multi_layer: bool = False,
) -> keras.Model:
    """Build a registered family around `body`; the factories below are thin calls of this.

    `family` is the name the model is registered under: its pretrained weights are looked up
    there. `body(x, units)` maps the ``(batch, timesteps, features)`` sequence to the feature
    vector the classifier reads. `multi_layer` families take one width per layer in `units`; the
    others take one integer. Every argument is validated before anything is built (units,
    classes, timesteps, activation, dropout, then weights).

    Examples:
        >>> model = build_model("lstm", _lstm_body, units=16, classes=3)
        >>> model.output_shape
        (None, 3)
    """
    spec = get_model_spec(family)
    units = _check_units(family, spec.defaults["units"] if units is None else units, multi_layer)
    classes = _check_positive_int("classes", classes)
    if type(timesteps) is not int or timesteps not in valid_timesteps():
        raise InvalidArgumentError(
            f"timesteps={timesteps!r} does not divide the 784 pixels of a 28x28 image; "
            f"valid values: {valid_timesteps()}"
        )
    activation = _check_activation(classifier_activation)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise InvalidArgumentError(f"dropout must be a number in [0, 1), got {dropout!r}")
    config = {"timesteps": timesteps, "units": list(units) if multi_layer else units[0]}
    if include_top:
        config["classes"] = classes
    weights_path = resolve_weights(spec, weights, config)
    if weights_path is not None and not include_top and str(weights) in spec.pretrained_tags:
        # A headless pretrained model is built with the recorded head, which is then dropped.
        classes = spec.weights_for(str(weights)).config.get("classes", classes)

    inputs = keras.Input(shape=(28, 28), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(either_scale(inputs))
    x = layers.Reshape((timesteps, IMAGE_PIXELS // timesteps), name="timesteps")(x)
    features = body(x, units)
    x = layers.Dropout(dropout, name="dropout")(features) if dropout else features
    outputs = layers.Dense(classes, activation=activation, name="predictions")(x)
    model = keras.Model(inputs, outputs, name=name or family)
    if weights_path is not None:
        shipped = str(weights) in spec.pretrained_tags  # checked by its hash: not the user's file
        failure = WeightsError if shipped else WeightsMismatchError
        try:
            model.load_weights(weights_path)
        except Exception as err:
            if not _is_hdf5(weights_path):  # asked only when a load fails: HDF5's own words mislead
                raise failure(f"{weights_path} is not a Keras weights file (not HDF5); accepted: a "
                              ".weights.h5 file written by `seqmnist-zoo train` or model.save_weights"
                              ) from err
            facts = (f"could not load {weights_path} into {family}(timesteps={timesteps}, "
                     f"units={config['units']}, classes={classes}): {_mismatch(err, weights_path)}")
            advice = ("load it into the family it was trained as, with the timesteps, units and "
                      "classes it was trained with")
            if shipped:
                raise WeightsError(f"{facts}; {advice}") from err
            raise WeightsMismatchError(facts, advice=advice) from err
    if not include_top:
        model = keras.Model(inputs, features, name=name or family)
    return model


def _is_hdf5(path) -> bool:
    import h5py

    try:
        return bool(h5py.is_hdf5(path))
    except OSError:
        return False


def _layers_with_weights(path) -> list[str]:
    """The top-level layers that hold weights in a Keras 3 ``.weights.h5`` file (none if unreadable)."""
    import h5py

    def holds_data(group) -> bool:  # visititems returns the first value that is not None
        return group.visititems(lambda _, item: True if isinstance(item, h5py.Dataset) else None) is not None

    try:
        with h5py.File(path, "r") as file:
            return sorted(name for name, group in file.get("layers", {}).items() if holds_data(group))
    except OSError:
        return []


def _mismatch(err: Exception, path=None) -> str:
    """Keras' load error in a few words: which weight, which shapes (never the tensor itself)."""
    import re

    text = str(err)
    shapes = re.findall(r"(variable|value)\.shape=(\([^)]*\))", text)
    where = re.search(r"path=([\w/]+)", text)
    if shapes:
        found = dict(shapes)
        return (f"weight {where.group(1) if where else '?'} has shape {found.get('value', '?')} in "
                f"the file but {found.get('variable', '?')} in this model")
    missing = re.search(r"Layer '([^']+)' expected (\d+) variables, but received (\d+)", text)
    if missing:  # Keras' "A total of N objects could not be loaded. Example error message for ..."
        layer, wanted, found = missing.groups()
        held = _layers_with_weights(path) if path is not None else []
        holds = f" (the file holds weights for: {', '.join(held)})" if held else ""
        return f"its layer {layer!r} needs {wanted} weights, the file has {found} for it{holds}"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines and lines[0].endswith(":") and len(lines) > 1:  # Keras' summary line, then its example
        return f"{lines[0]} {lines[1].split('. ')[0].rstrip('.')}"[:300]
    return (lines or [type(err).__name__])[0][:200]


def _check_positive_int(what: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{what} must be a positive integer, got {value!r}")
    return value


def _check_units(family: str, units, multi_layer: bool) -> tuple[int, ...]:
    if multi_layer:
        if isinstance(units, int) or not isinstance(units, Sequence) or len(units) == 0:
            raise InvalidArgumentError(
                f"{family} takes one width per layer, e.g. units=(128, 128); got {units!r}"
            )
        return tuple(_check_positive_int("each entry of units", u) for u in units)
    return (_check_positive_int("units", units),)


def _check_activation(activation):
    if activation is None:
        return None
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        raise InvalidArgumentError(
            f"classifier_activation={activation!r} is not a Keras activation; use 'softmax' "
            "for probabilities or None for logits"
        ) from None
    return activation


def lstm(weights: str | None = None, timesteps: int = 28, units: int | None = None,
         include_top: bool = True, classes: int = 10,
         classifier_activation: str | None = "softmax", dropout: float = 0.0,
         name: str | None = None) -> keras.Model:
    """A single-layer LSTM classifier of MNIST digits read as `timesteps` rows.

    The model takes MNIST-form pixels ``(n, 28, 28)`` in [0, 255], light on black, as MNIST
    ships them, or divided by 255 (an image whose brightest pixel is at most 1 is read so).
    For your own pictures use `seqmnist_zoo.predict_digits`, which puts them in that form.

    Args:
        weights: None (random), ``"mnist"`` (shipped, sha256-verified) or a ``.weights.h5`` path.
        timesteps: any divisor of 784; each step sees ``784 // timesteps`` pixels.
        units: width of the LSTM; None takes the family's default (`model_info(name)`).
        include_top: False returns the last hidden state ``(batch, units)`` instead of classes.
        classes: number of output classes.
        classifier_activation: ``"softmax"`` or None for logits.
        dropout: dropout rate before the classifier (training only).
        name: model name (default: the family name).

    Examples:
        >>> import numpy as np
        >>> model = lstm(weights="mnist")
        >>> model.predict(np.zeros((1, 28, 28), "uint8"), verbose=0).shape
        (1, 10)
    """
    return build_model("lstm", _lstm_body, **locals())


def gru(weights: str | None = None, timesteps: int = 28, units: int | None = None,
        include_top: bool = True, classes: int = 10,
        classifier_activation: str | None = "softmax", dropout: float = 0.0,
        name: str | None = None) -> keras.Model:
    """A single-layer GRU classifier; arguments as in `lstm`.

    Examples:
        >>> gru(units=32, timesteps=14).input_shape
        (None, 28, 28)
    """
    return build_model("gru", _gru_body, **locals())


def bilstm(weights: str | None = None, timesteps: int = 28, units: int | None = None,
           include_top: bool = True, classes: int = 10,
           classifier_activation: str | None = "softmax", dropout: float = 0.0,
           name: str | None = None) -> keras.Model:
    """A bidirectional LSTM classifier; `units` per direction, features are ``2 * units`` wide.

    Examples:
        >>> bilstm(units=16, include_top=False).output_shape
        (None, 32)
    """
    return build_model("bilstm", _bilstm_body, **locals())


def stacked_lstm(weights: str | None = None, timesteps: int = 28, units: Sequence[int] | None = None,
                 include_top: bool = True, classes: int = 10,
                 classifier_activation: str | None = "softmax", dropout: float = 0.0,
                 name: str | None = None) -> keras.Model:
    """Stacked LSTM layers, one width per layer in `units`; other arguments as in `lstm`.

    Examples:
        >>> len(stacked_lstm(units=(32, 16, 8)).layers)
        7
    """
    return build_model("stacked_lstm", _stacked_lstm_body, multi_layer=True, **locals())


def simple_rnn(weights: str | None = None, timesteps: int = 28, units: int | None = None,
               include_top: bool = True, classes: int = 10,
               classifier_activation: str | None = "softmax", dropout: float = 0.0,
               name: str | None = None) -> keras.Model:
    """A plain SimpleRNN classifier; train it with its recipe's gradient clipping.

    Examples:
        >>> from seqmnist_zoo import compile_model
        >>> model = compile_model(simple_rnn(units=32))
        >>> float(model.optimizer.clipnorm)
        1.0
    """
    return build_model("simple_rnn", _simple_rnn_body, **locals())
