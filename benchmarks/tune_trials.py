"""Trial time of `tune` on the zoo's trial path against KerasTuner's plain fit, interleaved.

    python benchmarks/tune_trials.py [--rounds 5] [--epochs 1] [--train-samples 2000]

Each round runs the same 3-trial random search (lstm, the default space, seed 0; by default
1 epoch on 2,000 images, as `seqmnist-zoo tune lstm --max-trials 3 --epochs 1
--train-samples 2000`) once per path, all in one fresh Python process, in an order that rotates
from round to round:

- ``plain``: KerasTuner's plain fit, what `tune` ran before (``fast_path=False``);
- ``frozen_heap``: the plain fit, with the long-lived heap frozen (`frozen_heap`);
- ``zoo``: what `tune` runs (`run_search`): the heap frozen and the fused loops (symbolic in
  trials under `UNROLL_MIN_IMAGES` images, unrolled above).

The paths share their process because processes on a shared machine differ in speed: shared,
that speed hits every path alike, and the ratios within a round keep the comparison. A
one-trial plain search on 256 images runs first, untimed, so that no path pays the process's
first start of TensorFlow.

It prints the seconds per trial of each, and each path's speed relative to ``plain`` in the
same round: median and range over rounds. Run on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = {"plain": "KerasTuner's plain fit (what `tune` ran before)",
         "frozen_heap": "the plain fit, the heap frozen",
         "zoo": "the zoo's trial path: the heap frozen, {loops} fused loops (what `tune` runs)"}
SHORT = {"frozen_heap": "the frozen heap alone", "zoo": "the zoo's trial path"}


def one_round(order: list[str], epochs: int, train_samples: int) -> dict[str, float]:
    """Seconds per trial of one 3-trial search on each path of `order`, in this process."""
    sys.path.insert(0, str(ROOT))
    import contextlib

    from seqmnist_zoo import load_mnist
    from seqmnist_zoo.models.registry import get_model_spec
    from seqmnist_zoo.training.fit import split_validation
    from seqmnist_zoo.tuning.hypermodel import ZooHyperModel
    from seqmnist_zoo.tuning.spaces import default_space
    from seqmnist_zoo.tuning.tuners import frozen_heap, make_tuner, run_search

    (x, y), _ = load_mnist()
    (x, y), (xv, yv) = split_validation(x, y, get_model_spec("lstm").recipe, train_samples)

    def search(path, trials, images):
        hypermodel = ZooHyperModel("lstm", default_space("lstm"), fast_path=path == "zoo")
        with tempfile.TemporaryDirectory() as folder:
            tuner = make_tuner(hypermodel, "random", max_trials=trials, epochs=epochs,
                               directory=folder, seed=0)
            started = time.perf_counter()
            with frozen_heap() if path == "frozen_heap" else contextlib.nullcontext():
                run_search(tuner, x[:images], y[:images], epochs=epochs, batch_size=128,
                           validation_data=(xv, yv), verbose=0)
            return (time.perf_counter() - started) / trials

    search("plain", 1, 256)  # warm-up, untimed
    return {path: search(path, 3, len(x)) for path in order}


def in_fresh_process(order: list[str], epochs: int, train_samples: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--one-round", ",".join(order), "--epochs", str(epochs),
               "--train-samples", str(train_samples)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"round {order} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def render(report: dict) -> str:
    """Seconds per trial on each path, median (min–max) over rounds, and speed against plain."""
    def cell(values, digits=1):
        return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"

    times = report["seconds_per_trial"]
    rows, faster = [], []
    for path, label in PATHS.items():
        speeds = [p / t for p, t in zip(times["plain"], times[path], strict=True)]
        speed = "1 (the baseline)" if path == "plain" else f"{cell(speeds, 2)}x"
        rows.append(f"| {label.format(loops=report['fast_loops'])} | {cell(times[path])} | {speed} |")
        if path != "plain" and min(speeds) > 1:
            faster.append(SHORT[path])
    return "\n".join([
        f"`seqmnist-zoo tune lstm --max-trials 3 --epochs {report['epochs']} --train-samples "
        f"{report['train_samples']}`, {report['rounds']} rounds, each a fresh process running the "
        "three searches in a rotating order (`python benchmarks/tune_trials.py`):", "",
        "| trials trained by | seconds per trial | speed vs the plain fit (same round) |",
        "|---|---|---|", *rows, "",
        "Speed is the plain fit's time over the path's, median (min–max over rounds); below 1 is "
        f"slower. Faster than the plain fit in every round: {', '.join(faster) or 'none'}."])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-samples", type=int, default=2000)
    parser.add_argument("--output", type=Path, help="JSON file (default benchmarks/tune_trials_E_N.json)")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only re-render a results file")
    parser.add_argument("--one-round", help=argparse.SUPPRESS)  # a child: paths, comma-separated
    args = parser.parse_args(argv)
    if args.one_round:
        print(json.dumps(one_round(args.one_round.split(","), args.epochs, args.train_samples)))
        return
    if args.render:
        report = json.loads(args.render.read_text())
        report["markdown"] = render(report)
        args.render.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(report["markdown"])
        return
    sys.path.insert(0, str(ROOT))
    from seqmnist_zoo.tuning.hypermodel import UNROLL_MIN_IMAGES

    args.output = args.output or ROOT / "benchmarks" / f"tune_trials_{args.epochs}_{args.train_samples}.json"
    times = {path: [] for path in PATHS}
    order = list(PATHS)
    for round_ in range(args.rounds):
        rotated = order[round_ % len(order):] + order[:round_ % len(order)]
        for path, seconds in in_fresh_process(rotated, args.epochs, args.train_samples).items():
            times[path].append(seconds)
            print(f"round {round_ + 1}: {path} {seconds:.2f} s/trial", flush=True)
    unrolled = args.epochs * args.train_samples >= UNROLL_MIN_IMAGES
    report = {"command": "python benchmarks/tune_trials.py", "rounds": args.rounds,
              "fast_loops": "unrolled" if unrolled else "symbolic",
              "epochs": args.epochs, "train_samples": args.train_samples,
              "seconds_per_trial": times}
    report["markdown"] = render(report)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(report["markdown"])


if __name__ == "__main__":
    main()
