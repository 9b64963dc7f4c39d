"""Deployable files of a zoo model (SavedModel, ONNX, LiteRT) that answer as the zoo does.

Each export is made with Keras' own export machinery on the TensorFlow backend, from a graph
that every runtime can run: recurrences of up to 64 steps are unrolled (no TensorList ops, which
the LiteRT builtins and a dynamic batch cannot hold together), and the cuDNN kernels are switched
off (tf2onnx cannot convert ``CudnnRNNV3``, keras-team/keras#21799), also inside a Bidirectional
wrapper whose rebuilt layers would otherwise lose the setting (keras-team/keras#21533). The saved
Keras model itself is untouched. Beside each file a small JSON states its input contract, and the
check of the file in its own runtime against Keras.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..errors import InvalidArgumentError, SeqMnistZooError
from ..inference.probabilities import predict_probabilities
from ..models.builders import timesteps_of
from ..training.cpu_path import MAX_UNROLLED_STEPS, layers_set

FORMATS = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}
RUNTIMES = {"saved_model": ("tensorflow",), "onnx": ("tf2onnx", "onnx", "onnxruntime"),
            "litert": ("ai_edge_litert",)}
INPUT_PIXELS = ("MNIST form: light ink on black, float32 values in [0, 255], or in [0, 1] "
                "(an image whose brightest pixel is at most 1 is read as divided by 255)")


def default_path(name: str, format: str) -> Path:
    """Where `export` writes when no path is given: ``exports/NAME`` plus the format's suffix.

    Examples:
        >>> default_path("gru", "onnx").as_posix()
        'exports/gru.onnx'
    """
    return Path("exports") / f"{name}{FORMATS[format] or '_saved_model'}"


def export_model(model: keras.Model, path, format: str = "saved_model", *, overwrite: bool = False,
                 check_images=None, weights_sha256: str | None = None) -> dict[str, Any]:
    """Export `model` to `path` in `format` and write its contract as ``PATH.json``; returns it.

    `format` is ``"saved_model"`` (a folder with a ``serve`` signature), ``"onnx"`` or
    ``"litert"`` (a ``.tflite`` file). With `check_images` (MNIST-form digits), the file is run in
    its own runtime on them and compared with Keras; the result is part of the contract. An
    existing `path` is refused unless `overwrite`.

    Examples:
        >>> from seqmnist_zoo import gru
        >>> folder = tempfile.mkdtemp()
        >>> contract = export_model(gru(units=8), f"{folder}/gru.tflite", "litert")
        >>> contract["input"]["shape"], contract["unrolled"]
        ([None, 28, 28], True)
    """
    if format not in FORMATS:
        raise InvalidArgumentError(f"format {format!r} is not one of {', '.join(FORMATS)}")
    if keras.backend.backend() != "tensorflow":
        raise InvalidArgumentError(
            f"export needs the TensorFlow backend (KERAS_BACKEND is {keras.backend.backend()!r})")
    require_runtime(format)
    path = Path(path)
    if FORMATS[format] and path.suffix != FORMATS[format]:
        raise InvalidArgumentError(f"a {format} file must end in {FORMATS[format]!r}; got {path}")
    if path.exists() and not overwrite:
        raise InvalidArgumentError(f"{path} already exists; pass overwrite=True to replace it")
    steps = _sequence_length(model)
    batch = None if format != "litert" or steps <= MAX_UNROLLED_STEPS else 1
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    _remove(partial)
    model(np.zeros((1, 28, 28), "float32"), training=False)  # Keras' ONNX export wants a called model
    with portable_recurrence(model):
        if format == "litert":
            partial.write_bytes(_litert_bytes(model, batch))
        else:
            model.export(str(partial) + FORMATS[format], format="tf_saved_model" if format == "saved_model"
                         else format, verbose=False)
            if FORMATS[format]:
                os.replace(str(partial) + FORMATS[format], partial)
    _remove(path)
    os.replace(partial, path)
    contract = _contract(model, path, format, batch, steps, weights_sha256)
    if check_images is not None:
        contract["check"] = check_export(path, format, model, check_images)
    Path(str(path) + ".json").write_text(json.dumps(contract, indent=2) + "\n", encoding="utf-8")
    return contract


def require_runtime(format: str) -> None:
    """Raise a one-line error naming the extra to install when `format`'s packages are missing.

    Examples:
        >>> require_runtime("saved_model")
    """
    import importlib.util

    missing = [m for m in RUNTIMES[format] if importlib.util.find_spec(m) is None]
    if missing:
        raise SeqMnistZooError(
            f"export to {format} needs {', '.join(missing)}: pip install 'seqmnist-zoo[export]'")


@contextlib.contextmanager
def portable_recurrence(model: keras.Model):
    """Unroll short recurrences and switch off cuDNN in every recurrent layer while the block runs.

    Examples:
        >>> from seqmnist_zoo import bilstm
        >>> model = bilstm(units=4)
        >>> with portable_recurrence(model):
        ...     model.get_layer("bilstm").forward_layer.use_cudnn
        False
        >>> model.get_layer("bilstm").forward_layer.use_cudnn
        'auto'
    """
    short = _sequence_length(model) <= MAX_UNROLLED_STEPS
    layers = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.RNN)]
    with layers_set(layers, unroll=short, use_cudnn=False):
        yield model


def check_export(path, format: str, model: keras.Model, images) -> dict[str, Any]:
    """Run the exported file in its own runtime on `images` and compare with Keras.

    Returns the runtime's name, how many images, how many share Keras' top-1 digit, and the
    largest absolute difference of any probability.

    Examples:
        >>> check_export("exports/gru.onnx", "onnx", model, x_test[:1000])  # doctest: +SKIP
        {'runtime': 'onnxruntime 1.32.0', 'images': 1000, 'same_top1': 1000, ...}
    """
    images = np.asarray(images, dtype="float32")
    expected = predict_probabilities(model, images)
    runtime, got = _RUNNERS[format](Path(path), images)
    return {"runtime": runtime, "images": int(len(images)),
            "same_top1": int((got.argmax(1) == expected.argmax(1)).sum()),
            "max_abs_difference": float(np.abs(got - expected).max())}


def _run_saved_model(path: Path, images):
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serve"]
    outputs = serve(tf.constant(images))
    return f"tensorflow {tf.__version__}", np.asarray(next(iter(outputs.values())), dtype="float64")


def _run_onnx(path: Path, images):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return f"onnxruntime {onnxruntime.__version__}", np.asarray(
        session.run(None, {name: images})[0], dtype="float64")


def _run_litert(path: Path, images):
    from importlib.metadata import version

    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    source = interpreter.get_input_details()[0]
    fixed = int(source["shape_signature"][0]) if source["shape_signature"][0] > 0 else None
    if fixed is None:
        interpreter.resize_tensor_input(source["index"], list(images.shape))
    interpreter.allocate_tensors()
    target = interpreter.get_output_details()[0]["index"]
    outputs = []
    for start in range(0, len(images), fixed or len(images)):
        interpreter.set_tensor(source["index"], images[start:start + (fixed or len(images))])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(target).copy())
    return f"ai-edge-litert {version('ai-edge-litert')}", np.concatenate(outputs).astype("float64")


_RUNNERS = {"saved_model": _run_saved_model, "onnx": _run_onnx, "litert": _run_litert}


def _litert_bytes(model: keras.Model, batch: int | None) -> bytes:
    """LiteRT flatbuffer from a SavedModel of the model, LiteRT builtin ops only (no Flex)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as saved:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", functools.partial(model.__call__, training=False),
                             input_signature=[keras.InputSpec(shape=(batch, 28, 28), dtype="float32")])
        archive.write_out(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()


def _contract(model, path: Path, format: str, batch, steps: int, weights_sha256) -> dict[str, Any]:
    from .. import __version__
    from ..training.environment import environment

    classes = int(model.output_shape[-1])
    return {
        "model": model.name, "format": format, "file": path.name,
        "input": {"shape": [batch, 28, 28], "dtype": "float32", "pixels": INPUT_PIXELS},
        "output": {"shape": [batch, classes], "dtype": "float32",
                   "meaning": "probability of each class, in class order"},
        "classes": list(range(classes)), "timesteps": steps,
        "unrolled": steps <= MAX_UNROLLED_STEPS,
        "seqmnist_zoo": __version__, "weights_sha256": weights_sha256,
        "environment": environment(),
    }


def _sequence_length(model: keras.Model) -> int:
    steps = timesteps_of(model)
    if steps is None:
        raise InvalidArgumentError(
            f"model {model.name!r} has no 'timesteps' layer: only zoo-built models can be exported "
            "this way; use model.export() directly")
    return steps


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
