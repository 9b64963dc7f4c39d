"""The benchmark harness runs and reports well-formed figures (speed goals live in its output,
not in assertions here)."""

import json
import os
import statistics
import subprocess

import pytest

from conftest import PYTHON, REPO
from seqmnist_zoo.training.environment import cpu_name
from tools.cards import BENCHMARKS, benchmark_section


def test_quick_harness_run_writes_tables_and_json(tmp_path, mnist_npz, python_env):
    """One round end to end (every case's process, the record, the table); the arithmetic over
    several rounds is checked on made-up samples below."""
    output = tmp_path / "bench.json"
    env = dict(python_env, SEQMNIST_ZOO_DATA=str(mnist_npz))
    result = subprocess.run([PYTHON, str(REPO / "benchmarks" / "run.py"), "--quick", "--families",
                             "simple_rnn", "--rounds", "1", "--max-rounds", "2", "--turns", "2", "--output",
                             str(output)], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())
    row = report["training"]["simple_rnn"]
    assert row["zoo"]["images_per_s"] > 0 and row["keras"]["images_per_s"] > 0
    samples = report["samples"]
    zoo = samples["train:zoo:simple_rnn"]
    assert report["turns"] == 2 and all(len(s["turns"]) == 2 for s in zoo)
    assert all(s["images_per_s"] == statistics.median(s["turns"]) for s in zoo)
    baseline = "torch" if "torch" in row else "keras"
    first = statistics.median(a / b for a, b in zip(zoo[0]["turns"],
                                                   samples[f"train:{baseline}:simple_rnn"][0]["turns"],
                                                   strict=True))
    # a second round only where the first left zoo / PyTorch (plain Keras without torch) at 1
    assert report["rounds"] == 1 and row["rounds"] == len(zoo) == (2 if first == 1 else 1)
    if row["rounds"] == 1:
        assert row[f"zoo_faster_than_{baseline}"] == int(first > 1)
        assert row[f"zoo_vs_{baseline}"] == pytest.approx(first)
    assert row["zoo"]["peak_mib"] > 50  # a TensorFlow process, measured by wait4
    assert report["first_prediction"]["with_imports_s"] > report["first_prediction"]["from_factory_s"]
    assert set(report["cli"]) == {"python -c pass", "seqmnist-zoo --help", "seqmnist-zoo list"}
    assert report["command"].startswith("python benchmarks/run.py --quick --families simple_rnn")
    assert "smoke run" in report["markdown"] and f"`{report['command']}`" in report["markdown"]
    matmul = report["machine"]["zoo_matmul"]
    assert matmul in ("float32", "bfloat16") and f"multiplied {matmul} operands" in report["markdown"]
    assert report["markdown"] in result.stdout and "| simple_rnn |" in report["markdown"]
    assert benchmark_section("performance", output) == report["markdown"]


def test_rounds_turns_and_ratios_add_up_over_several_rounds():
    bench = _benchmark("run")

    def side(*rounds):  # each round: the side's fits, its figure the median fit
        return [{"images_per_s": statistics.median(t), "turns": list(t), "peak_mib": 100.0 + i}
                for i, t in enumerate(rounds)]

    samples = {"train:zoo:a": side((100, 120), (80, 110), (130, 150)),
               "train:keras:a": side((50, 60), (100, 100), (65, 75)),
               "train:torch:a": side((100, 100), (100, 100), (100, 120))}
    # a round's ratio is the median of its turns' ratios, not the ratio of its medians
    assert bench._ratios(samples, "train:zoo:a", "train:torch:a") == pytest.approx([1.1, 0.95, 1.275])
    assert bench._unsettled(samples, ["a"], "torch") == ["a"]
    assert bench._unsettled({k: v[::2] for k, v in samples.items()}, ["a"], "torch") == []
    results = {case: bench._median(runs) for case, runs in samples.items()}
    assert results["train:zoo:a"]["images_per_s"] == 110
    assert results["train:zoo:a"]["peak_mib_range"] == [100, 102]
    assert "turns" not in results["train:zoo:a"]
    row = bench._training_row(results, samples, "a", have_torch=True)
    assert row["rounds"] == 3 and row["zoo_faster_than_torch"] == 2
    assert row["zoo_vs_torch"] == pytest.approx(1.1)
    assert row["zoo_vs_torch_range"] == pytest.approx([0.95, 1.275])
    assert row["zoo_vs_keras_range"] == pytest.approx([0.95, 2.0])


