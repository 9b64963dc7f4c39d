"""The CLI face: list, info, --version, and one-line errors with the right exit codes."""

import json
import subprocess

import pytest

import seqmnist_zoo
from conftest import PYTHON
from seqmnist_zoo import list_models, model_info


def test_version(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0 and seqmnist_zoo.__version__ in out


def test_list_table_and_json(run_cli):
    code, out, _ = run_cli("list")
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert [r.split()[0] for r in rows] == list_models()
    # every column starts where its header does, however long a row's weights tags are
    for title in ("test acc ('mnist')", "same recipe over seeds"):
        end = header.index(title) + len(title)
        starts = {row.index("%", header.index(title) - 2) for row in rows}
        assert len(starts) == 1 and abs(starts.pop() - end) <= len(title), title
    code, out, _ = run_cli("list", "*lstm", "--json")
    data = json.loads(out)
    assert [d["name"] for d in data] == ["bilstm", "lstm", "stacked_lstm"]
    assert data[1]["num_params"] == model_info("lstm")["num_params"]


def test_list_pretrained_only(run_cli):
    code, out, _ = run_cli("list", "--pretrained", "--json")
    assert [d["name"] for d in json.loads(out)] == list_models(pretrained=True)
    for d in json.loads(out):
        assert d["weights"][0] == "mnist"
        assert d["weights"] == sorted(model_info(d["name"])["weights"])


def test_info_text_and_json(run_cli):
    code, out, _ = run_cli("info", "simple_rnn")
    assert code == 0 and "'clipnorm': 1.0" in out and "parameters at defaults" in out
    code, out, _ = run_cli("info", "stacked_lstm", "--json")
    assert json.loads(out) == json.loads(json.dumps(model_info("stacked_lstm")))
    out_lines = run_cli("info", "gru")[1].splitlines()
    robust_line = out_lines[[i for i, line in enumerate(out_lines) if "'mnist-robust'" in line][0] + 1]
    assert "its recipe" in robust_line and "'start_from': 'mnist'" in robust_line


def test_each_model_cards_reproduce_block_remakes_its_own_tag():
    from tools.cards import model_card

    card = model_card("gru")
    split = card.index("## Pretrained weights `mnist-robust`")
    robust = card[split:]
    assert "seqmnist-zoo train gru --tag mnist-robust" in robust
    assert "gru.weights.h5 --tag mnist-robust" in robust and "evaluate gru --weights mnist-robust" in robust
    plain = card[card.index("## Pretrained weights `mnist`"):split]
    assert "seqmnist-zoo train gru\n" in plain and "--tag" not in plain


@pytest.mark.parametrize("args,code,message", [
    (["info", "lstn"], 2, "unknown model 'lstn'; known models: bilstm, gru"),
    (["list", "nothing*"], 2, "no model matches 'nothing*'"),
    (["list", "--bogus"], 2, "No such option"),
    (["frobnicate"], 2, "No such command"),
    (["info"], 2, "Missing argument"),
    (["train", "lstm", "--epochs", "0"], 2, "0 is not in the range x>=1"),
    (["train", "lstm", "--units", "a,b"], 2, "is not an integer or a comma list"),
    (["evaluate", "nope"], 2, "unknown model 'nope'"),
])
def test_user_mistakes_print_one_line(run_cli, args, code, message):
    got, out, err = run_cli(*args)
    assert got == code
    assert err.count("\n") == 1 and err.startswith("seqmnist-zoo: error: ")
    assert message in err and "Traceback" not in err + out


def test_installed_console_script_has_no_traceback(python_env):
    result = subprocess.run([PYTHON, "-m", "seqmnist_zoo", "info", "nope"], env=python_env,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("seqmnist-zoo: error: unknown model") and not result.stdout


def test_what_the_studies_found_reaches_info_and_the_model_card(run_cli):
    from tools.cards import model_card

    notes = model_info("simple_rnn")["notes"]
    assert "plain-RNN study" in notes
    code, out, _ = run_cli("info", "simple_rnn")
    assert code == 0 and f"note: {notes}" in out
    assert f"## Notes\n\n{notes}" in model_card("simple_rnn")
    assert "## Notes" not in model_card("lstm") and model_info("lstm")["notes"] == ""
