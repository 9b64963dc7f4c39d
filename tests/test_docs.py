"""The API site's promises: every public function and class has a docstring with an example,
and every public name is on the API page. (`mkdocs build --strict` itself runs in the README's
test block.)"""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import seqmnist_zoo

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(m.name.removeprefix("seqmnist_zoo.")
                 for m in pkgutil.walk_packages(seqmnist_zoo.__path__, "seqmnist_zoo.")
                 if not m.ispkg and not m.name.rsplit(".", 1)[1].startswith("_")
                 and m.name.rsplit(".", 1)[1] != "cli")


def _public_objects(module_name):
    module = importlib.import_module(f"seqmnist_zoo.{module_name}")
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) == module.__name__ and name != "main":
            yield f"{module_name}.{name}", obj


PUBLIC = [item for module in MODULES for item in _public_objects(module)]


def test_the_scan_found_the_api():
    names = {name for name, _ in PUBLIC}
    expected = {"models.builders.lstm", "models.registry.list_models", "tuning.search.tune",
                "reports.confusion_figure"}
    assert expected <= names


@pytest.mark.parametrize("name,obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_object_has_a_docstring_with_an_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "Examples:" in doc and ">>>" in doc, f"{name} has no runnable example"


def test_every_public_name_is_on_the_api_page():
    page = (REPO / "docs" / "api.md").read_text()
    missing = [n for n in seqmnist_zoo.__all__ if n != "__version__" and n not in page]
    assert not missing


def test_docs_quick_start_is_the_readmes():
    index = (REPO / "docs" / "index.md").read_text()
    assert "<!-- readme:quickstart -->" in index
    assert "```bash" in (REPO / "README.md").read_text().split("## Quick start", 1)[1]


def test_the_readmes_opening_example_runs_from_the_checkout(monkeypatch, mnist_npz):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SEQMNIST_ZOO_DATA", str(mnist_npz))
    code = (REPO / "README.md").read_text().split("```python\n", 1)[1].split("```", 1)[0]
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["model"].predict(scope["images"][:100], verbose=0).shape == (100, 10)


def test_readme_results_table_is_generated_from_the_manifest():
    from tools.cards import fill_sections

    readme = (REPO / "README.md").read_text()
    assert "<!-- results:start -->\n| model |" in readme
    assert fill_sections(readme, REPO) == readme, "run: python -m tools.cards README.md"


def test_tables_come_from_the_documented_checkout_and_a_missing_record_fails(tmp_path):
    """The installed package reads no repository folder: a checkout without the record is an error
    (mkdocs build --strict fails on it), not a placeholder printed into the docs."""
    from seqmnist_zoo.errors import InvalidArgumentError
    from tools.cards import fill_sections

    page = "<!-- realworld:start -->\n<!-- realworld:end -->\n"
    assert "| `lstm` |" in fill_sections(page, REPO)
    with pytest.raises(InvalidArgumentError, match="no record at .*realworld.json"):
        fill_sections(page, tmp_path)
    with pytest.raises(InvalidArgumentError, match="study 'plain_rnn' has no record"):
        study = "<!-- study plain_rnn.summary:start -->\n<!-- study plain_rnn.summary:end -->"
        fill_sections(study, tmp_path)


def test_every_module_and_package_file_the_docs_name_exists():
    import importlib.util
    import re

    texts = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    text = "\n".join(path.read_text(encoding="utf-8") for path in texts)
    modules = set(re.findall(r"python -m ((?:seqmnist_zoo|tools)(?:\.[a-z_]+)*)", text))  # not tools.NAME
    files = set(re.findall(r"\bseqmnist_zoo/[\w/.]+\.(?:json|py)\b", text))
    assert modules and files  # the scan found what it checks
    assert [m for m in sorted(modules) if importlib.util.find_spec(m) is None] == []
    assert [f for f in sorted(files) if not (REPO / f).is_file()] == []
