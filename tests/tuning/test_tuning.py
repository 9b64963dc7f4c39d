"""KerasTuner searches: spaces, results, resume after SIGKILL, locking, chief/worker, HParams."""

import gc
import json
import os
import signal
import subprocess
import time

import keras
import keras_tuner as kt
import pytest

from conftest import PYTHON, TINY, read_event_tags
from seqmnist_zoo import InvalidArgumentError, SeqMnistZooError, list_models
from seqmnist_zoo.training.cpu_path import MAX_UNROLLED_STEPS, has_gpu
from seqmnist_zoo.training.fused_rnn import CHAINS
from seqmnist_zoo.tuning import tuners
from seqmnist_zoo.tuning.hypermodel import ZooHyperModel
from seqmnist_zoo.tuning.search import retrain_command, tune
from seqmnist_zoo.tuning.spaces import check_space, default_space, load_space, shipped_spaces
from seqmnist_zoo.tuning.tuners import (
    ProjectLock,
    check_definition,
    frozen_heap,
    make_tuner,
    record_definition,
    run_search,
    whole_state_files,
)


@pytest.mark.parametrize("name,extra", [("lstm", set()), ("gru", set()), ("bilstm", set()),
                                        ("stacked_lstm", {"layers"}),
                                        ("simple_rnn", {"clipnorm"})])
def test_every_hyperparameter_is_declared_in_build(name, extra):
    hp = kt.HyperParameters()
    model = ZooHyperModel(name, default_space(name)).build(hp)
    assert set(hp.values) == {"units", "learning_rate", "timesteps"} | extra
    assert model.get_layer("timesteps").output.shape[1] == hp.values["timesteps"]
    assert float(model.optimizer.learning_rate) == pytest.approx(hp.values["learning_rate"])
    if name == "simple_rnn":
        assert float(model.optimizer.clipnorm) == pytest.approx(hp.values["clipnorm"])


def test_stacked_lstm_layers_hyperparameter_sets_depth():
    hp = kt.HyperParameters()
    hp.Fixed("layers", 3)
    hp.Fixed("units", 32)
    model = ZooHyperModel("stacked_lstm", default_space("stacked_lstm")).build(hp)
    assert sum(isinstance(layer, keras.layers.LSTM) for layer in model.layers) == 3


def test_default_timesteps_are_divisors_and_shipped_spaces_are_valid():
    assert set(default_space("lstm")["timesteps"]["values"]) == {7, 14, 16, 28, 49, 56, 112}
    assert shipped_spaces()
    for name in shipped_spaces():
        assert load_space(name)["hyperparameters"]
    for name in list_models():
        check_space(default_space(name))


@pytest.mark.parametrize("space,message", [
    ({"depth": {"type": "int", "min_value": 1, "max_value": 2}}, "unknown hyperparameter 'depth'"),
    ({"units": {"type": "integer"}}, "needs a 'type' among int, float.*; got 'integer'"),
    ({"units": {"type": "int", "min_value": 32}}, r"units \(int\): missing max_value; an int takes"),
    ({"units": {"type": "int", "min_value": 32, "max_value": 64, "stepp": 8}}, "unknown stepp"),
    ({"units": {"type": "int", "min_value": 64, "max_value": 32}}, "min_value 64 is above max_value 32"),
    ({"units": {"type": "int", "min_value": 32.5, "max_value": 64}}, "must be whole numbers"),
    ({"learning_rate": {"type": "float", "min_value": -1, "max_value": 1, "sampling": "log"}},
     "log sampling needs min_value > 0"),
    ({"learning_rate": {"type": "float", "min_value": 0.1, "max_value": 1, "sampling": "cubic"}},
     "sampling 'cubic' is not one of linear, log, reverse_log"),
    ({"units": {"type": "int", "min_value": 32, "max_value": 64, "step": 0}}, "step must be a positive"),
    ({"timesteps": {"type": "choice", "values": []}}, "values must be a non-empty list"),
    ({"units": {"type": "fixed"}}, r"units \(fixed\): missing value; a fixed takes value"),
    ({"timesteps": {"type": "choice", "values": [28, 30]}}, "timesteps 30 do not divide 784"),
])
def test_bad_spaces_are_refused(space, message):
    with pytest.raises(InvalidArgumentError, match=message):
        check_space(space)


