"""Declared studies: runs are measured as declared, recorded as they finish, resumed, and every
table in the docs is the one generated from the committed record."""

import json
import subprocess

import numpy as np
import pytest

from conftest import PYTHON, REPO
from seqmnist_zoo.errors import InvalidArgumentError
from seqmnist_zoo.studies import experiments
from seqmnist_zoo.studies.experiments import run_experiment, sequences, settings_of
from seqmnist_zoo.studies.record import example_record, load_study, planned_runs, read_record
from seqmnist_zoo.studies.report import summarize, write_report
from seqmnist_zoo.studies.runner import run_study
from tools.cards import fill_sections

STUDIES = sorted((REPO / "studies").glob("*.json"))
RECORDED = [p for p in STUDIES if (REPO / "studies" / "results" / p.name).is_file()]


def _recorded(declared, seed):
    """What run_experiment records, without training (for the runner's bookkeeping tests)."""
    return {"seed": seed, "settings": settings_of(declared), "outcome": "ok",
            "test_accuracy": 0.5, "slice_accuracies": [0.5], "checkpoint_steps": [1],
            "val_accuracy": [0.5], "train_loss": [1.0], "gradient_norms": [[0, 1.0]],
            "timestep_gradients_before": [1.0], "timestep_gradients_after": [1.0],
            "train_seconds": 1.0}


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_shipped_studies_declare_valid_runs(path):
    study = load_study(path)
    runs = planned_runs(study)
    assert len(runs) == len({(r["group"], json.dumps(r["declared"], sort_keys=True), r["seed"])
                             for r in runs}), "two runs are the same"


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_recorded_tables_are_regenerated_from_the_runs(path, tmp_path):
    study = load_study(path)
    record = read_record(study, REPO / "studies" / "results")
    assert "markdown" in record, f"run: python -m seqmnist_zoo.studies.runner {path} --report-only"
    fresh = write_report(study, json.loads(json.dumps(record)), tmp_path)
    assert fresh["markdown"] == record["markdown"], \
        f"run: python -m seqmnist_zoo.studies.runner studies/{path.name} --report-only"
    for summary in summarize(study, record):
        assert summary["n"] <= summary["planned"]


def test_every_study_is_on_a_guide_page_filled_from_its_record():
    # The site fills marked sections at build time (docs/hooks.py), so a page cannot go stale.
    pages = {p.name: p.read_text() for p in sorted((REPO / "docs").glob("*.md"))}
    for path in STUDIES:
        showing = [name for name, text in pages.items() if f"<!-- study {path.stem}." in text]
        assert showing, f"no docs page shows the {path.stem} study"
        filled = fill_sections(pages[showing[0]], REPO)
        record = read_record(load_study(path), REPO / "studies" / "results")
        for table in record.get("markdown", {}).values():
            assert table in filled


def test_a_study_resumes_after_an_interruption_and_reruns_only_what_changed(tmp_path, monkeypatch):
    calls, machine = [], {"goes_down": True}

    def fake(declared, seed, data):
        calls.append((declared["timesteps"], seed))
        if len(calls) == 2 and machine.pop("goes_down", False):
            raise RuntimeError("the machine went down")
        return _recorded(declared, seed)

    monkeypatch.setattr(experiments, "run_experiment", fake)
    path = tmp_path / "study.json"
    study = {"defaults": {"epochs": 1}, "seeds": [0, 1],
             "groups": [{"name": "g", "grid": {"timesteps": [14, 28]}}]}
    path.write_text(json.dumps(study))
    results, data = tmp_path / "results", ((None, None), (None, None))
    with pytest.raises(RuntimeError, match="went down"):
        run_study(path, results, data=data, log=lambda line: None)
    assert len(read_record(load_study(path), results)["runs"]) == 1
    run_study(path, results, data=data, log=lambda line: None)
    assert calls == [(14, 0), (28, 0), (28, 0), (14, 1), (28, 1)]
    study["groups"][0]["settings"] = {"batch_size": 64}
    path.write_text(json.dumps(study))
    calls.clear()
    run_study(path, results, data=data, log=lambda line: None)
    assert len(calls) == 4, "changed settings are new runs"
    assert len(read_record(load_study(path), results)["runs"]) == 8, "old runs are kept"


@pytest.mark.parametrize("broken,message", [
    ("{", "could not read study file"),
    ('{"groups": []}', "needs a non-empty 'groups' list"),
    ('{"groups": [{"name": "a", "settings": {"epochs": 1, "cel": "gru"}}]}', "unknown run setting 'cel'"),
    ('{"groups": [{"name": "a", "settings": {"epochs": 1, "timesteps": 5}}]}', "does not divide 784"),
    ('{"groups": [{"name": "a", "settings": {"epochs": 1, "steps": 9}}]}', "either 'epochs' or 'steps'"),
])
def test_a_bad_study_file_is_refused_before_anything_trains(tmp_path, broken, message):
    path = tmp_path / "bad.json"
    path.write_text(broken)
    with pytest.raises(InvalidArgumentError, match=message):
        load_study(path)


