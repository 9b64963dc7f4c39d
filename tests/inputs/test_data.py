"""load_mnist against the real files: npz, IDX (gzipped and not), cache, download, bad files."""

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from seqmnist_zoo import DatasetError, load_mnist
from seqmnist_zoo.inputs import data as data_module
from seqmnist_zoo.inputs.data import read_idx

# From ../shared/datasets/README.md: sha256 of each array's bytes, and the class counts.
ARRAY_SHA256 = {
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
}
TRAIN_CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def _digest(array):
    return hashlib.sha256(array.tobytes()).hexdigest()


def test_npz_is_real_mnist(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    assert _digest(x_test) == ARRAY_SHA256["x_test"]
    assert _digest(y_train) == ARRAY_SHA256["y_train"]
    assert np.bincount(y_train).tolist() == TRAIN_CLASS_COUNTS
    assert round(float(x_train.mean()), 3) == 33.318


def test_gzipped_idx_folder_equals_npz(mnist, mnist_idx_dir):
    from_idx = load_mnist(mnist_idx_dir)
    for npz_split, idx_split in zip(mnist, from_idx, strict=True):
        for a, b in zip(npz_split, idx_split, strict=True):
            np.testing.assert_array_equal(a, b)


def test_plain_idx_files_and_env_var(mnist, mnist_idx_dir, tmp_path, monkeypatch):
    for gz in mnist_idx_dir.glob("*.gz"):
        with gzip.open(gz) as src, open(tmp_path / gz.stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(tmp_path))
    (_, _), (x_test, y_test) = load_mnist()
    np.testing.assert_array_equal(x_test, mnist[1][0])
    np.testing.assert_array_equal(y_test, mnist[1][1])


def test_folder_with_mnist_npz(mnist_npz, tmp_path):
    shutil.copy(mnist_npz, tmp_path / "mnist.npz")
    assert load_mnist(tmp_path)[1][0].shape == (10000, 28, 28)


def test_keras_cache_is_used_before_downloading(mnist_npz, tmp_path, monkeypatch):
    monkeypatch.delenv("SEQMNIST_ZOO_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    shutil.copy(mnist_npz, tmp_path / "datasets" / "mnist.npz")
    monkeypatch.setattr(data_module, "ORIGIN", "http://127.0.0.1:9/unreachable")
    assert load_mnist()[0][0].shape == (60000, 28, 28)


def test_download_fills_the_cache(mnist_npz, tmp_path, monkeypatch):
    """The real download path (keras.utils.get_file with hash check), from a file:// origin."""
    monkeypatch.delenv("SEQMNIST_ZOO_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data_module, "ORIGIN", mnist_npz.resolve().as_uri())
    monkeypatch.setattr(data_module, "ORIGIN_SHA256",
                        hashlib.sha256(mnist_npz.read_bytes()).hexdigest())
    (_, y_train), _ = load_mnist()
    assert np.bincount(y_train).tolist() == TRAIN_CLASS_COUNTS
    assert (tmp_path / "keras" / "datasets" / "mnist.npz").is_file()


def test_failed_download_names_the_cache_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQMNIST_ZOO_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data_module, "ORIGIN", (tmp_path / "absent.npz").as_uri())
    with pytest.raises(DatasetError, match="downloading it from .* failed.*SEQMNIST_ZOO_DATA"):
        load_mnist()


def test_hash_mismatch_on_download_is_refused(mnist_npz, tmp_path, monkeypatch):
    monkeypatch.delenv("SEQMNIST_ZOO_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data_module, "ORIGIN", mnist_npz.resolve().as_uri())
    monkeypatch.setattr(data_module, "ORIGIN_SHA256", "0" * 64)
    with pytest.raises(DatasetError, match="failed"):
        load_mnist()


def _npz(path, **overrides):
    arrays = {"x_train": np.zeros((6, 28, 28), "uint8"), "y_train": np.zeros(6, "uint8"),
              "x_test": np.zeros((4, 28, 28), "uint8"), "y_test": np.zeros(4, "uint8")}
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("overrides,message", [
    ({"x_test": np.zeros((4, 28, 27), "uint8")}, r"x_test has shape \(4, 28, 27\)"),
    ({"y_train": np.zeros(5, "uint8")}, r"y_train has shape \(5,\), expected \(6,\)"),
    ({"x_train": np.zeros((6, 28, 28), "float32")}, "expected uint8"),
    ({"y_test": np.full(4, 10, "uint8")}, "label 10, expected 0..9"),
    ({"y_test": None}, "lacks y_test"),
])
def test_malformed_npz_is_one_clear_error(tmp_path, overrides, message):
    path = _npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(DatasetError, match=message):
        load_mnist(path)


def test_missing_and_corrupt_files_name_the_path(tmp_path):
    with pytest.raises(DatasetError, match=f"no MNIST data at {tmp_path / 'nope.npz'}.*SEQMNIST"):
        load_mnist(tmp_path / "nope.npz")
    garbage = tmp_path / "mnist.npz"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(DatasetError, match="could not read .*mnist.npz as an .npz file"):
        load_mnist(garbage)
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(DatasetError, match="holds neither mnist.npz nor train-images"):
        load_mnist(empty_dir)


def test_env_var_pointing_nowhere_does_not_fall_back(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="does not exist"):
        load_mnist()


def test_idx_reader_rejects_bad_magic_and_truncation(mnist_idx_dir, tmp_path):
    labels = read_idx(mnist_idx_dir / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,) and labels[:3].tolist() == [7, 2, 1]
    raw = gzip.decompress((mnist_idx_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "short").write_bytes(raw[:-10])
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(DatasetError, match="bad magic"):
        read_idx(tmp_path / "magic")
    (tmp_path / "bad.gz").write_bytes(b"not gzip")
    with pytest.raises(DatasetError, match="could not read IDX"):
        read_idx(tmp_path / "bad.gz")


def test_a_picture_given_as_the_dataset_is_called_what_it_is_not(tmp_path):
    from PIL import Image

    picture = tmp_path / "x.png"
    Image.new("L", (28, 28)).save(picture)
    with pytest.raises(DatasetError) as caught:
        load_mnist(picture)
    message = str(caught.value)
    assert "not a NumPy .npz archive" in message and "pickle" not in message
