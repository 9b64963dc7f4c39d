"""Tables and model cards generated from the weights manifest, the one record of every number.

``python -m seqmnist_zoo.cards README.md [more.md ...]`` rewrites each file's generated sections,
found between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .registry import list_models, model_info


def results_table() -> str:
    """A markdown table of every shipped weights file: accuracy, loss, size and recipe.

    Example:
        >>> results_table().splitlines()[0].startswith("| model |")
        True
    """
    rows = [
        "| model | test accuracy | test loss | parameters | timesteps | units | epochs "
        "| learning rate | clipnorm | reproduce |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in list_models(pretrained=True):
        record = model_info(name)["weights"]["mnist"]
        recipe, config, metrics = record["recipe"], record["config"], record["metrics"]
        rows.append(
            f"| `{name}` | {metrics['accuracy']:.2%} | {metrics['loss']:.4f} "
            f"| {record['num_params']:,} | {config['timesteps']} | {config['units']} "
            f"| {recipe['epochs']} | {recipe['learning_rate']:g} | {recipe['clipnorm'] or '-'} "
            f"| `seqmnist-zoo train {name}` |"
        )
    return "\n".join(rows)


SECTIONS = {"results": results_table}


def fill_sections(text: str) -> str:
    """Replace the content between each known pair of markers with freshly generated text.

    Example:
        >>> "| `lstm` |" in fill_sections("<!-- results:start -->\\n<!-- results:end -->")
        True
    """
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main(argv=None) -> None:
    for path in map(Path, argv if argv is not None else sys.argv[1:]):
        path.write_text(fill_sections(path.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"updated {path}")


if __name__ == "__main__":
    main()
