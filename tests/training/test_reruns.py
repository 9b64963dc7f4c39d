"""What a user runs twice, or gets wrong, must not lie, crash or lose work (one test per trap)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from conftest import PYTHON, TINY
from seqmnist_zoo import InvalidArgumentError
from seqmnist_zoo.training.cpu_path import cpu_steps_per_execution
from seqmnist_zoo.training.fit import budget_warning, train
from seqmnist_zoo.tuning.search import tune


def _tune(tmp_path, mnist, **overrides):
    settings = dict(max_trials=1, epochs=1, train_samples=100, space=TINY, directory=tmp_path / "t",
                    verbose=0, data=mnist)
    return tune("gru", **{**settings, **overrides})


def test_tune_rerun_with_other_settings_is_refused_not_misreported(tmp_path, mnist):
    _tune(tmp_path, mnist)
    with pytest.raises(InvalidArgumentError) as caught:
        _tune(tmp_path, mnist, epochs=2, train_samples=200)
    message = str(caught.value)
    assert "epochs 1 -> 2" in message and "train_samples 100 -> 200" in message
    assert "--overwrite" in message and "--project-name" in message and "\n" not in message
    grown = _tune(tmp_path, mnist, max_trials=2)  # more trials extends the same search
    assert len(grown.trials) == 2
    fresh = _tune(tmp_path, mnist, epochs=2, overwrite=True)
    assert len(fresh.trials) == 1
    assert json.loads(fresh.summary.read_text())["fit_samples"] == 100


def test_cli_tune_rerun_difference_is_one_line(tmp_path, tiny_space, run_cli, mnist_npz, monkeypatch):
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    base = ["tune", "gru", "--space", tiny_space, "--max-trials", "1", "--epochs", "1",
            "--train-samples", "100", "--directory", tmp_path]
    assert run_cli(*base)[0] == 0
    code, out, err = run_cli(*base[:-4], "--train-samples", "300", "--directory", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "train_samples 100 -> 300" in err


@pytest.mark.parametrize("kind", ["random", "hyperband", "bayesian", "grid"])
def test_every_offered_tuner_runs_end_to_end(kind, tmp_path, tiny_space, mnist_npz, monkeypatch):
    command = [PYTHON, "-m", "seqmnist_zoo", "tune", "gru", "--tuner", kind, "--space", str(tiny_space),
               "--max-trials", "2", "--epochs", "2", "--train-samples", "100",
               "--directory", str(tmp_path)]
    threads = "default" if kind == "grid" else ""  # the zoo's layout unless the user keeps TF's
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600,
                            env={**__import__("os").environ, "SEQMNIST_ZOO_DATA": str(mnist_npz),
                                 "SEQMNIST_ZOO_THREADS": threads})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "best hyperparameters" in result.stdout
    summary = json.loads(Path(tmp_path, re.search(r"^all trials: (.+)$", result.stdout, re.M)[1]).read_text())
    assert summary["environment"]["tf_intra_op_threads"] == ("0" if threads else "1")
    # one numbering: the table's "#N" are the trials KerasTuner announced as "Running Trial #N"
    listed = sorted(int(n) for n in re.findall(r"^#(\d+)\s", result.stdout, re.M))
    announced = {int(n) for n in re.findall(r"Running Trial #(\d+)", result.stdout)}
    assert listed == list(range(1, len(listed) + 1)) and announced == set(listed)


def test_bayesian_without_scikit_learn_says_what_to_install(run_cli, monkeypatch, tiny_space, tmp_path):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if it were not installed
    code, out, err = run_cli("tune", "gru", "--tuner", "bayesian", "--space", tiny_space,
                             "--directory", tmp_path, "--train-samples", "100", "--epochs", "1")
    assert code == 1 and "pip install 'seqmnist-zoo[bayesian]'" in err and "Traceback" not in err


def test_near_chance_results_are_called_so(tmp_path, mnist, run_cli, mnist_npz, monkeypatch):
    assert budget_warning(0.5, 30, 55000) is None
    assert "far below what these families reach" in budget_warning(0.2, 1, 2000)
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    code, out, err = run_cli("train", "gru", "--epochs", "1", "--units", "4", "--train-samples", "100",
                             "--learning-rate", "0.0001", "--output", tmp_path / "g.weights.h5")
    assert code == 0 and "(chance is 10%)" in err and "1 epoch(s) on 100 images" in err
    assert re.search(r"measured on \d+ validation images", err)  # how little the figure rests on
    result = _tune(tmp_path, mnist, space={**TINY, "learning_rate": {"type": "fixed", "value": 1e-5}})
    summary = json.loads(result.summary.read_text())
    assert summary["warning"] and "far below what these families reach" in summary["warning"]


def test_train_never_overwrites_a_run_silently(tmp_path, mnist, monkeypatch, run_cli, mnist_npz):
    monkeypatch.chdir(tmp_path)
    first = train("gru", epochs=1, units=4, train_samples=50, data=mnist, verbose=0)
    second = train("gru", epochs=1, units=4, train_samples=50, data=mnist, verbose=0)
    assert first.output.parent.name == "version_0" and second.output.parent.name == "version_1"
    assert first.output.is_file() and second.output.is_file()
    assert json.loads(first.output.with_name("gru.json").read_text())["weights"] == str(first.output)
    with pytest.raises(InvalidArgumentError, match="already exists; pass overwrite=True"):
        train("gru", epochs=1, units=4, train_samples=50, data=mnist, output=first.output, verbose=0)
    before = first.output.read_bytes()
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    code, _, err = run_cli("train", "gru", "--epochs", "1", "--units", "4", "--train-samples", "50",
                           "--output", first.output)
    assert code == 2 and "pass --overwrite" in err and "overwrite=True" not in err
    assert first.output.read_bytes() == before
    code, _, _ = run_cli("train", "gru", "--epochs", "1", "--units", "4", "--train-samples", "50",
                         "--output", first.output, "--overwrite")
    assert code == 0


class _Seen(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.clipnorm, self.batches = "unset", 0

    def on_train_begin(self, logs=None):
        self.clipnorm = self.model.optimizer.clipnorm

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def test_clipping_can_be_switched_off_and_is_recorded(tmp_path, mnist, run_cli, mnist_npz, monkeypatch):
    seen = _Seen()
    result = train("simple_rnn", epochs=1, units=4, train_samples=50, clipnorm=0, data=mnist, verbose=0,
                   output=tmp_path / "s.weights.h5", callbacks=[seen])
    assert seen.clipnorm is None and result.record["recipe"]["clipnorm"] is None
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    code, _, _ = run_cli("train", "simple_rnn", "--epochs", "1", "--units", "4", "--train-samples", "50",
                         "--clipnorm", "none", "--output", tmp_path / "n.weights.h5")
    assert code == 0
    assert json.loads((tmp_path / "n.json").read_text())["recipe"]["clipnorm"] is None
    code, _, err = run_cli("train", "simple_rnn", "--clipnorm", "-1")
    assert code == 2 and "not a positive number or 'none'" in err


def test_short_epochs_show_progress_every_few_batches(tmp_path, mnist):
    assert cpu_steps_per_execution(16) == 1 and cpu_steps_per_execution(10_000) == 16
    seen = _Seen()
    train("gru", epochs=1, units=4, train_samples=2000, data=mnist, verbose=0,
          output=tmp_path / "g.weights.h5", callbacks=[seen])
    assert seen.batches >= 10  # 16 batches: one update per batch, not one jump to 16/16


def test_cli_hides_framework_logs_unless_verbose(python_env):
    result = subprocess.run([PYTHON, "-m", "seqmnist_zoo", "evaluate", "lstm", "--json"],
                            env=python_env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and json.loads(result.stdout)["accuracy"] > 0.99
    framework = [line for line in result.stderr.splitlines()
                 if re.match(r"[IWEF]\d{4} |WARNING: All log messages|To enable the following", line)]
    assert result.stderr.strip() == "" and not framework, result.stderr[:500]


def test_weights_of_another_shape_are_one_bounded_line(tmp_path, run_cli, mnist):
    train("gru", epochs=1, units=8, train_samples=50, data=mnist, verbose=0,
          output=tmp_path / "gru.weights.h5")
    code, out, err = run_cli("evaluate", "gru", "--weights", tmp_path / "gru.weights.h5", "--timesteps", "14")
    assert code == 2 and err.count("\n") == 1 and len(err) < 420
    assert "has shape (28, 24) in the file but (56, 24) in this model" in err


def test_unexpected_errors_are_one_line_unless_verbose(run_cli, monkeypatch):
    import seqmnist_zoo.apps.cli as cli

    def broken(*args, **kwargs):
        raise RuntimeError("something broke inside")

    monkeypatch.setattr(cli, "list_models", broken)
    code, out, err = run_cli("list")
    assert code == 1 and err.count("\n") == 1 and "unexpected RuntimeError: something broke inside" in err
    with pytest.raises(RuntimeError):
        cli.main(["-v", "list"])


def test_tune_help_shows_spaces_gpu_and_tuner_needs(run_cli):
    code, out, _ = run_cli("tune", "--help")
    text = " ".join(out.split())
    assert code == 0 and "Default search space" in text and "units 32-256 step 32" in text
    assert "timesteps_study" in text and "GPU is used automatically" in text
    assert "seqmnist-zoo[bayesian]" in text


def test_shipped_spaces_load_by_name_and_unknown_ones_are_named(run_cli):
    from seqmnist_zoo.tuning.spaces import load_space

    assert load_space("timesteps_study")["models"] == ["lstm", "gru"]
    code, _, err = run_cli("tune", "gru", "--space", "nope")
    assert code == 2 and "neither a shipped space (timesteps_study" in err


def test_bench_and_bayesian_extras_are_declared():
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[2]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("torch") for dep in extras["bench"])
    assert any(dep.startswith("scikit-learn") for dep in extras["bayesian"])
    assert 'pip install -e ".[bench]"' in (root / "README.md").read_text()
