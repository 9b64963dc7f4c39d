"""Would XLA or bfloat16 mixed precision speed up the zoo's CPU training? Measured, not assumed.

    python benchmarks/training_options.py [--family lstm] [--rounds 3] [--output FILE.json]

Trains the family on the zoo's CPU path (unrolled, several steps per execution) as it ships
(``plain``), compiled with XLA (``jit_compile=True``), and under the ``mixed_bfloat16`` policy,
each case in a fresh process, interleaved round by round. Prints images/s per option (median and
min-max) and each option's per-round ratio to ``plain``; writes every sample as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

OPTIONS = ["plain", "xla", "bf16"]
BATCH, STEPS = 128, 48


def child(family: str, option: str) -> dict:
    import keras

    from seqmnist_zoo import get_model, get_model_spec, load_mnist
    from seqmnist_zoo.training import CPU_STEPS_PER_EXECUTION, cpu_unrolled

    if option == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    (x, y), _ = load_mnist()
    model = get_model(family)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=get_model_spec(family).recipe.clipnorm),
                  loss="sparse_categorical_crossentropy", jit_compile=option == "xla",
                  steps_per_execution=CPU_STEPS_PER_EXECUTION)
    with cpu_unrolled(model, enabled=True):
        model.fit(x[:5 * BATCH], y[:5 * BATCH], batch_size=BATCH, epochs=1, verbose=0)  # trace
        started = time.perf_counter()
        model.fit(x[5 * BATCH:(STEPS + 5) * BATCH], y[5 * BATCH:(STEPS + 5) * BATCH],
                  batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    return {"images_per_s": STEPS * BATCH / (time.perf_counter() - started)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="lstm")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(child(args.family, args.case)))
        return
    samples: dict[str, list[float]] = {option: [] for option in OPTIONS}
    for round_index in range(args.rounds):
        for option in OPTIONS[round_index % 3:] + OPTIONS[:round_index % 3]:
            out = subprocess.run([sys.executable, __file__, "--family", args.family, "--case", option],
                                 capture_output=True, text=True, check=True).stdout
            samples[option].append(json.loads(out.strip().splitlines()[-1])["images_per_s"])
            print(f"round {round_index + 1}/{args.rounds} {option:<6} {samples[option][-1]:8.0f} images/s",
                  flush=True)
    lines = [f"{args.family}, {args.rounds} interleaved rounds, batch {BATCH}:"]
    for option, values in samples.items():
        ratios = [v / p for v, p in zip(values, samples["plain"], strict=True)]
        lines.append(f"  {option:<6} {statistics.median(values):6.0f} images/s "
                     f"({min(values):.0f}-{max(values):.0f}), vs plain {statistics.median(ratios):.2f} "
                     f"({min(ratios):.2f}-{max(ratios):.2f})")
    print("\n".join(lines))
    if args.output:
        args.output.write_text(json.dumps({"family": args.family, "rounds": args.rounds,
                                           "batch_size": BATCH, "samples": samples,
                                           "summary": lines}, indent=2) + "\n")


if __name__ == "__main__":
    main()
