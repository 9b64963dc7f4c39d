"""The ``seqmnist-zoo`` command line: thin click commands over the public API."""

from __future__ import annotations

import json
import os
import sys

import click

from . import __version__
from .errors import SeqMnistZooError
from .registry import get_model_spec, list_models, model_info


def _units(value: str | None):
    """'128' -> 128, '128,64' -> (128, 64)."""
    if value is None:
        return None
    try:
        parts = tuple(int(p) for p in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an integer or a comma list like 128,64") from None
    return parts[0] if len(parts) == 1 else parts


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="seqmnist-zoo")
def cli():
    """Recurrent MNIST classifiers that read digits as sequences: list, inspect, train, evaluate,
    predict and tune them. MNIST is read from $SEQMNIST_ZOO_DATA or the Keras cache."""


@cli.command("list")
@click.argument("pattern", default="*")
@click.option("--pretrained", is_flag=True, help="Only models that ship weights.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(pattern, pretrained, as_json):
    """List the models whose name matches PATTERN (fnmatch wildcards, e.g. '*lstm')."""
    names = list_models(pattern, pretrained=pretrained)
    if as_json:
        click.echo(json.dumps([_summary(n) for n in names], indent=2))
        return
    if not names:
        raise click.UsageError(f"no model matches {pattern!r}; known: {', '.join(list_models())}")
    click.echo(f"{'name':<14}{'params':>9}  {'weights':<8}{'test acc':>9}  description")
    for row in map(_summary, names):
        acc = f"{row['test_accuracy']:.2%}" if row["test_accuracy"] is not None else "-"
        click.echo(f"{row['name']:<14}{row['num_params'] or '?':>9}  "
                   f"{','.join(row['weights']) or '-':<8}{acc:>9}  {row['description']}")


def _summary(name: str) -> dict:
    info = model_info(name)
    mnist = info["weights"].get("mnist", {})
    return {"name": name, "family": info["family"], "num_params": info["num_params"],
            "weights": sorted(info["weights"]), "description": info["description"],
            "test_accuracy": mnist.get("metrics", {}).get("accuracy")}


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
    click.echo(f"  recipe: {data['recipe']}")
    for tag, record in data["weights"].items():
        metrics = record["metrics"]
        click.echo(f"  weights {tag!r}: {record['file']}, test accuracy "
                   f"{metrics.get('accuracy', float('nan')):.2%}, sha256 {record['sha256'][:16]}...")
    if not data["weights"]:
        click.echo("  weights: none shipped")


@cli.command()
@click.argument("name")
@click.option("--epochs", type=click.IntRange(min=1), help="Override the recipe's epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override the batch size.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True))
@click.option("--timesteps", type=int, help="Rows per image; any divisor of 784.")
@click.option("--units", help="Hidden units; a comma list for stacked_lstm (e.g. 128,64).")
@click.option("--clipnorm", type=click.FloatRange(min=0, min_open=True), help="Gradient-norm clip.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), help="Dropout before the head.")
@click.option("--seed", type=int, help="Override the recipe's seed.")
@click.option("--train-samples", type=click.IntRange(min=10), help="Fit on only N images (quick runs).")
@click.option("--logdir", type=click.Path(file_okay=False), help="TensorBoard log folder.")
@click.option("--output", type=click.Path(dir_okay=False),
              help="Best checkpoint path (default runs/NAME/NAME.weights.h5).")
@click.option("--data", type=click.Path(), help="MNIST .npz or folder (default $SEQMNIST_ZOO_DATA).")
def train(name, epochs, batch_size, learning_rate, timesteps, units, clipnorm, dropout, seed,
          train_samples, logdir, output, data):
    """Train NAME with its shipped recipe (options override it); keeps the best epoch."""
    get_model_spec(name)  # an unknown name fails before TensorFlow loads
    from .training import train as run_training

    result = run_training(
        name, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
        timesteps=timesteps, units=_units(units), clipnorm=clipnorm, dropout=dropout, seed=seed,
        train_samples=train_samples,
        logdir=logdir, output=output, data=data)
    record = result.record
    if record["best_epoch"] is None:
        raise SeqMnistZooError("interrupted before the first epoch ended; nothing was saved")
    click.echo(f"best epoch {record['best_epoch']}: val accuracy {record['val_accuracy']:.4f}; "
               f"weights in {result.output}")
    if result.interrupted:
        click.echo("interrupted: the best checkpoint so far is kept", err=True)
        sys.exit(130)


@cli.command()
@click.argument("name")
@click.option("--weights", default="mnist", show_default=True,
              help="A pretrained tag or a .weights.h5 file (e.g. from `train`).")
@click.option("--timesteps", type=int, help="For a weights file: the timesteps it was trained with.")
@click.option("--units", help="For a weights file: its hidden units.")
@click.option("--data", type=click.Path(), help="MNIST .npz or folder (default $SEQMNIST_ZOO_DATA).")
@click.option("--logdir", type=click.Path(file_okay=False),
              help="Also write the confusion matrix and mistakes as TensorBoard images.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def evaluate(name, weights, timesteps, units, data, logdir, as_json):
    """Accuracy, loss, per-class accuracy and confusion matrix of NAME on the MNIST test set."""
    model = _load(name, weights, timesteps, units)
    from .training import evaluate as run_evaluation

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
@click.option("--output", default="report", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the PNG files and summary.md.")
@click.option("--data", type=click.Path(), help="MNIST .npz or folder (default $SEQMNIST_ZOO_DATA).")
def report(name, weights, output, data):
    """Write NAME's confusion matrix, misclassified digits and per-class accuracy as PNG files."""
    model = _load(name, weights, None, None)
    from .training import evaluate as run_evaluation

    result = run_evaluation(model, weights=weights, data=data, report_dir=output)
    click.echo(f"{name} ({weights}): accuracy {result['accuracy']:.4%}; report in {output}/")
    for file in sorted(os.listdir(output)):
        click.echo(f"  {output}/{file}")


def _load(name: str, weights: str, timesteps, units):
    """Build NAME with `weights`; a file's sibling JSON record (from `train`) supplies its config."""
    get_model_spec(name)
    from .pretrained import read_run_config

    config = read_run_config(weights)
    if timesteps is not None:
        config["timesteps"] = timesteps
    if units is not None:
        config["units"] = _units(units)
    from .registry import get_model

    return get_model(name, weights=weights, **config)


@cli.command()
@click.argument("name")
@click.argument("images", nargs=-1, required=True, type=click.Path())
@click.option("--weights", default="mnist", show_default=True, help="A tag or a .weights.h5 file.")
@click.option("--top-k", type=click.IntRange(1, 10), default=1, show_default=True)
@click.option("--invert/--no-invert", default=None,
              help="Force inverting (dark digit on light paper) or not; default: detect.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def predict(name, images, weights, top_k, invert, as_json):
    """Classify IMAGES (PNG, JPEG or .npy, any size) with NAME; bad files are reported, not fatal."""
    get_model_spec(name)
    from .images import read_digits

    loaded, failures = [], 0
    for path in images:
        try:
            loaded.append((path, read_digits(path, invert)))
        except SeqMnistZooError as err:
            click.echo(f"seqmnist-zoo: error: {err}", err=True)
            failures += 1
    if loaded:
        import numpy as np

        model = _load(name, weights, None, None)
        probs = model.predict(np.concatenate([d for _, d in loaded]), verbose=0)
        results, row = [], 0
        for path, digits in loaded:
            for i in range(len(digits)):
                best = np.argsort(probs[row])[::-1][:top_k]
                label = path if len(digits) == 1 else f"{path}[{i}]"
                results.append({"image": label, "top": [
                    {"digit": int(d), "probability": float(probs[row][d])} for d in best]})
                row += 1
        if as_json:
            click.echo(json.dumps(results, indent=2))
        for result in results if not as_json else ():
            click.echo(f"{result['image']}: " + ", ".join(
                f"{t['digit']} ({t['probability']:.1%})" for t in result["top"]))
    if failures:
        sys.exit(1)


@cli.command()
@click.argument("name")
@click.option("--tuner", "tuner_kind", type=click.Choice(["random", "hyperband", "bayesian", "grid"]),
              help="Search algorithm (default: the space file's, else random).")
@click.option("--max-trials", type=click.IntRange(min=1), help="Trials in all (default 10).")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs per trial (default 3).")
@click.option("--executions-per-trial", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--train-samples", type=click.IntRange(min=10), help="Search on only N images.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Default: the family's recipe.")
@click.option("--space", type=click.Path(dir_okay=False), help="A JSON search space (see tuning/).")
@click.option("--directory", default="tuning_runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--project-name", help="Default: NAME. Re-running the same project resumes it.")
@click.option("--overwrite", is_flag=True, help="Discard the project's trials and start afresh.")
@click.option("--logdir", type=click.Path(file_okay=False), help="TensorBoard logs with HParams.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--distribution", type=click.Choice(["none", "mirrored"]), default="none",
              show_default=True, help="mirrored: tf.distribute.MirroredStrategy over local GPUs.")
@click.option("--tuner-id", help="Distributed search: 'chief', or a worker id such as tuner0.")
@click.option("--oracle-ip", help="Distributed search: the chief's address.")
@click.option("--oracle-port", type=click.IntRange(1, 65535), help="Distributed search: its port.")
def tune(name, tuner_kind, max_trials, epochs, executions_per_trial, train_samples, batch_size,
         space, directory, project_name, overwrite, logdir, seed, distribution, tuner_id,
         oracle_ip, oracle_port):
    """Search NAME's units, learning rate and timesteps with KerasTuner (resumable)."""
    get_model_spec(name)
    distributed = [tuner_id, oracle_ip, oracle_port]
    if any(v is not None for v in distributed) and None in distributed:
        raise click.UsageError("a distributed search needs --tuner-id, --oracle-ip and --oracle-port")
    if tuner_id is not None:
        os.environ.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=oracle_ip,
                          KERASTUNER_ORACLE_PORT=str(oracle_port))
    from .tuning import load_space
    from .tuning import tune as run_search

    settings = load_space(space) if space else {"hyperparameters": None}
    result = run_search(
        name, tuner=tuner_kind or settings.get("tuner", "random"),
        max_trials=max_trials or settings.get("max_trials", 10),
        epochs=epochs or settings.get("epochs", 3), executions_per_trial=executions_per_trial,
        train_samples=train_samples or settings.get("train_samples"),
        batch_size=batch_size or settings.get("batch_size"), space=settings["hyperparameters"],
        directory=directory, project_name=project_name, overwrite=overwrite, logdir=logdir,
        seed=seed, distribution=distribution)
    if result.summary is None:
        click.echo(f"worker {tuner_id} finished; the chief reports the results")
        return
    click.echo(f"\nbest hyperparameters: {json.dumps(result.best_hyperparameters)}")
    click.echo(f"{'trial':<7}{'status':<11}{'val acc':>9}  hyperparameters")
    for trial in result.trials:
        score = f"{trial['score']:.4f}" if trial["score"] is not None else "-"
        click.echo(f"{trial['trial_id']:<7}{trial['status']:<11}{score:>9}  "
                   f"{json.dumps(trial['hyperparameters'])}")
    if result.best_model:
        click.echo(f"best model: {result.best_model}")
    click.echo(f"all trials: {result.summary}")
    click.echo(f"retrain into weights: {json.loads(result.summary.read_text())['retrain']}")


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
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    click.echo(f"seqmnist-zoo: error: {' '.join(message.split())}", err=True)
    sys.exit(code)