@pytest.mark.parametrize("settings,message", [
    ({"max_trials": "x"}, "max_trials must be a whole number >= 1; got 'x'"),
    ({"epochs": 0}, "epochs must be a whole number >= 1; got 0"),
    ({"train_samples": 5}, "train_samples must be a whole number >= 10"),
    ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
    ({"tunr": "grid"}, "unknown setting 'tunr'; accepted: batch_size, description, epochs"),
    ({"hyperparameters": {}}, "'hyperparameters' is empty"),
])
def test_bad_space_file_settings_are_refused(tmp_path, settings, message):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"hyperparameters": {"units": {"type": "fixed", "value": 32}}, **settings}))
    with pytest.raises(InvalidArgumentError, match=message):
        load_space(path)


def test_space_files_are_checked(tmp_path, run_cli):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = run_cli("tune", "gru", "--space", broken)
    assert code == 2 and "cannot read search space" in err and err.count("\n") == 1
    shapeless = tmp_path / "list.json"
    shapeless.write_text("[1, 2]")
    code, _, err = run_cli("tune", "gru", "--space", shapeless)
    assert code == 2 and "'hyperparameters' object" in err
    no_maximum = tmp_path / "no_max.json"
    no_maximum.write_text(json.dumps({"hyperparameters": {"units": {"type": "int", "min_value": 32}}}))
    code, _, err = run_cli("tune", "gru", "--space", no_maximum)
    assert code == 2 and "missing max_value" in err and err.count("\n") == 1


def test_retrain_command():
    assert retrain_command("simple_rnn", {"units": 96, "clipnorm": 2.0, "timesteps": 14}) == \
        "seqmnist-zoo train simple_rnn --units 96 --timesteps 14 --clipnorm 2"
    assert retrain_command("stacked_lstm", {"units": 32}).endswith("--units 32,32")


def test_search_end_to_end_with_tensorboard_hparams(tmp_path, tiny_space, run_cli, mnist_npz,
                                                    monkeypatch):
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    code, out, err = run_cli("tune", "gru", "--tuner", "grid", "--max-trials", "3", "--epochs", "2",
                             "--train-samples", "300", "--space", tiny_space, "--directory",
                             tmp_path / "runs", "--logdir", tmp_path / "tb")
    assert code == 0, err
    results = json.loads((tmp_path / "runs" / "gru" / "results.json").read_text())
    assert "best hyperparameters:" in out
    assert "\x1b[" not in out + err  # output that is not a terminal gets no progress-bar codes
    if results["warning"]:  # a tiny budget is said to be one, and no retrain is recommended
        assert "far below what these families reach" in err and "retrain into weights" not in out
    else:
        assert "retrain into weights: seqmnist-zoo train gru" in out
    assert len(results["trials"]) == 3
    assert all(t["status"] == "COMPLETED" for t in results["trials"])
    assert results["fit_samples"] == 300 and results["validation_samples"] == 60
    best = keras.saving.load_model(tmp_path / "runs" / "gru" / "best_model.keras")
    assert best.get_layer("timesteps").output.shape[1] == results["best_hyperparameters"]["timesteps"]
    if keras.backend.backend() == "tensorflow":
        tags = read_event_tags(tmp_path / "tb")
        assert "_hparams_/session_start_info" in tags and "hparams" in tags["_hparams_/session_start_info"]
        assert {"epoch_loss", "epoch_accuracy"} <= set(tags)
        assert len(list((tmp_path / "tb").glob("*/execution0"))) == 3


def test_search_never_touches_the_test_set(mnist, tmp_path):
    (x, y), _ = mnist
    result = tune("gru", tuner="random", max_trials=1, epochs=1, train_samples=200, space=TINY,
                  directory=tmp_path, data=((x, y), (None, None)), verbose=0)
    assert result.trials[0]["status"] == "COMPLETED"


def test_memory_stays_flat_across_trials(mnist, tmp_path):
    space = dict(TINY, units={"type": "int", "min_value": 8, "max_value": 64, "step": 8})
    result = tune("gru", tuner="random", max_trials=8, epochs=1, train_samples=200, space=space,
                  directory=tmp_path, data=mnist, verbose=0)
    memory = json.loads(result.summary.read_text())["resident_mb_after_each_trial"]
    assert len(memory) == 8
    assert memory[-1] - memory[1] < 150, memory  # MiB; without clear_session it climbs per trial


