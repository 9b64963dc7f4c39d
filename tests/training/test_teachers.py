"""Knowledge distillation: soft targets from teacher weights, and a run that trains on them."""

import dataclasses
import json

import numpy as np
import pytest

from seqmnist_zoo import InvalidArgumentError, ModelSpec, Recipe, get_model, get_model_spec, train
from seqmnist_zoo.models.registry import default_registry
from seqmnist_zoo.training.fit import ShiftedImages, split_validation
from seqmnist_zoo.training.teachers import load_teachers, taught_targets


@pytest.fixture(scope="module")
def teacher():
    return load_teachers(["lstm:mnist"])


def test_targets_keep_the_labels_share_and_the_teachers_ranking(teacher, mnist):
    (x, y), _ = mnist
    targets = taught_targets(teacher, x[:200], y[:200], label_weight=0.5, temperature=2.0)
    assert targets.shape == (200, 10) and targets.dtype == np.float32
    assert np.allclose(targets.sum(1), 1.0, atol=1e-5)
    assert (targets[np.arange(200), y[:200]] >= 0.5).all()
    # the teacher's share is not one-hot: the other digits get something, more at a higher temperature
    rest = targets.copy()
    rest[np.arange(200), y[:200]] = 0
    hotter = taught_targets(teacher, x[:200], y[:200], label_weight=0.5, temperature=4.0)
    hotter[np.arange(200), y[:200]] = 0
    assert 0 < rest.sum(1).mean() < hotter.sum(1).mean() <= 0.5


def test_a_label_weight_of_one_gives_the_labels_and_no_teacher_gives_them_too(teacher, mnist):
    (x, y), _ = mnist
    assert np.array_equal(taught_targets(teacher, x[:20], y[:20], label_weight=1.0), np.eye(10)[y[:20]])
    assert np.array_equal(taught_targets([], x[:20], y[:20]), np.eye(10)[y[:20]])


def test_each_pool_reads_its_own_targets_beside_its_own_digits():
    x = np.arange(4, dtype="uint8")[:, None, None] * np.ones((4, 28, 28), "uint8")
    rewrites = [x + 10, x + 20]
    # each target row names the picture it belongs to: its value, as a one-hot of 40
    targets = [np.eye(40, dtype="float32")[np.r_[0:4, 10 * p:10 * p + 4]] for p in (1, 2)]
    data = ShiftedImages(x, np.arange(4), 8, 0, seed=3, rewrites=rewrites, targets=targets)
    for pool in (1, 2, 1):
        images, rows = data[0]
        assert sorted(images[:, 0, 0].tolist()) == [0, 1, 2, 3, *range(10 * pool, 10 * pool + 4)]
        assert rows.argmax(1).tolist() == images[:, 0, 0].tolist()
        data.on_epoch_end()
    with pytest.raises(InvalidArgumentError, match="one array per pool"):
        ShiftedImages(x, np.arange(4), 8, 0, rewrites=rewrites[:1], targets=targets)


@pytest.fixture
def taught_gru(monkeypatch):
    """gru's recipe with a teacher, as a family's robust recipe would name one."""
    def with_teachers(**fields):
        spec = get_model_spec("gru")
        recipe = dataclasses.replace(spec.recipe, **fields)
        monkeypatch.setitem(default_registry()._specs, "gru", dataclasses.replace(spec, recipe=recipe))
    return with_teachers


def test_a_taught_run_trains_on_soft_targets_and_records_its_teachers(taught_gru, mnist, tmp_path):
    taught_gru(teachers=("lstm:mnist",), label_weight=0.3)
    result = train("gru", epochs=2, units=16, train_samples=400, data=mnist, verbose=0,
                   output=tmp_path / "g.weights.h5")
    record = json.loads((tmp_path / "g.json").read_text())
    assert record["recipe"]["teachers"] == ["lstm:mnist"] and record["recipe"]["label_weight"] == 0.3
    assert result.history["loss"][-1] < result.history["loss"][0]
    # the best epoch's validation accuracy is the digits read right (labels one-hot, not targets)
    recipe = get_model_spec("gru").recipe
    _, (x_val, y_val) = split_validation(*mnist[0], recipe, train_samples=400)
    model = get_model("gru", units=16, weights=result.output)
    read = model.predict(x_val, verbose=0).argmax(1)
    assert result.record["val_accuracy"] == pytest.approx((read == y_val).mean(), abs=1e-6)


