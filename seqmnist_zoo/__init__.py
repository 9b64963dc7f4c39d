"""seqmnist-zoo: recurrent MNIST classifiers that read a digit as a sequence of rows.

Public names load lazily, so ``import seqmnist_zoo`` does not import keras or TensorFlow.

Examples:
    >>> import seqmnist_zoo
    >>> seqmnist_zoo.list_models()
    ['bilstm', 'gru', 'lstm', 'simple_rnn', 'stacked_lstm']
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("seqmnist-zoo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

# public name -> module that defines it
_PUBLIC = {
    "lstm": "models.builders",
    "gru": "models.builders",
    "bilstm": "models.builders",
    "stacked_lstm": "models.builders",
    "simple_rnn": "models.builders",
    "build_model": "models.builders",
    "list_models": "models.registry",
    "get_model": "models.factory",
    "get_model_spec": "models.registry",
    "model_info": "models.registry",
    "register_model": "models.registry",
    "ModelSpec": "models.specs",
    "WeightsSpec": "models.specs",
    "Recipe": "models.specs",
    "valid_timesteps": "models.specs",
    "load_mnist": "inputs.data",
    "prepare_digits": "inputs.preprocess",
    "prepare_each": "inputs.preprocess",
    "normalize_digit": "inputs.preprocess",
    "predict_digits": "inference.predict",
    "DigitPrediction": "inference.predict",
    "export_model": "apps.export",
    "read_along": "inference.reading",
    "compile_model": "models.compile",
    "train": "training.fit",
    "evaluate": "training.evaluation",
    "use_training_threads": "training.threads",
    "SeqMnistZooError": "errors",
    "InvalidArgumentError": "errors",
    "UnknownModelError": "errors",
    "DatasetError": "errors",
    "WeightsError": "errors",
    "WeightsIntegrityError": "errors",
    "NoDigitError": "errors",
}

# Modules that import Keras as they load; the others start it, quietly, only when a call needs it.
_IMPORT_KERAS = {"models.builders", "models.compile", "inference.reading", "apps.export",
                 "training.fit", "training.evaluation"}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'seqmnist_zoo' has no attribute {name!r}")
    module = f".{_PUBLIC[name]}"
    if _PUBLIC[name] in _IMPORT_KERAS:
        # The first name that needs Keras starts TensorFlow, whose C++ side prints its start-up
        # notices (oneDNN, CUDA probes) on stderr: kept off the user's screen, as the CLI does.
        from .quiet import start_keras_quietly

        start_keras_quietly()
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