def test_second_search_on_the_same_project_is_refused(tmp_path, run_cli, tiny_space):
    with ProjectLock(tmp_path, "gru"):
        code, _, err = run_cli("tune", "gru", "--space", tiny_space, "--directory", tmp_path,
                               "--train-samples", "100")
    assert code == 1 and "another search is already running" in err
    with ProjectLock(tmp_path, "gru"):  # released after the refusal
        pass
    with ProjectLock(tmp_path, "gru"):
        _, _, mirrored = run_cli("tune", "gru", "--space", tiny_space, "--directory", tmp_path,
                                 "--distribution", "mirrored")
    assert ("no GPU is visible, so each trial trains on the CPU" in mirrored) == (not has_gpu())


def test_tune_says_what_happens_to_the_trials_a_project_holds(tmp_path, capsys):
    from seqmnist_zoo.apps.cli import _say_what_happens_to

    (tmp_path / "trial_0").mkdir()
    (tmp_path / "trial_0" / "trial.json").write_text('{"status": "COMPLETED"}')
    said = []
    for overwrite, max_trials in [(True, 1), (False, 1), (False, 2)]:
        _say_what_happens_to(tmp_path, overwrite, max_trials)
        said.append(capsys.readouterr().err)
    (tmp_path / "trial_1").mkdir()
    (tmp_path / "trial_1" / "trial.json").write_text('{"status": "RUNNING"}')
    _say_what_happens_to(tmp_path, False, 3)
    said.append(capsys.readouterr().err)
    (tmp_path / "oracle.json").write_text("")
    _say_what_happens_to(tmp_path, False, 3)
    said.append(capsys.readouterr().err)
    assert "--overwrite: discarding the 1 earlier trial(s)" in said[0]
    assert "already holds 1 finished trial(s) (--max-trials 1): nothing to train" in said[1]
    assert "1 finished trial(s) kept" in said[2] and "again" not in said[2]
    assert "1 finished trial(s) kept, 1 interrupted one(s) run again" in said[3]
    assert said[4] == ""  # damaged: its error says what is wrong; no note claims trials are kept


def test_a_state_file_killed_mid_write_keeps_its_last_whole_state(tmp_path, monkeypatch):
    path = str(tmp_path / "trial.json")
    with whole_state_files():
        kt.engine.trial.Trial(kt.HyperParameters(), "1", status="RUNNING").save(path)

    def killed(*_):
        raise KeyboardInterrupt  # the process dies after writing aside, before the rename

    monkeypatch.setattr(tuners.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt), whole_state_files():
        kt.engine.trial.Trial(kt.HyperParameters(), "1", status="COMPLETED").save(path)
    assert json.loads(open(path).read())["status"] == "RUNNING"
    monkeypatch.undo()
    with pytest.raises(KeyboardInterrupt):  # the block puts KerasTuner's own save back
        with whole_state_files():
            raise KeyboardInterrupt
    assert kt.engine.trial.Trial.save.__name__ == "save"


def test_a_project_with_a_truncated_state_file_is_named_not_crashed_on(tmp_path):
    hypermodel = ZooHyperModel("gru", default_space("gru"))
    make_tuner(hypermodel, directory=tmp_path).save()
    (tmp_path / "gru" / "oracle.json").write_text("")  # killed mid-write by an older version
    with pytest.raises(SeqMnistZooError, match="cannot resume it, oracle.json is not valid JSON.*--over"):
        make_tuner(hypermodel, directory=tmp_path)
    assert make_tuner(hypermodel, directory=tmp_path, overwrite=True).oracle.trials == {}
    record_definition(tmp_path / "gru", {"epochs": 1})
    (tmp_path / "gru" / "definition.json").write_text('{"epo')
    with pytest.raises(SeqMnistZooError, match="definition.json is not valid JSON"):
        check_definition(tmp_path / "gru", {"epochs": 1})


def test_a_resumed_search_trains_each_trial_as_an_uninterrupted_one(mnist, tmp_path):
    (x, y), _ = mnist
    fit = dict(x=x[:300], y=y[:300], epochs=1, batch_size=64, validation_data=(x[-200:], y[-200:]),
               verbose=0)

    def losses(project, max_trials):
        search = make_tuner(ZooHyperModel("gru", TINY), "random", max_trials=max_trials,
                            directory=tmp_path, project_name=project)
        run_search(search, **fit)
        return {t.trial_id: t.metrics.get_last_value("val_loss") for t in search.oracle.trials.values()}

    straight = losses("straight", 3)
    losses("resumed", 1)
    keras.utils.set_random_seed(123)  # whatever the process did meanwhile
    assert losses("resumed", 3) == straight