@pytest.mark.parametrize(("argument", "says"), [
    (["--rounds", "0"], "'0' is not a whole number of at least 1"),
    (["--turns", "-1"], "'-1' is not a whole number of at least 1"),
    (["--families", "lstm,nosuch"], "unknown family 'nosuch'; known: lstm, gru"),
])
def test_a_wrong_argument_stops_the_benchmark_before_it_starts_with_one_line(argument, says):
    result = subprocess.run([PYTHON, str(REPO / "benchmarks" / "run.py"), "--quick", *argument],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr


def test_a_training_only_record_renders_its_training_table_alone():
    report = json.loads((REPO / "benchmarks" / "results_float32.json").read_text())
    assert "inference" not in report and report["machine"]["zoo_matmul"] == "float32"
    markdown = _benchmark("run").render(report)
    assert "| lstm |" in markdown and "Zoo vs PyTorch:" in markdown and "inference" not in markdown


@pytest.mark.parametrize("name", ["performance", "performance_float32"])
def test_readme_performance_sections_are_generated_from_the_results(name):
    results = REPO / BENCHMARKS[name][0]
    readme = (REPO / "README.md").read_text()
    section = readme.split(f"<!-- {name}:start -->\n", 1)[1].split(f"<!-- {name}:end -->")[0]
    assert section.strip() == benchmark_section(name, results).strip()


def test_gpu_check_runs_on_the_jax_backend(tmp_path, mnist_npz, python_env):
    """The one-call GPU check works end to end; on this CPU as a smoke run (--quick)."""
    output = tmp_path / "gpu.json"
    env = dict(python_env, SEQMNIST_ZOO_DATA=str(mnist_npz), KERAS_BACKEND="jax")
    result = subprocess.run([PYTHON, str(REPO / "benchmarks" / "gpu.py"), "--quick", "--output", str(output)],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["backend"] == "jax" and report["device"].startswith(("cpu", "gpu", "cuda"))
    assert report["training"]["lstm"]["images_per_s"] > 0 and report["inference"]["lstm"]["images_per_s"] > 0
    assert report["tune"]["trials"] == 3 and report["tune"]["seconds_per_trial"] > 0
    assert (REPO / "benchmarks" / "gpu.sh").is_file()


def _benchmark(name):
    """A script of benchmarks/ loaded as a module (they are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_verdict_needs_the_whole_range_on_one_side_of_one():
    bench = _benchmark("run")
    training = {"a": {"zoo_vs_torch_range": [1.1, 1.3]}, "b": {"zoo_vs_torch_range": [0.5, 0.9]},
                "c": {"zoo_vs_torch_range": [0.9, 1.2]}}
    assert bench._verdicts(training) == [
        "Zoo vs PyTorch: faster than PyTorch in every round: a; slower than PyTorch in every round: "
        "b; within the noise (the ratio's range spans 1): c."]


def test_a_training_option_case_runs_and_reports_its_speed(mnist_npz, monkeypatch):
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    module = _benchmark("training_options")
    module.STEPS = 2  # a smoke run: the case's setup, not its figure, is what is checked
    result = module.child("gru", "one_chain", fits=2)
    assert result["images_per_s"] == statistics.median(result["fits"]) > 0 and len(result["fits"]) == 2
    assert result["backend"] == "tensorflow"


def test_a_half_speed_process_is_slow_in_every_fit_not_in_one():
    options = _benchmark("training_options")
    steady, one_bad_fit, half_speed = [100.0, 104.0, 98.0], [101.0, 40.0, 99.0], [52.0, 49.0, 55.0]
    assert options.half_speed_processes([steady, steady, one_bad_fit, half_speed]) == 1
    table = options.processes_table({"gru": {"plain": [steady, one_bad_fit, half_speed]}}, 3)
    assert "--rounds 3 --fits 3 --options plain`" in table
    assert table.splitlines()[-1].endswith("| 99 (52–100) | 55 | 1 of 3 |")


def test_training_options_verdicts_and_readme_section():
    options = _benchmark("training_options")
    assert options.verdict([1.1, 1.3]) == "faster in every round"
    assert options.verdict([0.9, 1.3]) == "within the noise"
    table = options.options_table("lstm", {"plain": [100.0, 80.0], "xla": [150.0, 90.0],
                                          "bf16": [90.0, 100.0]})
    assert table.endswith("Faster than the shipped path in every round: XLA (`jit_compile=True`).")
    assert table.startswith(f"Training `lstm` on the CPU ({cpu_name()}, {os.cpu_count()} cores), batch")
    readme = (REPO / "README.md").read_text()
    section = readme.split("<!-- training_options:start -->\n", 1)[1].split("<!-- training_options:end")[0]
    record = REPO / "benchmarks" / "training_options_lstm.json"
    assert section.strip() == benchmark_section("training_options", record).strip()


def test_tune_trials_round_times_every_path_in_one_process_and_renders_its_verdict(
        tmp_path, mnist_npz, python_env):
    result = subprocess.run(
        [PYTHON, str(REPO / "benchmarks" / "tune_trials.py"), "--rounds", "1", "--train-samples",
         "300", "--output", str(tmp_path / "tune.json")],
        env=dict(python_env, SEQMNIST_ZOO_DATA=str(mnist_npz)), capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "tune.json").read_text())
    assert set(report["seconds_per_trial"]) == {"plain", "frozen_heap", "zoo"}
    assert all(len(v) == 1 and v[0] > 0 for v in report["seconds_per_trial"].values())
    assert report["fast_loops"] == "symbolic" and report["markdown"] in result.stdout

    bench = _benchmark("tune_trials")
    report["seconds_per_trial"] = {"plain": [2.0, 2.0], "frozen_heap": [1.0, 2.5], "zoo": [1.5, 1.8]}
    assert bench.render(report).endswith("Faster than the plain fit in every round: the zoo's trial path.")