def test_the_runner_command_says_what_is_wrong_in_one_line(tmp_path, python_env):
    path = tmp_path / "bad.json"
    path.write_text('{"groups": [{"name": "a", "settings": {"epochs": 1, "cel": "gru"}}]}')
    result = subprocess.run([PYTHON, "-m", "seqmnist_zoo.studies.runner", str(path)], env=python_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("unknown run setting 'cel'; known: "
                                                            "batch_size, bidirectional, cell, checkpoints, "
                                                            "clipnorm, epochs, layout, learning_rate, loss, "
                                                            "optimizer, probe_every, projection, readout, "
                                                            "steps, timesteps, train_samples, units")
    assert "Traceback" not in result.stderr



def test_the_runner_says_in_one_line_when_mnist_is_missing(tmp_path, python_env):
    path = tmp_path / "tiny.json"
    path.write_text('{"groups": [{"name": "a", "settings": {"cell": "gru", "units": 4, "steps": 2}}]}')
    env = dict(python_env, SEQMNIST_ZOO_DATA=str(tmp_path / "nowhere.npz"))
    result = subprocess.run([PYTHON, "-m", "seqmnist_zoo.studies.runner", str(path)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no MNIST data at" in result.stderr.strip().splitlines()[-1]

def test_whole_row_layout_gives_each_step_one_row_and_reshape_straddles():
    rows = np.repeat(np.linspace(0, 255, 28, dtype="float32")[:, None], 28, axis=1)[None]
    straddling = sequences(rows, 16)[0]
    whole = sequences(rows, 16, "resize")[0]
    assert np.ptp(straddling, axis=1).max() > 0.01, "16 x 49 pieces cross row boundaries"
    assert np.ptp(whole, axis=1).max() < 1e-5, "each resampled step is one constant row"
    assert np.all(np.diff(whole[:, 0]) > 0), "rows keep their top-to-bottom order"


def test_a_run_measures_what_it_declares(mnist):
    record = run_experiment({"cell": "simple_rnn", "units": 16, "steps": 12, "batch_size": 32,
                             "checkpoints": 3, "probe_every": 4, "timesteps": 14}, 0, mnist)
    assert record["steps"] == 12 and record["checkpoint_steps"] == [4, 8, 12]
    assert len(record["val_accuracy"]) == 3 and len(record["slice_accuracies"]) == 10
    assert [s for s, _ in record["gradient_norms"]] == [0, 4, 8, 12]
    assert len(record["timestep_gradients_before"]) == 14
    assert record["test_accuracy"] == pytest.approx(np.mean(record["slice_accuracies"]))


def test_a_diverging_run_is_recorded_as_nan(mnist):
    record = run_experiment({"cell": "simple_rnn", "units": 16, "steps": 6, "batch_size": 32,
                             "optimizer": "sgd", "learning_rate": 1e38,
                             "checkpoints": 3}, 0, mnist)
    assert record["outcome"] == "nan"
    assert record["timestep_gradients_after"] is None


def test_groups_restrict_a_call_to_part_of_the_study(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(experiments, "run_experiment", lambda declared, seed, data:
                        ran.append(declared["timesteps"]) or _recorded(declared, seed))
    path = tmp_path / "study.json"
    path.write_text(json.dumps({"defaults": {"epochs": 1}, "groups": [
        {"name": "short", "settings": {"timesteps": 28}}, {"name": "long", "settings": {"timesteps": 784}}]}))
    data = ((None, None), (None, None))
    run_study(path, tmp_path / "r", data=data, log=lambda line: None, groups=["short"])
    assert ran == [28]
    with pytest.raises(InvalidArgumentError, match="has no group 'lng'; its groups: short, long"):
        run_study(path, tmp_path / "r", data=data, log=lambda line: None, groups=["lng"])


def test_a_gradient_line_never_mixes_two_groups_budgets(monkeypatch, tmp_path):
    from seqmnist_zoo.studies import figures as study_figures

    study, record = example_record()
    study["groups"].append({"name": "short", "grid": {"timesteps": [14]}})
    runs = record["runs"][:1]
    other = {**runs[0], "group": "short", "timestep_gradients_after": [5.0] * 7 + [1.0] * 7}
    drawn = []
    monkeypatch.setattr(study_figures, "_save", lambda figure, output: drawn.append(figure))
    study_figures.timestep_gradients(study, [other, *runs], tmp_path / "g.png")
    trained = [line for axis in drawn[0].axes for line in axis.get_lines()
               if line.get_label().endswith("trained") and "untrained" not in line.get_label()]
    assert len(trained) == 1 and np.allclose(trained[0].get_ydata(), 1.0), \
        "the trained line is the first group's (flat) profile, not a median with the other group's"
