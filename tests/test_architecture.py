"""The package's rooms: no import circle, the models layer at the bottom, the public API pinned.

Imports are read from the source (every ``import``, also those inside functions), so a circle
that only closes at call time is found too.
"""

import ast
import importlib
from pathlib import Path

import pytest

import seqmnist_zoo

PACKAGE = Path(seqmnist_zoo.__file__).parent
# leaves any layer may use: they import nothing from the package (checked below)
SHARED = {"seqmnist_zoo.errors", "seqmnist_zoo.quiet", "seqmnist_zoo.reports", "seqmnist_zoo"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The package module `name` refers to (a name inside a module counts as the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        if isinstance(node, ast.ImportFrom) and node.module is None:  # from . import x
            defined = vars(importlib.import_module(base))
            UNKNOWN.extend(f"{module}: {name}" for name in names
                           if name not in MODULES and name.rpartition(".")[2] not in defined)
        for name in names:
            target = _resolve(name) if name.startswith("seqmnist_zoo") else None
            if target and target != module:
                found.add(target)
    return found


UNKNOWN: list[str] = []  # `from . import x` where x is neither a module nor defined there
GRAPH = {module: imports_of(module) for module in MODULES}


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (circle := visit(node)):
            return circle
    return None


def test_the_circle_finder_finds_a_circle():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_every_from_dot_import_names_something_real():
    assert not UNKNOWN


def test_the_scan_sees_the_package():
    assert "seqmnist_zoo.models.registry" in GRAPH["seqmnist_zoo.models.factory"]
    assert "seqmnist_zoo.models.compile" in GRAPH["seqmnist_zoo.training.fit"]


def test_the_package_has_no_import_circle():
    # the package's own __init__ names every public module lazily; its edges are not imports
    graph = {m: deps - {"seqmnist_zoo"} for m, deps in GRAPH.items() if m != "seqmnist_zoo"}
    assert find_circle(graph) is None


# bottom to top: a module in a layer imports only from its own layer and the ones below
LAYERS = ["models", "inputs", "inference", "training", "tuning", "studies", "apps"]


def _layer(module: str) -> int | None:
    room = module.removeprefix("seqmnist_zoo.").split(".")[0]
    return LAYERS.index(room) if room in LAYERS else None


def test_the_package_never_imports_the_checkouts_tools():
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import)]
        names = [alias.name for node in imports for alias in node.names]
        names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] in {"tools", "benchmarks"}], module


def test_shared_modules_are_leaves():
    for module in SHARED - {"seqmnist_zoo"}:
        assert not GRAPH[module], f"{module} imports {sorted(GRAPH[module])}"


def test_each_layer_imports_nothing_above_it():
    for module, deps in GRAPH.items():
        if (own := _layer(module)) is None:
            continue
        above = {d for d in deps if d not in SHARED and (_layer(d) is None or _layer(d) > own)}
        assert not above, f"{module} imports {sorted(above)} from above its layer"


PUBLIC_NAMES = [
    "DatasetError", "DigitPrediction", "InvalidArgumentError", "ModelSpec", "NoDigitError", "Recipe",
    "SeqMnistZooError", "UnknownModelError", "WeightsError", "WeightsIntegrityError", "WeightsSpec",
    "__version__", "bilstm", "build_model", "compile_model", "evaluate", "export_model", "get_model",
    "get_model_spec", "gru", "list_models", "load_mnist", "lstm", "model_info", "normalize_digit",
    "predict_digits", "prepare_digits", "prepare_each", "read_along", "register_model", "simple_rnn",
    "stacked_lstm", "train", "use_training_threads", "valid_timesteps",
]
CLI_COMMANDS = ["demo", "evaluate", "export", "info", "list", "predict", "read", "report", "train", "tune"]


def test_the_public_api_is_pinned():
    assert sorted(seqmnist_zoo.__all__) == sorted(PUBLIC_NAMES)
    for name in PUBLIC_NAMES:
        assert getattr(seqmnist_zoo, name) is not None


def test_the_cli_commands_are_pinned():
    from seqmnist_zoo.apps.cli import cli

    assert sorted(cli.commands) == CLI_COMMANDS


@pytest.mark.parametrize("name", ["lstm", "gru", "bilstm", "stacked_lstm", "simple_rnn"])
def test_builder_strings_and_the_plugin_group_still_resolve(name):
    from seqmnist_zoo.models.registry import ENTRY_POINT_GROUP, get_model_spec

    spec = get_model_spec(name)
    assert ENTRY_POINT_GROUP == "seqmnist_zoo.models"
    assert spec.builder == f"seqmnist_zoo.models:{name}"  # the form plugins copy
    assert spec.load_builder() is getattr(seqmnist_zoo, name)


def test_the_tests_mirror_the_rooms():
    tests = Path(__file__).parent
    folders = {p.name for p in tests.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert folders == set(LAYERS) | {"tools"}
    for folder in folders:
        assert list((tests / folder).glob("test_*.py")), folder
