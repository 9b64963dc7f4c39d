"""The ``seqmnist-zoo`` command line: thin click commands over the public API."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from .. import __version__
from ..errors import SeqMnistZooError
from ..models.pretrained import check_start_shape
from ..models.registry import get_model_spec, list_models, model_info
from ..models.specs import ROBUST_TAG, recipe_shown, seeds_text, spread_text


def _units(value: str | None):
    """'128' -> 128, '128,64' -> (128, 64)."""
    if value is None:
        return None
    try:
        parts = tuple(int(p) for p in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an integer or a comma list like 128,64") from None
    return parts[0] if len(parts) == 1 else parts


def _shape_options(command):
    """--timesteps and --units, for a weights file whose train record (.json) is not beside it."""
    command = click.option("--units", help="For a weights file without its .json record: its hidden "
                                           "units (a comma list for stacked_lstm).")(command)
    return click.option("--timesteps", type=int, help="For a weights file without its .json record: "
                                                      "the timesteps it was trained with.")(command)


class ClipNorm(click.ParamType):
    """A positive gradient-norm clip, or 'none' (returned as 0: no clipping)."""

    name = "NUMBER|none"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return value
        if str(value).lower() in ("none", "off", "0"):
            return 0.0
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not number > 0:
            self.fail(f"{value!r} is not a positive number or 'none'", param, ctx)
        return number


class Teachers(click.ParamType):
    """A comma list of NAME:TAG weights (checked by `Recipe`), or 'none' (an empty tuple)."""

    name = "NAME:TAG,...|none"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        if str(value).strip().lower() in ("none", "off"):
            return ()
        return tuple(part.strip() for part in str(value).split(","))


class Integers(click.IntRange):
    """click's IntRange, named so that a refusal reads "'2.5' is not a valid integer"."""

    name = "integer"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqmnist-zoo")
@click.option("-v", "--verbose", is_flag=True,
              help="Show TensorFlow's and Keras' own log messages (hidden by default).")
@click.pass_context
def cli(ctx, verbose):
    """Recurrent MNIST classifiers that read digits as sequences: list, inspect, train, evaluate,
    predict and tune them. MNIST is read from $SEQMNIST_ZOO_DATA or the Keras cache."""
    if not verbose:
        from ..quiet import framework_logs_silenced

        ctx.with_resource(framework_logs_silenced())


TEST_ACC_TITLE = "test acc ('mnist')"