def _tune_cmd(tmp_path, space, *extra):
    return [PYTHON, "-m", "seqmnist_zoo", "tune", "gru", "--space", str(space), "--directory",
            str(tmp_path / "runs"), "--train-samples", "2000", "--epochs", "2", *extra]


@pytest.mark.parametrize("tuner", ["grid", "random"])
def test_resume_after_sigkill_mid_trial(tuner, tmp_path, mnist_npz, python_env):
    space = tmp_path / "slow.json"
    space.write_text(json.dumps({"hyperparameters": {
        "units": {"type": "fixed", "value": 32}, "learning_rate": {"type": "fixed", "value": 0.003},
        "timesteps": {"type": "choice", "values": [112, 56, 49]}}}))
    env = dict(python_env, SEQMNIST_ZOO_DATA=str(mnist_npz))
    cmd = _tune_cmd(tmp_path, space, "--tuner", tuner, "--max-trials", "3")
    project = tmp_path / "runs" / "gru"
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    # Trial 1 is recorded RUNNING before its model is built; kill at once, since a fast-path
    # trial can finish in under two seconds and a later kill would find it COMPLETED.
    while not (project / "trial_1" / "trial.json").exists():
        assert process.poll() is None and time.time() < deadline, "search ended before trial 1"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    first_trial = json.loads((project / "trial_0" / "trial.json").read_text())
    assert first_trial["status"] == "COMPLETED"
    assert json.loads((project / "trial_1" / "trial.json").read_text())["status"] == "RUNNING"

    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "1 finished trial(s) kept, 1 interrupted one(s) run again" in resumed.stderr
    results = json.loads((project / "results.json").read_text())
    assert sorted(t["trial_id"] for t in results["trials"]) == ["0", "1", "2"]
    assert all(t["status"] == "COMPLETED" for t in results["trials"])
    tried = sorted(t["hyperparameters"]["timesteps"] for t in results["trials"])
    assert tried == [49, 56, 112]  # every combination once: nothing repeated, nothing skipped
    kept = next(t for t in results["trials"] if t["trial_id"] == "0")
    assert kept["score"] == first_trial["score"]  # the finished trial was not run again


