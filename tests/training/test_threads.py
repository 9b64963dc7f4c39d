"""The thread layout the zoo trains with is taken only where the zoo owns the process."""

import pytest

from seqmnist_zoo import SeqMnistZooError, use_training_threads
from seqmnist_zoo.training.threads import intra_op_threads, owned_process_threads


def test_a_running_tensorflow_keeps_its_layout_and_says_why(monkeypatch):
    import tensorflow as tf

    tf.constant(1.0) + 1.0  # TensorFlow has started
    monkeypatch.delenv("SEQMNIST_ZOO_THREADS", raising=False)
    if intra_op_threads() == 1:
        pytest.fail("this test process should run with TensorFlow's own layout (conftest)")
    with pytest.raises(SeqMnistZooError, match="already started.*before the first model"):
        use_training_threads()
    assert owned_process_threads() is False and intra_op_threads() == 0


def test_the_user_can_keep_tensorflows_layout(monkeypatch):
    monkeypatch.setenv("SEQMNIST_ZOO_THREADS", "default")
    assert use_training_threads() is False


def test_an_unknown_layout_is_one_line_naming_the_accepted_ones(monkeypatch, run_cli):
    monkeypatch.setenv("SEQMNIST_ZOO_THREADS", "banana")
    code, _, err = run_cli("train", "lstm", "--epochs", "1", "--train-samples", "10")
    assert code == 2 and err.count("\n") == 1
    assert "SEQMNIST_ZOO_THREADS='banana' is not a thread layout; use zoo" in err and "default" in err