@cli.command("list")
@click.argument("pattern", default="*")
@click.option("--pretrained", is_flag=True, help="Only models that ship weights.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(pattern, pretrained, as_json):
    """List the models whose name matches PATTERN (fnmatch wildcards, e.g. '*lstm').

    Test accuracy and its spread over seeds are the 'mnist' weights'; `info NAME` gives every
    tag's, including 'mnist-robust', which predict reads with by default.
    """
    names = list_models(pattern, pretrained=pretrained)
    if as_json:
        click.echo(json.dumps([_summary(n) for n in names], indent=2))
        return
    if not names:
        raise click.UsageError(f"no model matches {pattern!r}; known: {', '.join(list_models())}")
    rows = [_summary(n) for n in names]
    tags = {row["name"]: ",".join(row["weights"]) or "-" for row in rows}
    width = max(8, *map(len, tags.values())) + 2  # the weights column fits its longest entry
    click.echo(f"{'name':<14}{'params':>9}  {'weights':<{width}}{TEST_ACC_TITLE}  "
               f"{'same recipe over seeds':<25}description")
    for row in rows:
        acc = f"{row['test_accuracy']:.2%}" if row["test_accuracy"] is not None else "-"
        click.echo(f"{row['name']:<14}{row['num_params'] or '?':>9}  "
                   f"{tags[row['name']]:<{width}}{acc:>{len(TEST_ACC_TITLE)}}  "
                   f"{spread_text(row['seed_spread']):<25}{row['description']}")


def _summary(name: str) -> dict:
    info = model_info(name)
    mnist = info["weights"].get("mnist", {})
    return {"name": name, "family": info["family"], "num_params": info["num_params"],
            "weights": sorted(info["weights"]), "description": info["description"],
            "test_accuracy": mnist.get("metrics", {}).get("accuracy"),
            "seed_spread": mnist.get("seed_spread")}


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name, as_json):
    """Show a model's defaults, parameter count, recipe and shipped weights."""
    data = model_info(name)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{data['name']} ({data['family']}): {data['description']}")
    click.echo(f"  defaults: {data['defaults']}")
    click.echo(f"  parameters at defaults: {data['num_params']:,}")
    click.echo(f"  recipe: {recipe_shown(data['recipe'])}")
    if data["notes"]:
        click.echo(f"  note: {data['notes']}")
    for tag, record in data["weights"].items():
        metrics = record["metrics"]
        click.echo(f"  weights {tag!r}: {record['file']}, test accuracy "
                   f"{metrics.get('accuracy', float('nan')):.2%}, sha256 {record['sha256'][:16]}...")
        if tag != "mnist" and record.get("recipe"):  # "mnist" weights are made by the recipe above
            click.echo(f"    its recipe: {recipe_shown(record['recipe'])}")
        spread = record.get("seed_spread")
        if spread:
            click.echo(f"  same recipe over seeds: {spread_text(spread)} ({seeds_text(spread)}; "
                       f"`{spread['command']}` in a checkout of the repository)")
    if not data["weights"]:
        click.echo("  weights: none shipped")


