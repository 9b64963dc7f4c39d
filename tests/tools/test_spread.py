"""The seed spread: recorded retraining runs reach the manifest, list, info, README and cards."""

import json
import shutil
import statistics

import pytest

from conftest import REPO
from seqmnist_zoo import model_info
from seqmnist_zoo.models.specs import spread_text
from tools.cards import model_card
from tools.spread import (
    MANIFEST,
    RESULTS,
    read_spread,
    seed_spread,
    spread_command,
    spread_key,
    write_manifest_spread,
)


def test_manifest_spread_is_the_recorded_runs_plus_the_shipped_file(tmp_path):
    record = read_spread(REPO / RESULTS)
    copy = tmp_path / "manifest.json"
    shutil.copy(MANIFEST, copy)
    write_manifest_spread(record, copy)
    assert json.loads(copy.read_text()) == json.loads(MANIFEST.read_text()), \
        "run: python -m tools.spread --manifest-only"
    for weights in json.loads(copy.read_text())["weights"]:
        spread = weights.get("seed_spread")
        key = spread_key(weights["model"], weights["tag"])
        if key not in record:
            assert spread is None  # no run repeated this recipe
            continue
        by_seed = spread["test_accuracy_by_seed"]
        assert by_seed["0"] == weights["metrics"]["accuracy"]
        assert spread["command"] == spread_command(weights["model"], weights["tag"])
        for seed, run in record[key].items():
            assert by_seed[seed] == run["test_accuracy"]
            if "real_accuracy" in run:
                assert spread["real_lowest_by_seed"][seed] == {
                    name: min(forms.values()) for name, forms in run["real_accuracy"].items()}
        assert spread["mean"] == pytest.approx(statistics.fmean(by_seed.values()))
        assert spread["std"] == pytest.approx(statistics.stdev(by_seed.values()))


def test_a_run_with_another_recipe_is_not_counted():
    shipped = {"metrics": {"accuracy": 0.99}, "recipe": {"epochs": 30, "seed": 0}}
    other = {"1": {"test_accuracy": 0.5, "recipe": {"epochs": 3, "seed": 1}}}
    assert seed_spread(shipped, other) is None


def test_real_sets_spread_is_each_seeds_lowest_form():
    recipe = {"epochs": 20, "seed": 0}
    shipped = {"metrics": {"accuracy": 0.995}, "recipe": recipe}
    runs = {"1": {"test_accuracy": 0.994, "recipe": {**recipe, "seed": 1},
                  "real_accuracy": {"semeion": {"tight": 0.96, "4x": 0.949}}},
            "2": {"test_accuracy": 0.993, "recipe": {**recipe, "seed": 2}}}
    spread = seed_spread(shipped, runs)
    assert spread["real_lowest_by_seed"] == {"1": {"semeion": 0.949}}
    assert "real_lowest_by_seed" not in seed_spread(shipped, {"2": runs["2"]})


def test_list_info_and_card_show_the_spread(run_cli):
    spread = model_info("lstm")["weights"]["mnist"]["seed_spread"]
    text = spread_text(spread)
    assert text.endswith(f"({spread['runs']} seeds)")
    code, out, _ = run_cli("list")
    assert code == 0 and text in next(r for r in out.splitlines() if r.startswith("lstm "))
    code, out, _ = run_cli("list", "lstm", "--json")
    assert json.loads(out)[0]["seed_spread"] == spread
    code, out, _ = run_cli("info", "lstm")
    assert f"same recipe over seeds: {text}" in out
    assert "`python -m tools.spread lstm --tag mnist-robust` in a checkout" in out
    assert text in model_card("lstm")


def test_an_unknown_name_is_one_line_before_anything_trains(python_env):
    import subprocess

    from conftest import PYTHON

    result = subprocess.run([PYTHON, "-m", "tools.spread", "nope", "--seeds", "1"],
                            env=python_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "python -m tools.spread: error: unknown model 'nope'; known models: bilstm, gru, "
        "lstm, simple_rnn, stacked_lstm")


def test_missing_mnist_is_one_line_not_a_traceback(python_env, tmp_path):
    import subprocess

    from conftest import PYTHON

    env = dict(python_env, SEQMNIST_ZOO_DATA=str(tmp_path / "nowhere.npz"))
    result = subprocess.run([PYTHON, "-m", "tools.spread", "simple_rnn", "--seeds", "9",
                             "--results", str(tmp_path / "spread.json")],
                            env=env, capture_output=True, text=True, timeout=300)
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert last.startswith("python -m tools.spread: error: ") and "nowhere.npz" in last
    assert not (tmp_path / "spread.json").exists()
