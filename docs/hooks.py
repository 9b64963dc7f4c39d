"""mkdocs hooks: every number and reference on the site is generated, never typed.

- one model card page per registered model (from the weights manifest);
- the CLI reference (from the click commands' own help);
- marked sections (``<!-- NAME:start -->`` ... ``<!-- NAME:end -->``) filled by tools.cards,
  plus the README's quick start and the tuning study's table;
- the studies' figures (``studies/results/*.png``) as ``images/studies/``.
"""

import json
import re
import sys
from pathlib import Path

import click
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from seqmnist_zoo.apps.cli import cli
from seqmnist_zoo.errors import InvalidArgumentError
from seqmnist_zoo.models.registry import list_models

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tools/
from tools import cards  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def on_config(config):
    cards_nav = [{name: f"models/{name}.md"} for name in list_models()]
    for entry in config["nav"]:
        if isinstance(entry, dict) and "Model cards" in entry:
            entry["Model cards"] = [entry["Model cards"][0], *cards_nav]
    return config


def on_files(files, config):
    for name in list_models():
        files.append(File.generated(config, f"models/{name}.md", content=cards.model_card(name)))
    files.append(File.generated(config, "cli.md", content=cli_reference()))
    study = ROOT / "tuning" / "results" / "timesteps_study.png"
    if study.is_file():
        files.append(File.generated(config, "images/timesteps_study.png",
                                    content=study.read_bytes()))
    for figure in sorted((ROOT / "studies" / "results").glob("*.png")):
        files.append(File.generated(config, f"images/studies/{figure.name}",
                                    content=figure.read_bytes()))
    for example in sorted((ROOT / "examples").glob("*.*")):
        if example.suffix.lower() in (".png", ".jpg"):
            files.append(File.generated(config, f"images/examples/{example.name}",
                                        content=example.read_bytes()))
    return files


def on_page_markdown(markdown, page, config, files):
    try:
        markdown = cards.fill_sections(markdown, ROOT)
    except InvalidArgumentError as err:
        raise PluginError(f"{page.file.src_path}: {err}") from None
    markdown = markdown.replace("<!-- readme:quickstart -->", readme_section("Quick start"))
    markdown = markdown.replace("<!-- readme:layout -->", readme_section("How the code is laid out"))
    markdown = markdown.replace("<!-- study:timesteps -->", timesteps_study())
    return markdown


def readme_section(title: str) -> str:
    """The body of the README's ``## title`` section, so the site repeats it without a copy."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0].strip()


def cli_reference() -> str:
    lines = ["# Command line reference", "",
             "Generated from the commands' own `--help`; `seqmnist-zoo COMMAND --help` prints "
             "the same.", ""]
    root = click.Context(cli, info_name="seqmnist-zoo")
    lines += ["```text", cli.get_help(root), "```", ""]
    for name, command in sorted(cli.commands.items()):
        context = click.Context(command, info_name=f"seqmnist-zoo {name}", parent=root)
        lines += [f"## {name}", "", "```text", command.get_help(context), "```", ""]
    return "\n".join(lines)


def timesteps_study() -> str:
    results = ROOT / "tuning" / "results" / "timesteps_study.json"
    if not results.is_file():
        return "The study has not been run yet: run the command above."
    data = json.loads(results.read_text(encoding="utf-8"))
    return re.sub(r"\n{3,}", "\n\n", data["table"])
