"""The package stays cheap to import: no keras or TensorFlow until a model is built."""

import json
import subprocess

import pytest

from conftest import PYTHON

HEAVY = ("keras", "tensorflow", "jax", "torch")


def _loaded_modules(code: str, env) -> set:
    script = f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([PYTHON, "-c", script], env=env, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_list_and_info_load_no_framework(python_env):
    loaded = _loaded_modules(
        "import seqmnist_zoo as z; z.list_models(); z.model_info('bilstm'); z.__version__",
        python_env)
    assert "seqmnist_zoo.models.registry" in loaded
    assert not [m for m in HEAVY if m in loaded]


def test_cli_help_list_info_load_no_framework(python_env):
    code = ("from seqmnist_zoo.apps.cli import main\n"
            "for args in (['--help'], ['list'], ['info', 'lstm'], ['list', '--json']):\n"
            "    try: main(args)\n"
            "    except SystemExit as e: assert e.code == 0, (args, e.code)")
    loaded = _loaded_modules(code, python_env)
    assert not [m for m in HEAVY if m in loaded]


def test_public_names_resolve_and_unknown_is_attribute_error():
    import seqmnist_zoo

    for name in seqmnist_zoo.__all__:
        assert getattr(seqmnist_zoo, name) is not None
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = seqmnist_zoo.no_such_thing


API_USES = {
    "builder": "from seqmnist_zoo import gru\nimport numpy as np\n"
               "gru(units=4).predict(np.zeros((1, 28, 28)), verbose=0)\nprint('read')",
    # names whose modules load without Keras start it later, inside the call
    "predict_digits": "from seqmnist_zoo import predict_digits\nimport numpy as np\n"
                      "digit = np.zeros((28, 28), 'uint8'); digit[5:23, 13:15] = 255\n"
                      "assert predict_digits('gru', [digit])[0].ok\nprint('read')",
    "get_model": "from seqmnist_zoo import get_model\nget_model('gru', weights=None, units=4)\nprint('read')",
}


def _quiet_env(python_env):
    return {k: v for k, v in python_env.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "SEQMNIST_ZOO_VERBOSE")}


@pytest.mark.parametrize("use", list(API_USES))
def test_using_the_api_prints_no_framework_start_up_lines(python_env, use):
    done = subprocess.run([PYTHON, "-c", API_USES[use]], env=_quiet_env(python_env),
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "read" and done.stderr == "", done.stderr


def test_the_api_still_works_with_the_verbose_setting(python_env):
    env = {**_quiet_env(python_env), "SEQMNIST_ZOO_VERBOSE": "1"}
    shown = subprocess.run([PYTHON, "-c", API_USES["builder"]], env=env,
                           capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "read"  # the opt-out still works (what TF prints is its own)


@pytest.mark.slow
def test_the_sdist_carries_its_test_suite(tmp_path, python_env):
    """An unpacked sdist collects every test: conftest, fixtures and the records they read."""
    from conftest import REPO

    subprocess.run([PYTHON, "-m", "build", "--sdist", "-o", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, env=python_env)
    import tarfile

    (archive,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
    unpacked = next(p for p in tmp_path.iterdir() if p.is_dir())
    env = {**python_env, "PYTHONPATH": str(unpacked)}
    collected = subprocess.run([PYTHON, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                               cwd=unpacked, env=env, capture_output=True, text=True)
    assert collected.returncode == 0, collected.stdout[-2000:]
    assert "error" not in collected.stdout.lower().split("collected")[-1]


def test_calls_with_a_new_number_of_pictures_do_not_make_tensorflow_warn(python_env):
    """Each call of predict_digits or read_along with another count of pictures used to retrace the
    model, and TensorFlow printed 'triggered tf.function retracing' warnings after five."""
    code = ("import numpy as np\nfrom seqmnist_zoo import lstm, predict_digits, read_along\n"
            "model = lstm(units=4)\ndigit = np.zeros((28, 28), 'uint8'); digit[5:23, 12:16] = 255\n"
            "for k in range(1, 9):\n"
            "    assert all(p.ok for p in predict_digits(model, [digit] * k))\n"
            "    assert read_along(model, np.stack([digit] * k)).shape == (k, 28, 10)\n"
            "print('read')")
    done = subprocess.run([PYTHON, "-c", code], env=python_env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "read", done.stderr[-2000:]
    assert "retracing" not in done.stderr, done.stderr[-2000:]
