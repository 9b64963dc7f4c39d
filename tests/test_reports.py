"""Inspection: TensorBoard logs (scalars, HParams, images) a real server serves, and PNG reports."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import read_event_tags
from seqmnist_zoo import train
from seqmnist_zoo.reports import confusion_figure, figure_to_array, misclassified_figure

REPORT_IMAGES = {"confusion_matrix", "misclassified", "per_class_accuracy", "reading"}


@pytest.fixture(scope="module")
def train_logdir(tmp_path_factory, mnist):
    folder = tmp_path_factory.mktemp("tb")
    train("gru", epochs=2, units=8, train_samples=300, output=folder / "g.weights.h5",
          logdir=folder / "logs", data=mnist, verbose=0)
    return folder / "logs"


def test_train_logs_scalars_hparams_and_images(train_logdir):
    tags = read_event_tags(train_logdir)
    for scalar in ("epoch_loss", "epoch_accuracy", "epoch_learning_rate"):
        assert scalar in tags
    assert "hparams" in tags["_hparams_/session_start_info"]
    assert REPORT_IMAGES <= set(tags)
    assert all("images" in tags[name] for name in REPORT_IMAGES)


def test_evaluate_logs_test_set_images(tmp_path, run_cli):
    code, out, err = run_cli("evaluate", "simple_rnn", "--logdir", tmp_path)
    assert code == 0, err
    assert REPORT_IMAGES <= set(read_event_tags(tmp_path / "images"))


def test_tune_logs_best_model_images(tmp_path, mnist):
    from seqmnist_zoo.tuning.search import tune

    space = {"units": {"type": "fixed", "value": 8}, "timesteps": {"type": "fixed", "value": 28}}
    tune("gru", max_trials=1, epochs=1, train_samples=200, space=space, directory=tmp_path / "r",
         logdir=tmp_path / "tb", data=mnist, verbose=0)
    assert REPORT_IMAGES <= set(read_event_tags(tmp_path / "tb" / "best"))


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_a_real_tensorboard_serves_the_logs(train_logdir):
    port = _free_port()
    tensorboard = Path(sys.executable).with_name("tensorboard")
    server = subprocess.Popen([str(tensorboard), "--logdir", str(train_logdir), "--host",
                               "127.0.0.1", "--port", str(port), "--reload_interval", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                plugins = _get(f"{base}/data/plugins_listing")
                scalars = _get(f"{base}/data/plugin/scalars/tags")
                images = _get(f"{base}/data/plugin/images/tags")
                if scalars and images:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.time() < deadline, "tensorboard did not serve"
            time.sleep(1)
        for plugin in ("scalars", "images", "hparams"):
            assert plugins[plugin]["enabled"], plugin
        assert "epoch_accuracy" in scalars["validation"] and "epoch_learning_rate" in scalars["train"]
        assert REPORT_IMAGES <= set(images["images"])
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_report_writes_pngs_and_a_summary(tmp_path, run_cli):
    code, out, err = run_cli("report", "gru", "--output", tmp_path)
    assert code == 0, err
    sizes = {}
    for stem in REPORT_IMAGES:
        with Image.open(tmp_path / f"{stem}.png") as image:
            sizes[stem] = image.size
            pixels = np.asarray(image.convert("L"))
        assert pixels.std() > 10, stem  # a picture, not a blank canvas
    assert sizes["confusion_matrix"] == (640, 560) and sizes["per_class_accuracy"] == (640, 320)
    summary = (tmp_path / "summary.md").read_text()
    assert "# gru (mnist) on the MNIST test set" in summary and "![misclassified]" in summary
    assert summary.count("%") >= 11


def test_report_takes_the_shape_of_a_weights_file_without_its_record(tmp_path, run_cli):
    from seqmnist_zoo import get_model

    weights = tmp_path / "small.weights.h5"
    get_model("gru", units=8).save_weights(weights)
    code, out, err = run_cli("report", "gru", "--weights", weights, "--output", tmp_path / "a")
    assert code == 2 and "pass --timesteps and --units" in err and "Traceback" not in err
    code, out, err = run_cli("report", "gru", "--weights", weights, "--units", "8",
                             "--output", tmp_path / "b")
    assert code == 0 and (tmp_path / "b" / "summary.md").is_file(), err


def test_misclassified_grid_shows_only_mistakes():
    images = np.zeros((5, 28, 28), "uint8")
    probs = np.full((5, 10), 0.05)
    predicted = np.array([0, 1, 9, 3, 8])
    probs[np.arange(5), predicted] = 0.55
    figure = misclassified_figure(images, [0, 1, 2, 3, 4], predicted, probs)
    titles = [a.get_title() for a in figure.axes if a.get_title()]
    assert titles == ["2 -> 9 (55%)", "4 -> 8 (55%)"]
    assert "2 in all" in figure._suptitle.get_text()


def test_confusion_figure_renders_counts():
    confusion = np.eye(10, dtype=int) * 90
    confusion[3, 5] = 7
    figure = confusion_figure(confusion)
    assert {"90", "7"} <= {t.get_text() for t in figure.axes[0].texts}
    assert figure_to_array(figure).shape == (560, 640, 3)