def test_chief_and_two_workers_on_localhost(tmp_path, tiny_space, mnist_npz, python_env):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(python_env, SEQMNIST_ZOO_DATA=str(mnist_npz))
    base = [PYTHON, "-m", "seqmnist_zoo", "tune", "gru", "--space", str(tiny_space),
            "--directory", str(tmp_path), "--train-samples", "300", "--epochs", "1",
            "--max-trials", "4", "--oracle-ip", "127.0.0.1", "--oracle-port", str(port)]
    chief = subprocess.Popen([*base, "--tuner-id", "chief"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    workers = [subprocess.Popen([*base, "--tuner-id", f"tuner{i}"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(2)]
    try:
        outputs = [w.communicate(timeout=400) for w in workers]
        chief_out, chief_err = chief.communicate(timeout=120)
    finally:
        for process in (chief, *workers):
            process.kill()
    assert chief.returncode == 0, chief_err[-2000:]
    assert all(w.returncode == 0 for w in workers), [e[-1000:] for _, e in outputs]
    results = json.loads((tmp_path / "gru" / "results.json").read_text())
    assert len(results["trials"]) == 4 and all(t["status"] == "COMPLETED" for t in results["trials"])
    assert "finished; the chief reports" in outputs[0][0]


def test_distributed_options_come_together(run_cli):
    code, _, err = run_cli("tune", "gru", "--tuner-id", "chief")
    assert code == 2 and "needs --tuner-id, --oracle-ip and --oracle-port" in err


def test_unknown_distribution_and_tuner_are_refused(run_cli):
    code, _, err = run_cli("tune", "gru", "--tuner", "genetic")
    assert code == 2 and "genetic" in err
    with pytest.raises(SeqMnistZooError, match="unknown model"):
        tune("nope")


class _FitSettings(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.steps = self.model.steps_per_execution
        loop = vars(self.model.get_layer("gru")).get("inner_loop")
        self.fused = loop is not None
        self.unroll_steps, self.chains = getattr(loop, "unroll_steps", None), getattr(loop, "chains", None)

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True  # the settings are what is tested: one epoch is enough


@pytest.mark.parametrize("fast_path,epochs,min_images,expected", [
    (True, 100, None, (5, True, MAX_UNROLLED_STEPS, CHAINS)), (False, 100, None, (1, False, None, None)),
    (True, 1, None, (5, True, 0, 1)), (True, 1, 0, (5, True, MAX_UNROLLED_STEPS, CHAINS))])
def test_trials_train_on_the_cpu_fast_path_unrolled_when_long(fast_path, epochs, min_images,
                                                               expected, mnist):
    (x, y), _ = mnist
    options = {} if min_images is None else {"unroll_min_images": min_images}
    hypermodel = ZooHyperModel("gru", TINY, fast_path=fast_path, **options)
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    seen = _FitSettings()
    hypermodel.fit(hp, model, x[:2000], y[:2000], batch_size=16, epochs=epochs, verbose=0,
                   callbacks=[seen])
    # 2,000 x 100 images is a long trial; x 1 is not, unless the threshold is lowered
    assert (seen.steps, seen.fused, seen.unroll_steps, seen.chains) == expected
    assert "inner_loop" not in vars(model.get_layer("gru"))  # the fused loop is taken out again
    assert model.get_layer("gru").unroll is False  # the saved configuration stays cuDNN-eligible


class _FrozenAtFit(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.counts = []

    def __deepcopy__(self, memo):  # KerasTuner copies callbacks per trial; keep one record
        return self

    def on_train_begin(self, logs=None):
        self.counts.append(gc.get_freeze_count())


@pytest.mark.parametrize("fast_path", [True, False])
def test_zoo_trials_run_with_the_long_lived_heap_frozen(fast_path, tmp_path, mnist):
    (x, y), _ = mnist
    search = make_tuner(ZooHyperModel("gru", TINY, fast_path=fast_path), max_trials=2, epochs=1,
                        directory=tmp_path)
    seen = _FrozenAtFit()
    run_search(search, x[:64], y[:64], epochs=1, batch_size=32, validation_data=(x[:32], y[:32]),
               callbacks=[seen], verbose=0)
    assert len(seen.counts) == 2
    # KerasTuner's full collections before each trial skip what was frozen (TensorFlow, the data)
    assert all(count > 100_000 for count in seen.counts) if fast_path else seen.counts == [0, 0]
    assert gc.get_freeze_count() == 0  # unfrozen afterwards


def test_frozen_heap_leaves_a_freeze_made_by_others_alone():
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with frozen_heap():
            assert gc.get_freeze_count() == before
        assert gc.get_freeze_count() == before  # not unfrozen by the block
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("kind", ["random", "bayesian", "hyperband"])
def test_the_same_seed_draws_the_same_trials_seed_0_included(kind, tmp_path):
    def drawn(seed, folder):
        search = make_tuner(ZooHyperModel("lstm", default_space("lstm")), kind, max_trials=3,
                            epochs=1, directory=tmp_path / folder, seed=seed)
        return [search.oracle.create_trial(f"tuner{i}").hyperparameters.values for i in range(3)]

    first = drawn(0, "a")
    assert drawn(0, "b") == first  # KerasTuner alone draws a random seed when given 0
    assert drawn(1, "c") != first


def test_hyperband_says_it_does_not_count_trials(tmp_path, tiny_space, run_cli, mnist_npz, monkeypatch):
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    code, out, err = run_cli("tune", "gru", "--tuner", "hyperband", "--max-trials", "2", "--epochs", "1",
                             "--train-samples", "200", "--space", tiny_space, "--directory", tmp_path)
    assert code == 0, err
    assert "--max-trials is not used" in err and "single trial" in err


@pytest.mark.parametrize("kind", ["random", "grid"])
def test_a_trial_killed_before_the_oracle_saved_it_is_run_again_not_drawn_again(kind, tmp_path):
    def search():
        return make_tuner(ZooHyperModel("lstm", default_space("lstm")), kind, max_trials=4,
                          epochs=1, directory=tmp_path)

    first = search()
    oracle = first.oracle
    oracle.create_trial("tuner0")
    first.save()  # the tuner's own file: a project without it is not reloaded
    state = tmp_path / "lstm" / "oracle.json"
    before = state.read_text()
    orphan = oracle.create_trial("tuner1")  # its trial.json is written, then the oracle's state...
    state.write_text(before)  # ...which the kill never let it save
    reloaded = search().oracle
    assert sorted(reloaded._retry_queue) == ["0", "1"]  # KerasTuner alone queues only trial 0
    assert reloaded._duplicate(orphan.hyperparameters.values)  # a new trial will not draw them
    assert sorted(reloaded.create_trial(f"t{i}").trial_id for i in range(3)) == ["0", "1", "2"]
