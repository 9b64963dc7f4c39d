"""Deployable files that answer as the zoo does: every family, every format, checked in its runtime."""

import json
import sys

import numpy as np
import pytest

from seqmnist_zoo import get_model, list_models
from seqmnist_zoo.apps.export import FORMATS, check_export, export_model, portable_recurrence
from seqmnist_zoo.errors import InvalidArgumentError


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist[1][0][:1000]


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models(pretrained=True))
@pytest.mark.parametrize("format", list(FORMATS))
def test_every_family_exports_to_every_format_with_the_same_answers(name, format, digits, tmp_path):
    model = get_model(name, weights="mnist")
    path = tmp_path / f"{name}{FORMATS[format] or '_saved_model'}"
    contract = export_model(model, path, format, check_images=digits, weights_sha256="abc")
    check = contract["check"]
    assert check["images"] == 1000 and check["same_top1"] == 1000
    assert check["max_abs_difference"] < 1e-4
    # pixels divided by 255, as tutorials feed them, read the same in the exported file too
    divided = check_export(path, format, model, digits / 255.0)
    assert divided["same_top1"] == 1000 and divided["max_abs_difference"] < 1e-4
    written = json.loads((tmp_path / f"{path.name}.json").read_text())
    assert written == json.loads(json.dumps(contract))
    assert written["input"]["shape"] == [None, 28, 28] and written["classes"] == list(range(10))
    assert "[0, 255]" in written["input"]["pixels"] and written["weights_sha256"] == "abc"
    # the model itself is left as it was: stock layers, cuDNN-eligible, not unrolled
    assert all(not layer.unroll for layer in model._flatten_layers() if hasattr(layer, "unroll"))


def test_long_sequences_export_to_litert_with_a_fixed_batch(digits, tmp_path):
    model = get_model("gru", timesteps=112, units=8)
    contract = export_model(model, tmp_path / "long.tflite", "litert", check_images=digits[:50])
    assert contract["input"]["shape"] == [1, 28, 28] and not contract["unrolled"]
    assert contract["check"]["same_top1"] == 50


def test_portable_recurrence_restores_the_layers():
    model = get_model("bilstm", units=4)
    with portable_recurrence(model):
        assert model.get_layer("bilstm").backward_layer.unroll
    assert not model.get_layer("bilstm").backward_layer.unroll
    assert model.get_layer("bilstm").backward_layer.use_cudnn == "auto"


def test_existing_outputs_and_wrong_suffixes_are_refused(tmp_path):
    model = get_model("gru", units=4)
    (tmp_path / "m.onnx").write_bytes(b"keep me")
    with pytest.raises(InvalidArgumentError, match="already exists; pass overwrite=True"):
        export_model(model, tmp_path / "m.onnx", "onnx")
    assert (tmp_path / "m.onnx").read_bytes() == b"keep me"
    with pytest.raises(InvalidArgumentError, match="must end in '.tflite'"):
        export_model(model, tmp_path / "m.onnx2", "litert")
    with pytest.raises(InvalidArgumentError, match="not one of saved_model, onnx, litert"):
        export_model(model, tmp_path / "m.bin", "coreml")


def test_cli_export_and_its_mistakes(tmp_path, run_cli, mnist_npz, monkeypatch):
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    out = tmp_path / "lstm.tflite"
    code, stdout, err = run_cli("export", "lstm", "--format", "litert", "--output", out)
    assert code == 0, err
    assert "same top-1 digit as Keras for 1,000" in stdout and out.is_file()
    code, _, err = run_cli("export", "lstm", "--format", "litert", "--output", out)
    assert code == 2 and "pass --overwrite to replace" in err and "overwrite=True" not in err
    assert err.count("\n") == 1
    code, _, err = run_cli("export", "lstm", "--format", "coreml")
    assert code == 2 and "'coreml' is not one of" in err
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    code, _, err = run_cli("export", "lstm", "--format", "onnx", "--output", tmp_path / "m.onnx")
    assert code == 1 and "pip install 'seqmnist-zoo[export]'" in err and "Traceback" not in err


def test_check_export_catches_a_different_model(digits, tmp_path):
    model = get_model("gru", units=4)
    export_model(model, tmp_path / "a.onnx", "onnx")
    other = get_model("gru", units=4)
    result = check_export(tmp_path / "a.onnx", "onnx", other, digits[:100])
    assert result["max_abs_difference"] > 1e-4 or result["same_top1"] < 100
    assert np.isfinite(result["max_abs_difference"])
