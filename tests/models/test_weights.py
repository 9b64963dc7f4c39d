"""Shipped weights: present, small, hash-verified, and as accurate as their manifest record says.

Runs on the real MNIST test set, under any Keras backend (CI runs it under TensorFlow and JAX)."""

import shutil

import numpy as np
import pytest

from seqmnist_zoo import (
    InvalidArgumentError,
    WeightsIntegrityError,
    evaluate,
    get_model,
    get_model_spec,
    list_models,
    model_info,
)
from seqmnist_zoo.models.pretrained import sha256_of, verified_file
from seqmnist_zoo.models.registry import read_manifest

RECORDS = read_manifest()
TARGETS = {"lstm": 0.990, "gru": 0.990, "stacked_lstm": 0.992, "bilstm": 0.993, "simple_rnn": 0.983}
MAX_BYTES = 2 * 1024 * 1024


def test_every_family_ships_mnist_weights():
    assert sorted(r.model for r in RECORDS if r.tag == "mnist") == list_models()


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.model}-{r.tag}")
def test_record_is_complete_and_file_matches(record):
    path = record.path()
    assert path.is_file() and path.stat().st_size < MAX_BYTES
    # float32 weights plus HDF5 bookkeeping, and no optimizer state (which would triple it)
    assert path.stat().st_size < record.num_params * 4 * 1.2 + 64 * 1024
    assert sha256_of(path) == record.sha256
    assert record.metrics["samples"] == 10000
    assert record.metrics["accuracy"] >= TARGETS[record.model]
    for key in ("epochs", "batch_size", "optimizer", "learning_rate", "schedule", "clipnorm", "seed"):
        assert key in record.recipe
    assert {"keras", "backend", "tensorflow"} <= set(record.environment)
    assert record.num_params == get_model_spec(record.model).count_params(**record.config)
    # a handwriting recipe validates on the held-out digits and their rewrite
    rewritten = 2 if record.recipe.get("augment") == "handwriting" else 1
    assert record.training["val_accuracy"] > 0.9
    assert record.training["validation_samples"] == record.recipe["validation_size"] * rewritten


@pytest.mark.parametrize("record", [r for r in RECORDS if r.tag != "mnist"],
                         ids=lambda r: f"{r.model}-{r.tag}")
def test_other_tags_keep_mnist_accuracy_and_record_the_recipe_that_makes_them(record):
    spec = get_model_spec(record.model)
    assert record.metrics["accuracy"] >= spec.weights_for("mnist").metrics["accuracy"] - 0.001
    assert dict(record.recipe) == spec.recipe_for(record.tag).to_dict()  # `train --tag` remakes it


@pytest.mark.slow
@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.model}-{r.tag}")
def test_shipped_weights_score_their_recorded_accuracy(record, mnist):
    model = get_model(record.model, weights=record.tag)
    result = evaluate(model, data=mnist[1])
    assert abs(result["accuracy"] - record.metrics["accuracy"]) <= 0.0005  # 0.05 points
    assert result["loss"] == pytest.approx(record.metrics["loss"], abs=2e-3)


def test_tampered_copy_is_refused_before_keras_opens_it(tmp_path):
    record = RECORDS[0]
    copy = tmp_path / record.file
    shutil.copyfile(record.path(), copy)
    with open(copy, "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(WeightsIntegrityError) as err:
        verified_file(record, copy)
    message = str(err.value)
    assert str(copy) in message and record.sha256 in message and err.value.actual in message


def test_tampered_installed_file_fails_the_factory(monkeypatch, tmp_path):
    spec = get_model_spec("gru")
    record = spec.weights_for("mnist")
    bad = tmp_path / record.file
    bad.write_bytes(b"not the weights")
    monkeypatch.setattr(type(record), "path", lambda self: bad)
    with pytest.raises(WeightsIntegrityError, match=record.sha256):
        get_model("gru", weights="mnist")


@pytest.mark.parametrize("kwargs,message", [
    ({"timesteps": 14}, "trained with timesteps=28, so it cannot be used with timesteps=14"),
    ({"units": 64}, "trained with units=.*cannot be used with units=64"),
    ({"classes": 5}, "trained with classes=10, so it cannot be used with classes=5"),
])
def test_incompatible_config_with_pretrained_weights(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        get_model("lstm", weights="mnist", **kwargs)
    assert isinstance(InvalidArgumentError("x"), ValueError)


def test_headless_pretrained_model_keeps_the_trained_features(mnist):
    full = get_model("bilstm", weights="mnist")
    headless = get_model("bilstm", weights="mnist", include_top=False, classes=3)
    digits = mnist[1][0][:8]
    features = headless.predict(digits, verbose=0)
    head = full.get_layer("predictions")
    logits = features @ np.asarray(head.kernel) + np.asarray(head.bias)
    np.testing.assert_array_equal(logits.argmax(1), full.predict(digits, verbose=0).argmax(1))


def test_info_reports_the_manifest_record():
    info = model_info("simple_rnn")
    record = get_model_spec("simple_rnn").weights_for("mnist")
    assert info["weights"]["mnist"]["sha256"] == record.sha256
    assert info["weights"]["mnist"]["metrics"]["accuracy"] == record.metrics["accuracy"]
