"""Trial time of `tune` on the zoo's CPU fast path against KerasTuner's plain fit, interleaved.

    python benchmarks/tune_trials.py [--rounds 3] [--epochs 1] [--train-samples 2000]

Each round runs the same 3-trial random search (lstm, the default space, seed 0; by default
1 epoch on 2,000 images, as `seqmnist-zoo tune lstm --max-trials 3 --epochs 1
--train-samples 2000`) once with ``fast_path=True`` (what `tune` runs: the fused loops,
symbolic in trials under `UNROLL_MIN_IMAGES` images, unrolled above) and once with
``fast_path=False`` (KerasTuner's plain fit, what `tune` ran before), in alternating order, and
prints the seconds per trial of each and the speed-up's median and range over rounds. Run on a
quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqmnist_zoo import load_mnist  # noqa: E402
from seqmnist_zoo.registry import get_model_spec  # noqa: E402
from seqmnist_zoo.spaces import default_space  # noqa: E402
from seqmnist_zoo.training import split_validation  # noqa: E402
from seqmnist_zoo.tuning import UNROLL_MIN_IMAGES, ZooHyperModel, make_tuner  # noqa: E402


def one_search(fast: bool, data, epochs: int) -> float:
    """Seconds per trial on the fast path or on KerasTuner's plain fit."""
    (x, y), (xv, yv) = data
    hypermodel = ZooHyperModel("lstm", default_space("lstm"), fast_path=fast)
    with tempfile.TemporaryDirectory() as folder:
        tuner = make_tuner(hypermodel, "random",
                           max_trials=3, epochs=epochs, directory=folder, seed=0)
        started = time.perf_counter()
        tuner.search(x, y, epochs=epochs, batch_size=128, validation_data=(xv, yv), verbose=0)
        return (time.perf_counter() - started) / 3


def render(report: dict) -> str:
    """Seconds per trial on each path, median (min–max) over rounds, and the speed-up."""
    def cell(values):
        return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"

    times, up = report["seconds_per_trial"], report["speed_up"]
    return "\n".join([
        f"`seqmnist-zoo tune lstm --max-trials 3 --epochs {report['epochs']} --train-samples "
        f"{report['train_samples']}`, {report['rounds']} interleaved rounds "
        "(`python benchmarks/tune_trials.py`):", "",
        "| trials trained by | seconds per trial |", "|---|---|",
        f"| KerasTuner's plain fit (what `tune` ran before) | {cell(times['plain_fit'])} |",
        f"| the zoo's CPU fast path ({report['fast_loops']} fused loops) | "
        f"{cell(times['fast_path'])} |", "",
        f"Fast path speed relative to the plain fit: {up['median']:.2f}x ({up['min']:.2f}–"
        f"{up['max']:.2f}x over rounds; below 1 is slower)."])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-samples", type=int, default=2000)
    parser.add_argument("--output", type=Path, help="JSON file (default benchmarks/tune_trials_E_N.json)")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only re-render a results file")
    args = parser.parse_args(argv)
    if args.render:
        report = json.loads(args.render.read_text())
        report["markdown"] = render(report)
        args.render.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(report["markdown"])
        return
    args.output = args.output or ROOT / "benchmarks" / f"tune_trials_{args.epochs}_{args.train_samples}.json"
    (x, y), _ = load_mnist()
    data = split_validation(x, y, get_model_spec("lstm").recipe, args.train_samples)
    times = {True: [], False: []}
    for round_ in range(args.rounds):
        for fast in ((True, False) if round_ % 2 == 0 else (False, True)):
            times[fast].append(one_search(fast, data, args.epochs))
            print(f"round {round_ + 1}: {'fast path' if fast else 'plain fit'} "
                  f"{times[fast][-1]:.1f} s/trial", flush=True)
    ratios = [p / f for p, f in zip(times[False], times[True], strict=True)]
    unrolled = args.epochs * len(data[0][0]) >= UNROLL_MIN_IMAGES
    report = {"command": "python benchmarks/tune_trials.py", "rounds": args.rounds,
              "fast_loops": "unrolled" if unrolled else "symbolic",
              "epochs": args.epochs, "train_samples": args.train_samples,
              "seconds_per_trial": {"fast_path": times[True], "plain_fit": times[False]},
              "speed_up": {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}}
    report["markdown"] = render(report)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
