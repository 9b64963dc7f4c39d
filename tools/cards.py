"""Tables and model cards generated from the weights manifest, the one record of every number.

``python -m tools.cards README.md [more.md ...]`` rewrites each file's generated sections,
found between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
from pathlib import Path

from seqmnist_zoo.errors import InvalidArgumentError
from seqmnist_zoo.models.registry import list_models, model_info
from seqmnist_zoo.models.specs import recipe_shown, seeds_text, spread_text


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


# Benchmark sections: the record each reads, relative to the checkout, and the command that writes it.
BENCHMARKS = {
    "performance": ("benchmarks/results.json", "python benchmarks/run.py"),
    "performance_float32": ("benchmarks/results_float32.json",
                            "SEQMNIST_ZOO_CPU_MATMUL=float32 python benchmarks/run.py --families "
                            "lstm,stacked_lstm --training-only --output benchmarks/results_float32.json"),
    "realworld": ("benchmarks/realworld.json", "python benchmarks/realworld.py"),
    "export": ("benchmarks/export.json", "python benchmarks/export.py"),
    "training_options": ("benchmarks/training_options_lstm.json",
                         "python benchmarks/training_options.py --output FILE"),
    "training_threads": ("benchmarks/training_threads.json",
                         "python benchmarks/training_options.py --family lstm,stacked_lstm,gru,bilstm,"
                         "simple_rnn --rounds 10 --options plain default_threads --output FILE"),
    "training_batches": ("benchmarks/training_batches.json",
                         "python benchmarks/training_options.py --family lstm,stacked_lstm,gru,bilstm,"
                         "simple_rnn --rounds 10 --options plain keras_arrays --output FILE"),
    "training_processes": ("benchmarks/training_processes.json",
                           "python benchmarks/training_options.py --family lstm,stacked_lstm,gru,"
                           "bilstm,simple_rnn --rounds 10 --fits 3 --options plain --output FILE"),
    "fused_accuracy": ("benchmarks/fused_accuracy.json", "python benchmarks/fused_accuracy.py"),
}


def benchmark_section(name: str, path) -> str:
    """The markdown a benchmark wrote into its record at `path`; `name` is a `BENCHMARKS` key.

    Examples:
        >>> benchmark_section("performance", "/nonexistent.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: no record at /nonexistent.json: run `python ...
    """
    return _record(path, BENCHMARKS[name][1])["markdown"]


def realdigits_section(path) -> str:
    """The real-handwriting table of a ``benchmarks/realworld.json`` record.

    Examples:
        >>> realdigits_section("/nonexistent.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: no record at /nonexistent.json: run `python ...
    """
    record = _record(path, "python benchmarks/realworld.py --real-only")
    if "real" not in record:
        raise InvalidArgumentError(f"{path} has no real-handwriting table: run "
                                   "`python benchmarks/realworld.py --real-only` in the checkout")
    return record["real"]["markdown"]


def tune_trials_section(folder) -> str:
    """Seconds per `tune` trial, plain fit vs the CPU fast path: every ``tune_trials_*.json`` of
    a benchmarks `folder` (``benchmarks/tune_trials.py``), smallest first.

    Examples:
        >>> tune_trials_section("/nonexistent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: no record at /nonexistent/tune_trials_*.json: ...
    """
    command = "python benchmarks/tune_trials.py"
    paths = sorted(Path(folder).glob("tune_trials_*.json"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    if not paths:
        raise InvalidArgumentError(f"no record at {folder}/tune_trials_*.json: run `{command}` "
                                   "in the checkout")
    return "\n\n".join(_record(p, command)["markdown"] for p in paths)


def _record(path, command: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError(f"no record at {path}: run `{command}` in the checkout")
    return json.loads(path.read_text(encoding="utf-8"))


# Each generated section: the function that writes it and the record it reads, relative to the
# checkout being documented (the installed package never reads a repository's folders itself).
SECTIONS = {
    "results": (results_table, None),
    **{name: (functools.partial(benchmark_section, name), record)
       for name, (record, _) in BENCHMARKS.items()},
    "realdigits": (realdigits_section, "benchmarks/realworld.json"),
    "tune_trials": (tune_trials_section, "benchmarks"),
}


def study_section(key: str, folder) -> str:
    """A table of a recorded study, ``NAME.TABLE``, from a checkout's ``studies/results`` `folder`
    (written by ``seqmnist_zoo.studies.runner``).

    Examples:
        >>> results = pathlib.Path("studies/results")
        >>> study_section("plain_rnn.summary", results).splitlines()[0].startswith("| runs |")
        True
        >>> study_section("nothing.summary", "/nonexistent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: study 'nothing' has no record in /nonexistent: run ...
        >>> study_section("plain_rnn.nope", results)
        Traceback (most recent call last):
        seqmnist_zoo.errors.InvalidArgumentError: study 'plain_rnn' has no table 'nope'; it has: ...
    """
    name, table = key.split(".", 1)
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        raise InvalidArgumentError(f"study {name!r} has no record in {folder}: run "
                                   f"`python -m seqmnist_zoo.studies.runner studies/{name}.json`")
    tables = json.loads(path.read_text(encoding="utf-8")).get("markdown")
    if not tables:
        raise InvalidArgumentError(f"study {name!r} is not reported yet: run `python -m "
                                   f"seqmnist_zoo.studies.runner studies/{name}.json --report-only`")
    if table not in tables:
        raise InvalidArgumentError(f"study {name!r} has no table {table!r}; it has: "
                                   + ", ".join(sorted(tables)))
    return tables[table]


def fill_sections(text: str, root) -> str:
    """Replace the content between each known pair of markers with text generated from the
    records of the checkout at `root`; a missing record is an `InvalidArgumentError`.

    ``<!-- NAME:start -->`` takes a `SECTIONS` entry; ``<!-- study NAME.TABLE:start -->`` a
    study's table (`study_section`).

    Examples:
        >>> "| `lstm` |" in fill_sections("<!-- results:start -->\\n<!-- results:end -->", ".")
        True
    """
    root = Path(root)
    for name, (make, record) in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            continue
        made = make() if record is None else make(root / record)
        text = pattern.sub(lambda m, made=made: m.group(1) + made + "\n" + m.group(2), text)
    pattern = re.compile(r"(<!-- study ([\w.]+):start -->\n).*?(<!-- study \2:end -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + study_section(m.group(2), root / "studies" / "results")
                       + "\n" + m.group(3), text)


def main(argv=None) -> None:
    """Regenerate the sections of each file from the records of the checkout it lies in."""
    parser = argparse.ArgumentParser(prog="python -m tools.cards", description=main.__doc__)
    parser.add_argument("files", nargs="+", type=Path,
                        help="markdown files with <!-- NAME:start --> sections")
    args = parser.parse_args(argv)
    for path in args.files:
        if not path.is_file():
            parser.error(f"{path}: no such file")
        root = next((p for p in path.resolve().parents if (p / "benchmarks").is_dir()), Path.cwd())
        text = path.read_text(encoding="utf-8")
        filled = fill_sections(text, root)
        if filled == text:
            print(f"{path}: already up to date")
            continue
        path.write_text(filled, encoding="utf-8")
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
                  *_spread_rows(record.get("seed_spread")),
                  f"| test loss | {metrics['loss']:.4f} |",
                  f"| best validation accuracy | {training['val_accuracy']:.2%} "
                  f"(epoch {training['best_epoch']} of {training['epochs_run']}) |",
                  f"| training time | {training['train_seconds']:.0f} s on the CPU |",
                  f"| file | `{record['file']}`, sha256 `{record['sha256'][:16]}...` |", "",
                  "Accuracy per digit: " + ", ".join(
                      f"{d}: {a:.2%}" for d, a in enumerate(metrics["per_class_accuracy"])), "",
                  "### Recipe", "", "| setting | value |", "|---|---|"]
        lines += [f"| `{key}` | `{value}` |" for key, value in recipe_shown(record["recipe"]).items()]
        env = ", ".join(f"{k} {v}" for k, v in record["environment"].items())
        tag_option = "" if tag == "mnist" else f" --tag {tag}"
        lines += ["", f"Trained with {env}.", "", "Reproduce and check it:", "", "```bash",
                  f"seqmnist-zoo train {name}{tag_option}",
                  f"python -m tools.publish {name} runs/{name}/version_0/{name}.weights.h5{tag_option}"
                  "  # the path train printed",
                  f"seqmnist-zoo evaluate {name} --weights {tag}", "```", ""]
    if not info["weights"]:
        lines += ["No pretrained weights are shipped for this model.", ""]
    return "\n".join(lines)


def _spread_rows(spread) -> list[str]:
    if not spread:
        return []
    return [f"| same recipe over seeds | {spread_text(spread)}: {seeds_text(spread)} "
            f"(`{spread['command']}`) |"]


if __name__ == "__main__":
    main()
