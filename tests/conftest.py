"""Shared fixtures. Tests that need MNIST read the real files from ../shared/datasets; in CI a
missing dataset fails the run instead of skipping."""

import json
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ banner out of test logs
# The CLI run in-process must not change this process's thread layout for the tests after it;
# subprocess tests that check the layout clear it.
os.environ.setdefault("SEQMNIST_ZOO_THREADS", "default")

from seqmnist_zoo.apps.cli import main

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "datasets"


def _dataset(relative: str) -> Path:
    env = os.environ.get("SEQMNIST_ZOO_DATA")
    base = Path(env).parent if env and relative != "mnist.npz" else SHARED_DATA
    path = Path(env) if env and relative == "mnist.npz" else base / relative
    if not path.exists():
        message = f"{relative} not found at {path}; set SEQMNIST_ZOO_DATA to the shared mnist.npz"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def mnist_npz() -> Path:
    return _dataset("mnist.npz")


@pytest.fixture(scope="session")
def mnist_idx_dir() -> Path:
    return _dataset("mnist-idx")


@pytest.fixture(scope="session")
def realdigits() -> Path:
    """The real scanned handwriting of ../shared/datasets/realdigits (Semeion, UCI optdigits)."""
    return _dataset("realdigits")


@pytest.fixture(scope="session")
def mnist(mnist_npz):
    from seqmnist_zoo import load_mnist

    return load_mnist(mnist_npz)


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""

    def run(*args):
        try:
            main(list(map(str, args)))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def python_env():
    """Environment for subprocesses: this interpreter's path and no inherited backend choice."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    return env


PYTHON = sys.executable

# A search space small enough for tests: two widths, two layouts, a fixed learning rate.
TINY = {"units": {"type": "choice", "values": [8, 16]},
        "learning_rate": {"type": "fixed", "value": 0.003},
        "timesteps": {"type": "choice", "values": [28, 14]}}


@pytest.fixture
def tiny_space(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"hyperparameters": TINY}))
    return path


def read_event_tags(folder) -> dict[str, set[str]]:
    """Every summary tag under `folder` (recursively), mapped to the plugins that wrote it,
    read with tensorboard's own event-file loader."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    tags: dict[str, set[str]] = {}
    for path in Path(folder).rglob("events.out.tfevents.*"):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                tags.setdefault(value.tag, set()).add(value.metadata.plugin_data.plugin_name)
    return tags
