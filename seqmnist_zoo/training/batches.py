"""What `fit` reads: batches handed to Keras without tf.data's autotuning, which stalls epoch ends.

On TensorFlow, Keras reads arrays and PyDatasets through a tf.data pipeline that prefetches with
``AUTOTUNE``. Its autotuning thread sleeps for doubling periods, and deleting an epoch's iterator
waits for that thread to wake, with the CPU idle: a fit that has finished ends only when the
thread wakes, and every epoch can end late (the README's "Batches" paragraph has the figures).
The zoo hands Keras its own pipeline instead: the same batches, a fixed prefetch, autotuning off.
Other backends read the arrays as Keras takes them.
"""

from __future__ import annotations

import itertools

import keras
import numpy as np

from ..errors import InvalidArgumentError

PREFETCH_BATCHES = 2


def fit_inputs(x, y=None, *, batch_size: int | None = None, shuffle: bool = False,
               seed: int | None = None) -> dict:
    """``fit`` keyword arguments reading images `x` with labels `y`, or a `keras.utils.PyDataset` `x`.

    On TensorFlow ``{"x": dataset, "shuffle": False}``: a tf.data pipeline without autotuning,
    reshuffled every epoch when `shuffle` (``fit``'s own shuffle is off, so Keras does not warn
    that it is ignored); a PyDataset is read in this process, its ``on_epoch_end`` run before each
    later epoch (not after the last). On other backends the arguments as given.

    Examples:
        >>> x, y = np.zeros((5, 28, 28), "uint8"), np.arange(5)
        >>> [len(labels) for _, labels in fit_inputs(x, y, batch_size=2)["x"]]
        [2, 2, 1]
        >>> fit_inputs(x, y[:3], batch_size=2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: 5 images but 3 labels: give one label per image ...
    """
    if isinstance(x, keras.utils.PyDataset):
        _check_pydataset_alone(y=y, batch_size=batch_size, shuffle=shuffle or None, seed=seed)
    else:
        _check_arrays(x, y, batch_size)
    if keras.backend.backend() != "tensorflow":
        given = dict(x=x, y=y, batch_size=batch_size, shuffle=shuffle)
        return {key: value for key, value in given.items() if value is not None}
    if isinstance(x, keras.utils.PyDataset):
        return {"x": _without_autotuning(_pydataset_pipeline(x)), "shuffle": False}
    return {"x": _without_autotuning(_array_pipeline(x, y, batch_size or 32, shuffle, seed)),
            "shuffle": False}


def validation_inputs(x, y, batch_size: int):
    """``validation_data`` for ``fit``: the arrays `x`, `y` in order, read like `fit_inputs`.

    Examples:
        >>> x, y = np.zeros((3, 28, 28), "uint8"), np.arange(3)
        >>> [labels.numpy().tolist() for _, labels in validation_inputs(x, y, batch_size=2)]
        [[0, 1], [2]]
    """
    _check_arrays(x, y, batch_size)
    if keras.backend.backend() != "tensorflow":
        return (x, y)
    return _without_autotuning(_array_pipeline(x, y, batch_size, False, None))


def _check_pydataset_alone(**given) -> None:
    named = [key if key == "y" else f"{key}={value!r}" for key, value in given.items() if value is not None]
    if named:
        raise InvalidArgumentError(
            f"a PyDataset makes its own batches, so {', '.join(named)} would be ignored: give the "
            "labels, batch size and order to the PyDataset and call fit_inputs(dataset) alone")


def _check_arrays(x, y, batch_size) -> None:
    if len(x) == 0:
        raise InvalidArgumentError("no images given: fit and validation read one image or more")
    if y is None or len(x) != len(y):
        given = "no labels" if y is None else f"{len(y):,} labels"
        raise InvalidArgumentError(f"{len(x):,} images but {given}: give one label per image "
                                   "(or a keras.utils.PyDataset of (images, labels) batches)")
    whole = isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool)
    if batch_size is not None and (not whole or batch_size < 1):
        raise InvalidArgumentError(f"batch_size={batch_size!r} is not a batch size; accepted: a whole "
                                   "number of images, 1 or more")


def _array_pipeline(x, y, batch_size: int, shuffle: bool, seed: int | None):
    import tensorflow as tf

    images, labels = tf.convert_to_tensor(np.asarray(x)), tf.convert_to_tensor(np.asarray(y))
    order = tf.data.Dataset.range(len(images))
    if shuffle:
        order = order.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return order.batch(batch_size).map(lambda picked: (tf.gather(images, picked),
                                                      tf.gather(labels, picked)))


def _pydataset_pipeline(data: keras.utils.PyDataset):
    import tensorflow as tf

    def spec(part):
        part = np.asarray(part)
        return tf.TensorSpec((None, *part.shape[1:]), tf.as_dtype(part.dtype))

    signature = tuple(spec(part) for part in data[0])
    epochs = itertools.count()

    def one_epoch():
        if next(epochs):  # before, not after, an epoch: deterministic whatever was prefetched
            data.on_epoch_end()
        data.on_epoch_begin()
        for index in range(len(data)):
            yield tuple(data[index])

    pipeline = tf.data.Dataset.from_generator(one_epoch, output_signature=signature)
    return pipeline.apply(tf.data.experimental.assert_cardinality(len(data)))


def _without_autotuning(pipeline):
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.apply_default_optimizations = False
    return pipeline.prefetch(PREFETCH_BATCHES).with_options(options)
