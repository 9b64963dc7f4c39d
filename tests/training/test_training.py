"""train / evaluate / predict end to end on small subsets, interrupts, and bad inputs."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import seqmnist_zoo
from seqmnist_zoo import InvalidArgumentError, Recipe, train
from seqmnist_zoo.training.fit import ShiftedImages, split_validation

SHIPPED = Path(seqmnist_zoo.__file__).parent / "models" / "weights"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_npz):
    """One quick CLI training run shared by the tests below."""
    from seqmnist_zoo.apps.cli import main

    folder = tmp_path_factory.mktemp("run")
    output, logdir = folder / "g.weights.h5", folder / "logs"
    try:
        main(["train", "gru", "--epochs", "2", "--train-samples", "600", "--units", "16",
              "--timesteps", "14", "--output", str(output), "--logdir", str(logdir),
              "--data", str(mnist_npz)])
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    return output, logdir


def test_train_writes_best_checkpoint_record_and_logs(trained):
    output, logdir = trained
    assert output.is_file()
    record = json.loads(output.with_name("g.json").read_text())
    assert record["config"] == {"timesteps": 14, "classes": 10, "units": 16}
    assert record["train_samples"] == 600 and record["validation_samples"] == 120
    assert record["epochs_run"] == 2 and record["best_epoch"] in (1, 2)
    assert record["recipe"]["epochs"] == 2 and not record["interrupted"]
    assert list((logdir / "train").glob("events.out.tfevents.*"))
    assert list((logdir / "validation").glob("events.out.tfevents.*"))


def test_evaluate_accepts_the_trained_file(trained, run_cli):
    code, out, err = run_cli("evaluate", "gru", "--weights", trained[0], "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["samples"] == 10000 and 0.1 < result["accuracy"] <= 1
    assert np.array(result["confusion_matrix"]).sum() == 10000


def test_predict_accepts_the_trained_file(trained, run_cli, mnist, tmp_path):
    np.save(tmp_path / "two.npy", mnist[1][0][:2])
    code, out, err = run_cli("predict", "gru", tmp_path / "two.npy", "--weights", trained[0])
    assert code == 0, err
    assert out.count("two.npy[") == 2


def test_evaluate_pretrained_text_report(run_cli):
    code, out, _ = run_cli("evaluate", "simple_rnn")
    assert code == 0
    assert "on 10000 test images: accuracy" in out and "confusion matrix" in out
    rows = out.split("predicted):\n")[1].strip().splitlines()[1:]
    counts = np.array([[int(n) for n in row.split()[1:]] for row in rows])
    assert counts.shape == (10, 10) and counts.sum() == 10000


def test_predict_pictures_of_any_size_and_polarity(run_cli, mnist, tmp_path):
    (_, _), (x_test, y_test) = mnist
    paths = []
    for i in range(3):  # dark ink on white paper, 3x larger: inverted and resized automatically
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(255 - x_test[i]).resize((84, 84)).save(path)
        paths.append(path)
    code, out, err = run_cli("predict", "simple_rnn", *paths, "--top-k", "3", "--json")
    assert code == 0, err
    results = json.loads(out)
    assert [r["top"][0]["digit"] for r in results] == y_test[:3].tolist()
    assert all(len(r["top"]) == 3 for r in results)
    code, out, _ = run_cli("predict", "simple_rnn", paths[0], "--no-invert")
    assert code == 0 and out.startswith(f"{paths[0]}: ")


def test_predict_reports_bad_files_and_still_predicts_the_rest(run_cli, mnist, tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, mnist[1][0][0])
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((28, 28), np.nan))
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 2, 2, 2)))
    code, out, err = run_cli("predict", "simple_rnn", good, nan, text, cube, tmp_path / "gone.png")
    assert code == 1
    assert out.startswith(f"{good}: {mnist[1][1][0]} (")
    lines = err.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("seqmnist-zoo: error: ") for line in lines)
    assert "NaN" in lines[0] and "not a readable image" in lines[1]
    assert "expected pixels shaped (height, width), (n, height, width)" in lines[2]
    assert "no such file" in lines[3]
    assert "Traceback" not in err


@pytest.mark.parametrize("args,message", [
    (["train", "gru", "--timesteps", "27", "--train-samples", "50"], "valid values"),
    (["train", "nope"], "unknown model 'nope'"),
    (["train", "gru", "--output", "x.h5", "--train-samples", "50"], "must end in '.weights.h5'"),
    (["train", "gru", "--data", "/nonexistent/mnist.npz"], "no MNIST data at /nonexistent"),
    (["train", "gru", "--train-samples", "100000"], "accepted: at most 55000"),
    (["evaluate", "gru", "--weights", "missing.weights.h5"], "does not exist"),
    (["evaluate", "gru", "--weights", "imagenet"], "accepted: one of those tags or a .weights.h5 file"),
    (["evaluate", "gru", "--weights", str(SHIPPED / "lstm_mnist.weights.h5")],  # another family's
     "was it trained as gru? If so, no lstm_mnist.json is beside it to give its shape"),
    (["evaluate", "lstm", "--timesteps", "14"], "trained with timesteps=28"),
    (["predict", "nope", "x.png"], "unknown model"),
    (["predict", "gru"], "Missing argument"),
])
def test_bad_command_inputs_are_one_line(run_cli, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(*args)
    assert code in (1, 2) and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    if "--weights" in args:  # a weights file or tag that is not there: a mistake in what was asked
        assert code == 2
    assert not list(tmp_path.glob("runs/*/version_*"))  # a refused run leaves no empty run folder


class _InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.model and len(self.model.history.history.get("loss", [])) >= self.epoch:
            raise KeyboardInterrupt


def test_interrupt_keeps_the_best_checkpoint(mnist, tmp_path):
    output = tmp_path / "i.weights.h5"
    result = train("lstm", epochs=5, units=8, train_samples=300, output=output, data=mnist,
                   verbose=0, callbacks=[_InterruptAt(2)])
    assert result.interrupted and result.record["epochs_run"] == 2
    assert output.is_file() and result.record["best_epoch"] in (1, 2)
    assert not list(tmp_path.glob("*.partial.*"))
    assert json.loads(output.with_name("i.json").read_text())["interrupted"] is True


def test_an_ema_recipe_validates_and_saves_the_weights_average(mnist, tmp_path, monkeypatch):
    from dataclasses import replace

    from seqmnist_zoo import get_model
    from seqmnist_zoo.models.specs import ModelSpec

    recipe_for = ModelSpec.recipe_for
    monkeypatch.setattr(ModelSpec, "recipe_for",  # an average that barely leaves the first step
                        lambda self, tag="mnist": replace(recipe_for(self, tag), ema_momentum=0.99999))
    seen = {}

    class Watch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):  # the raw weights are in the model here
            seen.setdefault("first", self.model.get_weights())
            seen["last"] = self.model.get_weights()

    output = tmp_path / "e.weights.h5"
    result = train("gru", epochs=4, units=8, train_samples=600, output=output, data=mnist,
                   verbose=0, callbacks=[Watch()])
    saved = get_model("gru", units=8, weights=str(output)).get_weights()

    def distance(a, b):
        return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))

    raw_moved, saved_moved = distance(seen["last"], seen["first"]), distance(saved, seen["first"])
    assert saved_moved < raw_moved / 5, (saved_moved, raw_moved)
    assert result.record["recipe"]["ema_momentum"] == 0.99999
    with pytest.raises(InvalidArgumentError, match="ema_momentum must be strictly between 0 and 1"):
        Recipe(ema_momentum=1.0)


@pytest.mark.parametrize("field, value, said", [
    ("ema_momentum", "0.9", "ema_momentum must be a number or None, got '0.9'"),
    ("learning_rate", "0.01", "learning_rate must be a number, got '0.01'"),
    ("temperature", True, "temperature must be a number, got True"),
    ("epochs", 2.5, "epochs must be an integer, got 2.5")])
def test_a_recipe_field_of_the_wrong_kind_is_named(field, value, said):
    with pytest.raises(InvalidArgumentError) as caught:
        Recipe(**{field: value})
    assert str(caught.value) == said


def test_interrupted_cli_run_exits_130_and_says_so(monkeypatch, run_cli, tmp_path):
    from seqmnist_zoo.training import fit as training

    def fake_train(name, **kwargs):
        return training.TrainResult(output=tmp_path / "x.weights.h5", interrupted=True,
                                    record={"best_epoch": 3, "val_accuracy": 0.9})

    monkeypatch.setattr(training, "train", fake_train)
    code, out, err = run_cli("train", "gru")
    assert code == 130 and "best epoch 3" in out and "interrupted" in err


def test_same_seed_same_split():
    x, y = np.zeros((200, 28, 28), "uint8"), np.arange(200) % 10
    x[:, 0, 0] = np.arange(200)  # an id per image
    first = split_validation(x, y, Recipe(validation_size=40, seed=3))
    second = split_validation(x, y, Recipe(validation_size=40, seed=3))
    np.testing.assert_array_equal(first[1][0], second[1][0])
    fit_ids, val_ids = set(first[0][0][:, 0, 0]), set(first[1][0][:, 0, 0])
    assert not fit_ids & val_ids


def test_shifted_images_stay_digits():
    x = np.zeros((8, 28, 28), "uint8")
    x[:, 10:18, 10:18] = 200
    data = ShiftedImages(x, np.arange(8), batch_size=8, max_shift=2, seed=0)
    images, labels = data[0]
    assert images.shape == (8, 28, 28) and sorted(labels.tolist()) == list(range(8))
    assert (images.sum(axis=(1, 2)) == x[0].sum()).all()  # shifted, never cropped
    assert len({images[i].tobytes() for i in range(8)}) > 1


def test_each_epoch_reads_the_digits_and_the_next_of_their_rewrites():
    x = np.zeros((4, 28, 28), "uint8")
    rewrites = [np.full((4, 28, 28), value, "uint8") for value in (1, 2, 3)]
    data = ShiftedImages(x, np.arange(4), batch_size=8, max_shift=0, seed=0, rewrites=rewrites)
    seen = []
    for _ in range(4):
        images, labels = data[0]
        assert images.shape == (8, 28, 28) and sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2, 3, 3]
        seen.append(sorted(set(images.reshape(8, -1)[:, 0].tolist())))
        data.on_epoch_end()
    assert seen == [[0, 1], [0, 2], [0, 3], [0, 1]]


def test_a_bad_cpu_matmul_setting_is_one_line_and_makes_no_run_folder(run_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEQMNIST_ZOO_CPU_MATMUL", "int8")
    code, _, err = run_cli("train", "gru", "--epochs", "1", "--train-samples", "100")
    assert code == 2
    assert err.strip() == ("seqmnist-zoo: error: SEQMNIST_ZOO_CPU_MATMUL='int8' is not one of "
                           "float32, bfloat16")
    assert not (tmp_path / "runs").exists()


def test_bad_training_arguments():
    with pytest.raises(InvalidArgumentError, match="epochs must be a positive integer"):
        train("gru", epochs=0)
    with pytest.raises(InvalidArgumentError, match="train_samples must be an integer >= 10"):
        train("gru", train_samples=3)
    with pytest.raises(InvalidArgumentError, match="its 'mnist' weights, trained with timesteps=28"):
        train("simple_rnn", tag="mnist-robust", timesteps=14, output="never.weights.h5")
    assert not Path("never.weights.h5").exists()


@pytest.mark.parametrize("name", ["lstm", "gru", "bilstm", "stacked_lstm", "simple_rnn"])
def test_cpu_unrolled_path_gives_the_same_outputs_and_keeps_the_config(name, mnist):
    from seqmnist_zoo import get_model
    from seqmnist_zoo.training.cpu_path import cpu_unrolled

    model = get_model(name, units=(8, 8) if name == "stacked_lstm" else 8)
    digits = mnist[1][0][:16]
    symbolic = model.predict(digits, verbose=0)
    recurrent = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.RNN)]
    with cpu_unrolled(model, enabled=True):
        assert all(layer.unroll for layer in recurrent)
        unrolled = keras.Model(model.input, model.output).predict(digits, verbose=0)
    np.testing.assert_allclose(symbolic, unrolled, rtol=1e-5, atol=1e-6)
    assert not any(layer.unroll for layer in recurrent)
    assert all(not layer.get_config()["unroll"] for layer in recurrent)


def test_pixel_by_pixel_models_are_never_unrolled():
    from seqmnist_zoo import get_model
    from seqmnist_zoo.training.cpu_path import cpu_unrolled

    model = get_model("gru", units=4, timesteps=784)
    with cpu_unrolled(model, enabled=True):
        assert model.get_layer("gru").unroll is False  # 784 steps would explode the graph


def test_publish_measures_copies_and_records(trained, tmp_path, mnist):
    from seqmnist_zoo.models.pretrained import sha256_of
    from tools.publish import WEIGHTS_DIR, publish

    (tmp_path / "manifest.json").write_text((WEIGHTS_DIR / "manifest.json").read_text())
    record = publish("gru", trained[0], tag="mine", data=mnist[1], weights_dir=tmp_path)
    shipped = tmp_path / "gru_mine.weights.h5"
    assert record["sha256"] == sha256_of(shipped)
    assert record["config"] == {"timesteps": 14, "classes": 10, "units": 16}
    assert record["metrics"]["samples"] == 10000 and 0 < record["metrics"]["accuracy"] <= 1
    assert shipped.stat().st_size < trained[0].stat().st_size  # no optimizer state shipped
    manifest = json.loads((tmp_path / "manifest.json").read_text())["weights"]
    assert [r["tag"] for r in manifest if r["model"] == "gru"] == ["mine", "mnist", "mnist-robust"]
