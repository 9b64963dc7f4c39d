"""The batches `train` hands Keras: the same digits as Keras's own pipeline, without autotuning."""

import numpy as np

from seqmnist_zoo.training.batches import fit_inputs, validation_inputs
from seqmnist_zoo.training.fit import ShiftedImages


def epochs_of(dataset, count):
    """The labels of `count` epochs read from one dataset, as Keras reads them (a new iterator each)."""
    return [np.concatenate([labels.numpy() for _, labels in dataset]) for _ in range(count)]


def test_arrays_are_read_whole_every_epoch_in_a_new_order_when_shuffled():
    x = np.arange(50 * 28 * 28, dtype="float32").reshape(50, 28, 28)
    y = np.arange(50)
    dataset = fit_inputs(x, y, batch_size=16, shuffle=True, seed=3)["x"]
    first, second = epochs_of(dataset, 2)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first.tolist() != second.tolist()
    for images, labels in dataset:  # each image stays with its label
        np.testing.assert_array_equal(images.numpy(), x[labels.numpy()])
    assert [len(labels) for _, labels in dataset] == [16, 16, 16, 2]


def test_arrays_keep_their_order_unless_shuffled_and_validation_reads_them_in_order():
    x, y = np.zeros((7, 28, 28), "uint8"), np.arange(7)
    assert epochs_of(fit_inputs(x, y, batch_size=3)["x"], 1)[0].tolist() == list(range(7))
    assert epochs_of(validation_inputs(x, y, batch_size=3), 1)[0].tolist() == list(range(7))


def test_no_pipeline_autotunes():
    x, y = np.zeros((4, 28, 28), "uint8"), np.arange(4)
    pipelines = [fit_inputs(x, y, batch_size=2)["x"], validation_inputs(x, y, batch_size=2),
                 fit_inputs(ShiftedImages(x, y, batch_size=2, max_shift=1))["x"]]
    assert [pipeline.options().autotune.enabled for pipeline in pipelines] == [False] * 3


def test_a_pydataset_gives_each_epoch_what_keras_would_after_as_many_epoch_ends():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 255, (30, 28, 28)).astype("uint8"), np.arange(30)
    dataset = fit_inputs(ShiftedImages(x, y, batch_size=8, max_shift=2, seed=5))["x"]
    assert dataset.cardinality().numpy() == 4  # Keras knows an epoch's steps
    read = [[(images.numpy(), labels.numpy()) for images, labels in dataset] for _ in range(3)]
    reference = ShiftedImages(x, y, batch_size=8, max_shift=2, seed=5)
    for epoch in read:
        for index, (images, labels) in enumerate(epoch):
            expected_images, expected_labels = reference[index]
            np.testing.assert_array_equal(labels, expected_labels)
            np.testing.assert_array_equal(images, expected_images)
        reference.on_epoch_end()
    assert read[0][0][1].tolist() != read[1][0][1].tolist()  # a new order each epoch


def test_a_user_mistake_is_one_line_that_says_what_is_accepted():
    import pytest

    from seqmnist_zoo.errors import InvalidArgumentError

    x, y = np.zeros((5, 28, 28), "uint8"), np.arange(5)
    with pytest.raises(InvalidArgumentError, match="^5 images but 4 labels: give one label per image"):
        fit_inputs(x, y[:4], batch_size=2)
    with pytest.raises(InvalidArgumentError, match="^5 images but no labels"):
        fit_inputs(x, batch_size=2)
    for wrong in (0, -3, 2.5, True, "32"):
        with pytest.raises(InvalidArgumentError, match="is not a batch size; accepted: a whole number"):
            validation_inputs(x, y, batch_size=wrong)
    with pytest.raises(InvalidArgumentError,
                       match="^no images given: fit and validation read one image or more$"):
        fit_inputs(x[:0], y[:0], batch_size=2)
    assert len(list(fit_inputs(x, y, batch_size=np.int64(2))["x"])) == 3
    shifted = ShiftedImages(x, y, batch_size=2, max_shift=1)
    with pytest.raises(InvalidArgumentError,
                       match="^a PyDataset makes its own batches, so batch_size=64, shuffle=True "
                             "would be ignored"):
        fit_inputs(shifted, batch_size=64, shuffle=True)
    with pytest.raises(InvalidArgumentError, match="^a PyDataset makes its own batches, so y would be"):
        fit_inputs(shifted, y)  # the labels' values are not repeated in the message


def test_fit_reads_the_pipeline_without_keras_warning_that_shuffle_is_ignored():
    import warnings

    import keras

    x, y = np.zeros((8, 28, 28), "float32"), np.arange(8) % 2
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(**fit_inputs(x, y, batch_size=4, shuffle=True), epochs=1, verbose=0)
    assert not [w for w in caught if "shuffle" in str(w.message)]
