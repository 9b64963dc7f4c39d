"""Tables and model cards generated from the weights manifest, the one record of every number.

``python -m seqmnist_zoo.cards README.md [more.md ...]`` rewrites each file's generated sections,
found between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from .errors import InvalidArgumentError
from .registry import list_models, model_info
from .spread import seeds_text, spread_text


def results_table() -> str:
    """A markdown table of every shipped weights file: accuracy, its spread over seeds, loss, size
    and recipe.

    Examples:
        >>> results_table().splitlines()[0].startswith("| model |")
        True
    """
    rows = [
        "| model | weights | test accuracy | same recipe over seeds | test loss | parameters | timesteps "
        "| units | epochs | learning rate | clipnorm | reproduce |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in list_models(pretrained=True):
        for tag, record in model_info(name)["weights"].items():
            recipe, config, metrics = record["recipe"], record["config"], record["metrics"]
            command = f"seqmnist-zoo train {name}" + ("" if tag == "mnist" else f" --tag {tag}")
            rows.append(
                f"| `{name}` | `{tag}` | {metrics['accuracy']:.2%} "
                f"| {spread_text(record.get('seed_spread'))} | {metrics['loss']:.4f} "
                f"| {record['num_params']:,} | {config['timesteps']} | {config['units']} "
                f"| {recipe['epochs']} | {recipe['learning_rate']:g} | {recipe['clipnorm'] or '-'} "
                f"| `{command}` |"
            )
    return "\n".join(rows)


def performance_section(path=None) -> str:
    """The benchmark tables last written by ``python benchmarks/run.py``, or how to make them.

    Examples:
        >>> performance_section("/nonexistent.json").startswith("Not measured yet")
        True
    """
    return _benchmark_markdown(path or BENCHMARKS / "results.json", "python benchmarks/run.py")


def realworld_section(path=None) -> str:
    """The table last written by ``python benchmarks/realworld.py``, or how to make it.

    Examples:
        >>> realworld_section("/nonexistent.json")
        'Not measured yet: run `python benchmarks/realworld.py`.'
    """
    return _benchmark_markdown(path or BENCHMARKS / "realworld.json", "python benchmarks/realworld.py")


def export_section(path=None) -> str:
    """The export check table last written by ``python benchmarks/export.py``, or how to make it.

    Examples:
        >>> export_section("/nonexistent.json")
        'Not measured yet: run `python benchmarks/export.py`.'
    """
    return _benchmark_markdown(path or BENCHMARKS / "export.json", "python benchmarks/export.py")


def training_options_section(path=None) -> str:
    """What each candidate CPU training speed-up measured (``benchmarks/training_options.py``).

    Examples:
        >>> training_options_section("/nonexistent.json")
        'Not measured yet: run `python benchmarks/training_options.py --output FILE`.'
    """
    return _benchmark_markdown(path or BENCHMARKS / "training_options_lstm.json",
                               "python benchmarks/training_options.py --output FILE")


def fused_accuracy_section(path=None) -> str:
    """Shipped recipes trained on the CPU fast path (``benchmarks/fused_accuracy.py``).

    Examples:
        >>> fused_accuracy_section("/nonexistent.json")
        'Not measured yet: run `python benchmarks/fused_accuracy.py`.'
    """
    return _benchmark_markdown(path or BENCHMARKS / "fused_accuracy.json",
                               "python benchmarks/fused_accuracy.py")


def tune_trials_section(path=None) -> str:
    """Seconds per `tune` trial, plain fit vs the CPU fast path (``benchmarks/tune_trials.py``).

    Examples:
        >>> tune_trials_section("/nonexistent.json")
        'Not measured yet: run `python benchmarks/tune_trials.py`.'
    """
    paths = [path] if path else sorted(BENCHMARKS.glob("tune_trials_*.json"),
                                       key=lambda p: int(p.stem.rsplit("_", 1)[1]))  # by size
    return "\n\n".join(_benchmark_markdown(p, "python benchmarks/tune_trials.py") for p in paths
                       ) or "Not measured yet: run `python benchmarks/tune_trials.py`."


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def realdigits_section(path=None) -> str:
    """The real-handwriting table last written by ``python benchmarks/realworld.py``.

    Examples:
        >>> realdigits_section("/nonexistent.json")
        'Not measured yet: run `python benchmarks/realworld.py --real-only`.'
    """
    path = Path(path or BENCHMARKS / "realworld.json")
    command = "python benchmarks/realworld.py --real-only"
    record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return record["real"]["markdown"] if "real" in record else f"Not measured yet: run `{command}`."


def _benchmark_markdown(path, command: str) -> str:
    path = Path(path)
    if not path.is_file():
        return f"Not measured yet: run `{command}`."
    return json.loads(path.read_text(encoding="utf-8"))["markdown"]


SECTIONS = {"results": results_table, "performance": performance_section,
            "realworld": realworld_section, "realdigits": realdigits_section, "export": export_section,
            "training_options": training_options_section, "fused_accuracy": fused_accuracy_section,
            "tune_trials": tune_trials_section}


STUDIES = Path(__file__).resolve().parents[1] / "studies" / "results"


def study_section(key: str, folder=None) -> str:
    """A table of a recorded study, ``NAME.TABLE`` (written by ``seqmnist_zoo.study_runner``).

    Examples:
        >>> study_section("plain_rnn.summary").splitlines()[0].startswith("| runs |")
        True
        >>> study_section("nothing.summary", "/nonexistent")
        'Not run yet: run `python -m seqmnist_zoo.study_runner studies/nothing.json`.'
        >>> study_section("plain_rnn.nope")
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: study 'plain_rnn' has no table 'nope'; it has: ...
    """
    name, table = key.split(".", 1)
    path = Path(folder or STUDIES) / f"{name}.json"
    if not path.is_file():
        return f"Not run yet: run `python -m seqmnist_zoo.study_runner studies/{name}.json`."
    tables = json.loads(path.read_text(encoding="utf-8")).get("markdown")
    if not tables:
        return f"Not reported yet: run `python -m seqmnist_zoo.study_runner studies/{name}.json " \
               "--report-only`."
    if table not in tables:
        raise InvalidArgumentError(f"study {name!r} has no table {table!r}; it has: "
                                   + ", ".join(sorted(tables)))
    return tables[table]


def fill_sections(text: str) -> str:
    """Replace the content between each known pair of markers with freshly generated text.

    ``<!-- NAME:start -->`` takes a `SECTIONS` entry; ``<!-- study NAME.TABLE:start -->`` a
    study's table (`study_section`).

    Examples:
        >>> "| `lstm` |" in fill_sections("<!-- results:start -->\\n<!-- results:end -->")
        True
    """
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    pattern = re.compile(r"(<!-- study ([\w.]+):start -->\n).*?(<!-- study \2:end -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + study_section(m.group(2)) + "\n" + m.group(3), text)


def main(argv=None) -> None:
    for path in map(Path, argv if argv is not None else sys.argv[1:]):
        path.write_text(fill_sections(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"updated {path}")



def model_card(name: str) -> str:
    """A markdown model card: architecture, parameters, shipped accuracy, recipe, how to reproduce.

    Examples:
        >>> model_card("gru").splitlines()[0]
        '# gru'
    """
    info = model_info(name)
    lines = [f"# {name}", "", info["description"], "",
             "```python", f"from seqmnist_zoo import {name}",
             f"model = {name}(weights=\"mnist\")  # pixels (n, 28, 28) -> probabilities (n, 10)",
             "```", "", "## Architecture", "",
             "Rescaling(1/255) -> Reshape((timesteps, 784 // timesteps)) -> "
             f"{info['family']} body -> Dense(classes, softmax)", "",
             "| default | value |", "|---|---|"]
    lines += [f"| `{key}` | `{value}` |" for key, value in info["defaults"].items()]
    lines += [f"| parameters | {info['num_params']:,} |", ""]
    if info["notes"]:
        lines += ["## Notes", "", info["notes"], ""]
    for tag, record in info["weights"].items():
        metrics, training = record["metrics"], record["training"]
        lines += [f"## Pretrained weights `{tag}`", "",
                  "| measure | value |", "|---|---|",
                  f"| test accuracy | {metrics['accuracy']:.2%} ({metrics['samples']} digits) |",
                  *_spread_rows(record.get("seed_spread"), name),
                  f"| test loss | {metrics['loss']:.4f} |",
                  f"| best validation accuracy | {training['val_accuracy']:.2%} "
                  f"(epoch {training['best_epoch']} of {training['epochs_run']}) |",
                  f"| training time | {training['train_seconds']:.0f} s on the CPU |",
                  f"| file | `{record['file']}`, sha256 `{record['sha256'][:16]}...` |", "",
                  "Accuracy per digit: " + ", ".join(
                      f"{d}: {a:.2%}" for d, a in enumerate(metrics["per_class_accuracy"])), "",
                  "### Recipe", "", "| setting | value |", "|---|---|"]
        lines += [f"| `{key}` | `{value}` |" for key, value in record["recipe"].items()]
        env = ", ".join(f"{k} {v}" for k, v in record["environment"].items())
        lines += ["", f"Trained with {env}.", "", "Reproduce and check it:", "", "```bash",
                  f"seqmnist-zoo train {name}",
                  f"python -m seqmnist_zoo.publish {name} runs/{name}/version_0/{name}.weights.h5"
                  "  # the path train printed",
                  f"seqmnist-zoo evaluate {name}", "```", ""]
    if not info["weights"]:
        lines += ["No pretrained weights are shipped for this model.", ""]
    return "\n".join(lines)


def _spread_rows(spread, name: str) -> list[str]:
    if not spread:
        return []
    return [f"| same recipe over seeds | {spread_text(spread)}: {seeds_text(spread)} "
            f"(`{spread['command']} {name}`) |"]


if __name__ == "__main__":
    main()