@cli.command()
@click.argument("name")
@click.option("--epochs", type=Integers(min=1), help="Override the recipe's epochs.")
@click.option("--batch-size", type=Integers(min=1), help="Override the batch size.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True))
@click.option("--timesteps", type=int, help="Rows per image; any divisor of 784.")
@click.option("--units", help="Hidden units; a comma list for stacked_lstm (e.g. 128,64).")
@click.option("--clipnorm", type=ClipNorm(),
              help="Gradient-norm clip: a positive number, or 'none' to train without clipping.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), help="Dropout before the head.")
@click.option("--seed", type=int, help="Override the recipe's seed.")
@click.option("--train-samples", type=Integers(min=10),
              help="Fit on only N images (quick runs); validation shrinks to N/5.")
@click.option("--logdir", type=click.Path(file_okay=False), help="TensorBoard log folder.")
@click.option("--output", type=click.Path(dir_okay=False),
              help="Best checkpoint path (default: a new runs/NAME/version_N/NAME.weights.h5).")
@click.option("--overwrite", is_flag=True, help="Allow --output to replace an existing checkpoint.")
@click.option("--data", type=click.Path(), help="MNIST .npz or folder (default $SEQMNIST_ZOO_DATA).")
@click.option("--tag", default="mnist", show_default=True, type=click.Choice(["mnist", ROBUST_TAG]),
              help=f"Which shipped weights' recipe: {ROBUST_TAG} trains on from the mnist weights "
                   "with handwriting rewrites, for real handwriting.")
@click.option("--teachers", type=Teachers(),
              help="Override the recipe's teachers: a comma list of NAME:TAG weights whose answers "
                   "the targets mix in (e.g. bilstm:mnist-robust), or 'none' for the labels alone.")
def train(name, epochs, batch_size, learning_rate, timesteps, units, clipnorm, dropout, seed,
          train_samples, logdir, output, overwrite, data, tag, teachers):
    """Train NAME with its shipped recipe (options override it); keeps the best epoch.

    Each run gets its own folder runs/NAME/version_N/ unless --output names the checkpoint. On a
    CPU, TensorFlow runs one thread per op (SEQMNIST_ZOO_THREADS=default keeps its own layout).
    """
    spec = get_model_spec(name)  # an unknown name fails before TensorFlow loads
    recipe = spec.recipe_for(tag)
    if output and Path(output).exists() and not overwrite:
        raise click.UsageError(f"{output} already exists; pass --overwrite to replace it, or leave "
                               "--output out to get a new runs/NAME/version_N/ folder")
    check_start_shape(spec, recipe, tag, {"timesteps": timesteps or spec.defaults["timesteps"],
                                          "units": _units(units) or spec.defaults["units"]})
    if teachers is not None:
        recipe = replace(recipe, teachers=teachers)  # a malformed teacher is refused here
    if recipe.teachers:
        from ..training.teachers import check_teachers

        check_teachers(recipe.teachers)  # names and tags exist, before TensorFlow starts
        share = recipe.label_weight
        click.echo(f"taught by {', '.join(recipe.teachers)}: each target is {share:g} label + "
                   f"{1 - share:g} their answer softened at temperature {recipe.temperature:g} (the "
                   f"training loss and accuracy below are against these targets, validation against "
                   f"the labels)")
    from ..training.threads import owned_process_threads

    owned_process_threads()
    from ..training.fit import train as run_training

    result = run_training(
        name, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
        timesteps=timesteps, units=_units(units), clipnorm=clipnorm, dropout=dropout, seed=seed,
        train_samples=train_samples, logdir=logdir, output=output, overwrite=overwrite, data=data,
        tag=tag, teachers=teachers,
        verbose="auto" if sys.stdout.isatty() else 2)  # a log file gets a line per epoch
    record = result.record
    if record["best_epoch"] is None:
        raise SeqMnistZooError("interrupted before the first epoch ended; nothing was saved")
    click.echo(f"best epoch {record['best_epoch']}: val accuracy {record['val_accuracy']:.4f}; "
               f"weights in {result.output}")
    if record.get("warning"):
        _say("warning", record["warning"])
    if result.interrupted:
        click.echo("interrupted: the best checkpoint so far is kept", err=True)
        sys.exit(130)


@cli.command()
@click.argument("name")
@click.option("--weights", default="mnist", show_default=True,
              help="A pretrained tag or a .weights.h5 file (e.g. from `train`).")
@_shape_options
@click.option("--data", type=click.Path(), help="MNIST .npz or folder (default $SEQMNIST_ZOO_DATA).")
@click.option("--logdir", type=click.Path(file_okay=False),
              help="Also write the confusion matrix and mistakes as TensorBoard images.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate(name, weights, timesteps, units, data, logdir, as_json):
    """Accuracy, loss, per-class accuracy and confusion matrix of NAME on the MNIST test set."""
    model = _load(name, weights, timesteps, units, shape_options=True)
    from ..training.evaluation import evaluate as run_evaluation

    result = run_evaluation(model, weights=weights, data=data, logdir=logdir)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{name} ({weights}) on {result['samples']} test images: accuracy "
               f"{result['accuracy']:.4%}, loss {result['loss']:.4f}")
    click.echo("per class: " + "  ".join(
        f"{digit}:{acc:.2%}" for digit, acc in enumerate(result["per_class_accuracy"])))
    click.echo("confusion matrix (rows: true digit, columns: predicted):")
    click.echo("     " + "".join(f"{d:>6}" for d in range(10)))
    for digit, row in enumerate(result["confusion_matrix"]):
        click.echo(f"{digit:>5}" + "".join(f"{n:>6}" for n in row))


@cli.command()
@click.argument("name")
@click.option("--weights", default="mnist", show_default=True, help="A tag or a .weights.h5 file.")
@_shape_options
@click.option("--output", default="report", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the PNG files and summary.md.")
@click.option("--data", type=click.Path(), help="MNIST .npz or folder (default $SEQMNIST_ZOO_DATA).")
@click.option("--overwrite", is_flag=True, help="Replace the files of an earlier report in --output.")
def report(name, weights, timesteps, units, output, data, overwrite):
    """Write NAME's confusion matrix, misclassified digits, per-class accuracy and row-by-row reading
    as PNG files, with a summary.md."""
    _refuse_to_replace(output, overwrite, "an earlier report")
    model = _load(name, weights, timesteps, units, shape_options=True)
    from ..training.evaluation import evaluate as run_evaluation

    result = run_evaluation(model, weights=weights, data=data, report_dir=output)
    click.echo(f"{name} ({weights}): accuracy {result['accuracy']:.4%}; report in {output}/")
    for file in sorted(os.listdir(output)):
        click.echo(f"  {output}/{file}")


def _refuse_to_replace(folder, overwrite: bool, what: str) -> None:
    """A folder that already holds files is only written into with --overwrite."""
    if not overwrite and Path(folder).is_dir() and any(Path(folder).iterdir()):
        raise click.UsageError(f"{folder} already holds files ({what}?); pass --overwrite to replace "
                               "them, or choose another folder")


def _refuse_folder_being_read(folder, images) -> None:
    """--save-inputs may not name a folder this run reads, or one holding a picture it reads: the
    next run of that folder would read the saved digits as pictures."""
    target = Path(folder).resolve()
    for image in map(Path, images):
        read_here = image if image.is_dir() else image.parent
        if read_here.resolve() == target:
            what = "a folder being read" if image.is_dir() else f"the folder of {image}"
            raise click.UsageError(f"--save-inputs {folder} is {what}: a run reading that folder would "
                                   "read the saved 28x28 digits and contact sheet as pictures; choose "
                                   "another folder")


def _load(name: str, weights: str, timesteps, units, shape_options: bool = False):
    """Build NAME with `weights`; a file's sibling JSON record (from `train`) supplies its config.

    `shape_options`: the command has --timesteps and --units (named in the advice when a file
    without its record does not fit the defaults).
    """
    get_model_spec(name)
    from ..models.pretrained import read_run_config, run_record_path

    config = read_run_config(weights)
    recorded = bool(config)
    if timesteps is not None:
        config["timesteps"] = timesteps
    if units is not None:
        config["units"] = _units(units)
    from ..errors import WeightsMismatchError
    from ..models.factory import get_model

    try:
        return get_model(name, weights=weights, **config)
    except WeightsMismatchError as err:
        if timesteps is not None or units is not None:
            raise
        record = run_record_path(weights)
        what = err.facts  # the factory's advice is replaced by the CLI's
        if recorded:
            raise WeightsMismatchError(f"{what}; the shape was read from {record.name} beside it: "
                                       "is it the record of this weights file?") from None
        how = "pass --timesteps and --units, or put " if shape_options else "put "
        where = (f"{record.name} beside it has no \"config\"" if record.is_file()
                 else f"no {record.name} is beside it")
        raise WeightsMismatchError(
            f"{what}; was it trained as {name}? If so, {where} to give its shape: {how}the .json "
            "`seqmnist-zoo train` wrote with it beside it") from None


@cli.command()
@click.argument("name")
@click.argument("images", nargs=-1, required=True, type=click.Path())
@click.option("--weights", help="A tag or a .weights.h5 file [default: mnist-robust where shipped, "
                                 "it reads real handwriting better; else mnist].")
@_shape_options
@click.option("--top-k", type=Integers(1, 10), default=3, show_default=True,
              help="How many digits to show per image, most likely first.")
@click.option("--invert/--no-invert", default=None,
              help="Force reading the picture as dark ink on light paper (or not); default: detect.")
@click.option("--raw", is_flag=True,
              help="Inputs are already MNIST-form 28x28 digits (light on black): do not normalise.")
@click.option("--save-inputs", type=click.Path(file_okay=False),
              help="Write the 28x28 digits the model saw (PNG each, plus contact_sheet.png) here.")
@click.option("--overwrite", is_flag=True, help="Replace the pictures an earlier run saved in --save-inputs.")
@click.option("--each-digit", is_flag=True,
              help="Read every digit-sized mark of a picture (\"42\": two answers, IMAGE#1 and IMAGE#2).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: every input, failed ones with their error.")
def predict(name, images, weights, timesteps, units, top_k, invert, raw, save_inputs, overwrite, each_digit,
            as_json):
    """Classify pictures of digits: files (PNG, JPEG, GIF, BMP, WebP, TIFF, .npy) or folders
    (the image files directly in them; subfolders are not searched).

    Any size, dark-on-light or light-on-dark, transparent or not: each picture is read the way
    MNIST was made (cropped to its ink, fitted in 20x20, centred by mass in 28x28). A file that
    cannot be read or holds no digit is reported on its own line; the others are still predicted,
    and the exit status is 1.
    """
    get_model_spec(name)
    if save_inputs:
        _refuse_folder_being_read(save_inputs, images)
        _refuse_to_replace(save_inputs, overwrite, "the pictures of an earlier run")
    prepared = _prepared(images, invert=invert, raw=raw, each_digit=each_digit)
    failed = [item for item in prepared if not item.ok]
    for item in failed:
        _say("error", str(item.error))
    from ..inference.predict import rank

    weights = weights or get_model_spec(name).reader_weights
    model = None
    if len(failed) < len(prepared):
        model = _load(name, weights, timesteps, units, shape_options=True)
    answers = _warnings_said(rank, model, prepared, top_k)
    if as_json:
        click.echo(json.dumps([answer.to_dict() for answer in answers], indent=2))
    else:
        for answer in answers:
            if answer.ok:
                click.echo(f"{answer.source}: " + ", ".join(f"{d} ({p:.1%})" for d, p in answer.top))
    read = [answer for answer in answers if answer.ok]
    if save_inputs and read:
        from ..reports import write_inputs

        written = write_inputs(save_inputs, read)
        click.echo(f"the {len(read)} digit(s) the model saw: {written[-1]}", err=True)
    if failed:
        sys.exit(1)


def _prepared(images, **options):
    """The reader's digits, its warnings said on stderr as the zoo's own lines (once each)."""
    from ..inputs.preprocess import prepare_each

    return _warnings_said(prepare_each, images, **options)


def _warnings_said(function, *args, **kwargs):
    """Call `function`; the warnings it gives are said on stderr as the zoo's own lines (once each)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    for message in dict.fromkeys(str(w.message) for w in caught):
        _say("warning", message)
    return result


@cli.command()
@click.argument("name")
@click.argument("image", type=click.Path())
@click.option("--weights", help="A tag or a .weights.h5 file [default: mnist-robust where shipped, "
                                 "else mnist, as predict].")
@click.option("--invert/--no-invert", default=None,
              help="Force reading the picture as dark ink on light paper (or not); default: detect.")
@_shape_options
@click.option("--raw", is_flag=True, help="IMAGE is already an MNIST-form 28x28 digit.")
@click.option("--gif", type=click.Path(dir_okay=False), help="Also write the reading as an animated GIF.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --gif file.")
@click.option("--json", "as_json", is_flag=True, help="Print the belief after every step as JSON.")
def read(name, image, weights, invert, timesteps, units, raw, gif, overwrite, as_json):
    """Show what NAME believes after each timestep while it reads IMAGE row by row."""
    get_model_spec(name)
    if gif and Path(gif).exists() and not overwrite:
        raise click.UsageError(f"{gif} exists; pass --overwrite to replace it, or name another file")
    from ..inputs.preprocess import all_prepared

    prepared = all_prepared(_prepared(image, invert=invert, raw=raw))
    if len(prepared) != 1:
        raise click.UsageError(f"{image} holds {len(prepared)} digits; read takes one picture")
    digit = prepared[0]
    from ..inference.reading import decided_at, read_along

    weights = weights or get_model_spec(name).reader_weights
    beliefs = read_along(_load(name, weights, timesteps, units, shape_options=True), digit.image[None])[0]
    final = int(beliefs[-1].argmax())
    if as_json:
        click.echo(json.dumps({"image": digit.source, "weights": str(weights), "steps": len(beliefs),
                               "answer": final, "decided_at": decided_at(beliefs),
                               "beliefs": [[round(float(p), 6) for p in row] for row in beliefs]}))
    else:
        click.echo(f"{digit.source}, read by {name} (weights {weights}) in {len(beliefs)} steps of "
                   f"{784 // len(beliefs)} pixels:")
        for step, row in enumerate(beliefs, start=1):
            top = int(row.argmax())
            click.echo(f"  step {step:>3}/{len(beliefs)}: {top} ({row[top]:.1%})")
        click.echo(f"answer {final} ({beliefs[-1, final]:.1%}), unchanged from step "
                   f"{decided_at(beliefs)} on")
    if gif:
        from ..inference.reading_plots import write_reading_gif

        click.echo(f"animation: {write_reading_gif(gif, digit.image, beliefs, name)}", err=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; 0.0.0.0 makes the page reachable from other machines.")
@click.option("--port", type=Integers(1, 65535), default=7860, show_default=True)
def demo(host, port):
    """Serve a local page where you draw a digit and watch every family read it."""
    from .demo import launch, require_gradio

    require_gradio()  # before the line that says where to open it
    click.echo(f"seqmnist-zoo demo: open http://{host}:{port} (Ctrl-C to stop)", err=True)
    launch(host=host, port=port)


@cli.command("export")
@click.argument("name")
@click.option("--format", "export_format", type=click.Choice(["saved_model", "onnx", "litert"]),
              required=True, help="SavedModel folder, .onnx file or LiteRT .tflite file.")
@click.option("--weights", default="mnist", show_default=True, help="A tag or a .weights.h5 file.")
@_shape_options
@click.option("--output", type=click.Path(), help="Default: exports/NAME.onnx, .tflite or _saved_model.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Run the file in its own runtime on 1,000 MNIST test digits and compare with Keras.")
@click.option("--data", type=click.Path(), help="MNIST .npz or folder (default $SEQMNIST_ZOO_DATA).")
def export_command(name, export_format, weights, timesteps, units, output, overwrite, check, data):
    """Export NAME as a deployable file, with its input contract in OUTPUT.json beside it."""
    get_model_spec(name)
    from .export import default_path, export_model, require_runtime

    require_runtime(export_format)
    model = _load(name, weights, timesteps, units, shape_options=True)
    images = None
    if check:
        from ..inputs.data import load_mnist

        images = load_mnist(data)[1][0][:1000]
    from ..models.pretrained import weights_sha256

    path = Path(output) if output else default_path(name, export_format)
    if path.exists() and not overwrite:
        raise click.UsageError(f"{path} already exists; pass --overwrite to replace it, or --output "
                               "another path")
    contract = export_model(model, path, export_format, overwrite=overwrite, check_images=images,
                            weights_sha256=weights_sha256(get_model_spec(name), weights))
    click.echo(f"wrote {path} (input contract: {path}.json)")
    if check:
        result = contract["check"]
        click.echo(f"check in {result['runtime']} on {result['images']:,} MNIST test digits: "
                   f"same top-1 digit as Keras for {result['same_top1']:,}, largest probability "
                   f"difference {result['max_abs_difference']:.1e}")


class _TuneCommand(click.Command):
    """`tune`, whose help ends with the search spaces and what each tuner needs."""

    def format_epilog(self, ctx, formatter):
        from ..models.registry import list_models
        from ..tuning.spaces import default_space, describe_space, shipped_spaces

        by_space: dict[str, list[str]] = {}
        for name in list_models():
            by_space.setdefault(describe_space(default_space(name)), []).append(name)
        with formatter.section("Default search space (without --space)"):
            formatter.write_dl([(", ".join(names), text) for text, names in by_space.items()])
        with formatter.section("Shipped spaces (--space NAME; any JSON file of that form works too)"):
            formatter.write_dl(list(shipped_spaces().items()))
        with formatter.section("Notes"):
            formatter.write_text(
                "A GPU is used automatically when the backend sees one (cuDNN kernels on "
                "TensorFlow); --distribution mirrored spreads each trial over all local GPUs. "
                "--tuner bayesian needs scikit-learn: pip install 'seqmnist-zoo[bayesian]'. "
                "Re-running a project with the same settings resumes it; --max-trials may grow.")


@cli.command(cls=_TuneCommand)
@click.argument("name")
@click.option("--tuner", "tuner_kind", type=click.Choice(["random", "hyperband", "bayesian", "grid"]),
              help="Search algorithm (default: the space file's, else random).")
@click.option("--max-trials", type=Integers(min=1), help="Trials in all (default 10).")
@click.option("--epochs", type=Integers(min=1), help="Epochs per trial (default 3).")
@click.option("--executions-per-trial", type=Integers(min=1), default=1, show_default=True)
@click.option("--train-samples", type=Integers(min=10), help="Search on only N images.")
@click.option("--batch-size", type=Integers(min=1), help="Default: the family's recipe.")
@click.option("--space", help="A shipped space's name (listed below) or a JSON space file.")
@click.option("--directory", default="tuning_runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--project-name", help="Default: NAME. Re-running the same project resumes it.")
@click.option("--overwrite", is_flag=True, help="Discard the project's trials and start afresh.")
@click.option("--logdir", type=click.Path(file_okay=False), help="TensorBoard logs with HParams.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--distribution", type=click.Choice(["none", "mirrored"]), default="none",
              show_default=True, help="mirrored: tf.distribute.MirroredStrategy over local GPUs.")
@click.option("--tuner-id", help="Distributed search: 'chief', or a worker id such as tuner0.")
@click.option("--oracle-ip", help="Distributed search: the chief's address.")
@click.option("--oracle-port", type=Integers(1, 65535), help="Distributed search: its port.")
def tune(name, tuner_kind, max_trials, epochs, executions_per_trial, train_samples, batch_size,
         space, directory, project_name, overwrite, logdir, seed, distribution, tuner_id,
         oracle_ip, oracle_port):
    """Search NAME's units, learning rate and timesteps with KerasTuner (resumable).

    On a CPU, TensorFlow runs one thread per op (SEQMNIST_ZOO_THREADS=default keeps its own layout).
    """
    get_model_spec(name)
    distributed = [tuner_id, oracle_ip, oracle_port]
    if any(v is not None for v in distributed) and None in distributed:
        raise click.UsageError("a distributed search needs --tuner-id, --oracle-ip and --oracle-port")
    if tuner_id is not None:
        os.environ.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=oracle_ip,
                          KERASTUNER_ORACLE_PORT=str(oracle_port))
    from ..training.threads import owned_process_threads

    owned_process_threads()
    from ..tuning.search import tune as run_search
    from ..tuning.spaces import load_space

    settings = load_space(space) if space else {"hyperparameters": None}
    if distribution == "mirrored":
        from ..training.cpu_path import has_gpu

        if not has_gpu():
            _say("note", "--distribution mirrored: no GPU is visible, so each trial trains on the "
                 "CPU as one replica, as it would without the option")
    if (tuner_kind or settings.get("tuner")) == "hyperband" and max_trials is not None:
        _say("warning", "Hyperband does not count trials: it sizes its brackets from --epochs (its "
             "max_epochs, factor 3), so --max-trials is not used; with --epochs 1 it trains a single "
             "trial. Raise --epochs for a wider search.")
    max_trials_value = max_trials or settings.get("max_trials", 10)
    result = run_search(
        name, tuner=tuner_kind or settings.get("tuner", "random"), max_trials=max_trials_value,
        epochs=epochs or settings.get("epochs", 3), executions_per_trial=executions_per_trial,
        train_samples=train_samples or settings.get("train_samples"),
        batch_size=batch_size or settings.get("batch_size"), space=settings["hyperparameters"],
        directory=directory, project_name=project_name, overwrite=overwrite, logdir=logdir,
        seed=seed, distribution=distribution,
        verbose="auto" if sys.stdout.isatty() else 2,  # a log file gets a line per epoch, no bars
        on_start=lambda project: _say_what_happens_to(project, overwrite, max_trials_value))
    if result.summary is None:
        click.echo(f"worker {tuner_id} finished; the chief reports the results")
        return
    click.echo(f"\nbest hyperparameters: {json.dumps(result.best_hyperparameters)}")
    click.echo(f"{'trial':<7}{'status':<11}{'val acc':>9}  hyperparameters")
    for trial in result.trials:
        score = f"{trial['score']:.4f}" if trial["score"] is not None else "-"
        click.echo(f"#{trial['trial']:<6}{trial['status']:<11}{score:>9}  "
                   f"{json.dumps(trial['hyperparameters'])}")
    if result.best_model:
        click.echo(f"best model: {result.best_model}")
    click.echo(f"all trials: {result.summary}")
    summary = json.loads(result.summary.read_text())
    if summary.get("warning"):
        _say("warning", summary["warning"])
    else:
        click.echo(f"retrain into weights: {summary['retrain']}")


def _say_what_happens_to(project: Path, overwrite: bool, max_trials: int) -> None:
    """A note on what `tune` does with the trials an existing project holds."""
    from ..tuning.tuners import project_trials

    trials = project_trials(project) if project.is_dir() else {}
    if not trials:  # a new project, or a damaged one (its error follows)
        return
    held = sum(trials.values())
    if overwrite:
        _say("note", f"--overwrite: discarding the {held} earlier trial(s) of {project}")
        return
    unfinished = trials.get("RUNNING", 0) + trials.get("IDLE", 0)
    if unfinished == 0 and held >= max_trials:
        _say("note", f"{project} already holds {held} finished trial(s) (--max-trials {max_trials}): "
             "nothing to train; reporting them")
    else:
        again = f", {unfinished} interrupted one(s) run again" if unfinished else ""
        _say("note", f"resuming {project}: {held - unfinished} finished trial(s) kept{again}")


def main(argv=None) -> None:
    """Run the CLI; user mistakes print one line (exit 2), failures one line (exit 1)."""
    try:
        code = cli.main(args=argv, prog_name="seqmnist-zoo", standalone_mode=False)
    except click.UsageError as err:
        _fail(err.format_message(), 2)
    except click.ClickException as err:
        _fail(err.format_message(), err.exit_code)
    except SeqMnistZooError as err:
        _fail(str(err), err.exit_code)
    except (KeyboardInterrupt, click.Abort):
        _fail("interrupted", 130)
    except OSError as err:  # a file the user named: unwritable folder, full disk, ...
        _fail(str(err), 1)
    except Exception as err:
        if _verbose(argv):
            raise
        _fail(f"unexpected {type(err).__name__}: {err} (run with -v for the full traceback)", 1)
    sys.exit(code if isinstance(code, int) else 0)


MAX_MESSAGE = 400


def _fail(message: str, code: int) -> None:
    _say("error", message)
    sys.exit(code)


def _say(kind: str, message: str) -> None:
    """One bounded line on stderr: ``seqmnist-zoo: KIND: MESSAGE``."""
    message = " ".join(message.split())
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE - 3] + "..."
    click.echo(f"seqmnist-zoo: {kind}: {message}", err=True)


def _verbose(argv) -> bool:
    args = sys.argv[1:] if argv is None else argv
    return any(a in ("-v", "--verbose") for a in args)