@pytest.mark.parametrize("teachers, message", [
    (("lstm",), "'lstm' is not NAME:TAG"),
    (("nosuch:mnist",), "unknown model 'nosuch'"),
    (("lstm:nosuch",), "has no pretrained weights tagged 'nosuch'"),
    ("lstm:mnist", "teachers must be a list of 'NAME:TAG' strings"),
])
def test_bad_teachers_are_refused_before_any_folder_is_made(teachers, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidArgumentError, match=message):
        train("gru", epochs=1, train_samples=100, teachers=teachers)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("fields, message", [
    ({"teachers": "bilstm:mnist-robust"}, "teachers must be a list of 'NAME:TAG' strings"),
    ({"label_weight": 2.0}, "label_weight must be from 0 to 1"),
    ({"temperature": 0}, "temperature must be above 0"),
    ({"teachers": ("bilstm",)}, "teachers: 'bilstm' is not NAME:TAG"),
    ({"teachers": ("lstm:mnist,",)}, "teachers: 'lstm:mnist,' is not NAME:TAG"),
    ({"teachers": ("lstm:mnist", "lstm:mnist")}, "teachers: a teacher is named twice"),
])
def test_bad_distillation_settings_are_refused_where_they_are_written(fields, message):
    with pytest.raises(InvalidArgumentError, match=message):
        Recipe(**fields)
    with pytest.raises(InvalidArgumentError, match=f"tiny: robust_recipe: {message}"):
        ModelSpec("tiny", builder="m:f", family="gru", robust_recipe=fields)


def test_labels_that_are_not_one_digit_per_image_are_refused(teacher):
    images = np.zeros((2, 28, 28), "uint8")
    for labels in ([3], [3, 12], [[3], [4]]):
        with pytest.raises(InvalidArgumentError, match="labels must be one digit 0-9 per image"):
            taught_targets(teacher, images, labels)


def test_the_cli_says_who_teaches_and_trains_without_teachers_when_told(run_cli, tmp_path):
    base = ["train", "gru", "--epochs", "1", "--train-samples", "100", "--units", "8"]
    code, out, err = run_cli(*base, "--teachers", "lstm:mnist", "--output", tmp_path / "a.weights.h5")
    assert code == 0, err
    assert out.startswith("taught by lstm:mnist: each target is 0.5 label + 0.5 their answer")
    assert json.loads((tmp_path / "a.json").read_text())["recipe"]["teachers"] == ["lstm:mnist"]
    code, out, err = run_cli(*base, "--tag", "mnist-robust", "--teachers", "none", "--units", "128",
                             "--output", tmp_path / "b.weights.h5")
    assert code == 0, err
    assert "taught by" not in out
    assert json.loads((tmp_path / "b.json").read_text())["recipe"]["teachers"] == []
    for bad, said in (("bilstm", "'bilstm' is not NAME:TAG"), ("lstm:mnist,", "'' is not NAME:TAG"),
                      ("", "'' is not NAME:TAG"), ("lstm:mnist,lstm:mnist", "a teacher is named twice")):
        code, out, err = run_cli(*base, "--teachers", bad)
        assert code == 2 and said in err and "Traceback" not in err and not out, (bad, err)
    # the robust recipe fine-tunes the 128-unit 'mnist' weights: another width is refused in CLI words
    code, out, err = run_cli(*base, "--tag", "mnist-robust")
    assert code == 2 and not out and "Traceback" not in err, err
    assert "fine-tunes its 'mnist' weights, trained with units=128, so it cannot train units=8" in err
    # an existing output is refused before anything is said about teachers
    code, out, err = run_cli(*base, "--teachers", "lstm:mnist", "--output", tmp_path / "a.weights.h5")
    assert code == 2 and "already exists" in err and not out
