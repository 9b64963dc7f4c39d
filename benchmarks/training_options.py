"""Which change would speed up the zoo's CPU training? Measured, not assumed.

    python benchmarks/training_options.py [--family lstm] [--rounds 3] [--fits 1] [--options ...]
                                          [--output FILE.json]

Trains the family on the zoo's CPU path as it ships (``plain``: `cpu_fast_path`, the fused LSTM/GRU
loops of `seqmnist_zoo.training.fused_rnn` with this CPU's matmul type, several steps per execution,
one TensorFlow thread per op as `seqmnist_zoo.use_training_threads` sets it, batches from
`seqmnist_zoo.training.batches`) and
with one change at a time, each case in a fresh process, interleaved round by round: the stock
layers unrolled under autodiff (``unrolled``, the path the zoo shipped before the fused loops),
the fused loops as a symbolic loop instead of unrolled (``symbolic``, what short tuning trials
run), with float32 matmuls (``fused_float32``) or with the batch in one chain instead of
two (``one_chain``), compiled with XLA (``xla``), the ``mixed_bfloat16`` policy on the stock layers
(``bf16``), a prefetching ``tf.data`` pipeline (``tfdata``), the arrays handed to Keras's own
autotuned pipeline (``keras_arrays``, the zoo's path before `seqmnist_zoo.training.batches`:
its epoch end can wait for the autotuning thread), and the JAX backend with its
``lax.scan`` loop (``jax_scan``) or unrolled (``jax_unrolled``), and the shipped path with
TensorFlow's own thread layout (``default_threads``: every op may spread over all cores).
Prints images/s per option (median and min-max), each option's per-round ratio to ``plain`` and
how many of its processes ran slow (under 3/4 of the option's fastest process: with Keras's own
autotuned input, a fit that waits for the autotuning thread at its end); writes every sample as JSON.
With ``--fits K`` every process times K fits and the table counts, per family and option, the
half-speed processes instead: those whose fastest fit is under `HALF_SPEED` x the median process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tools/
from seqmnist_zoo.training.environment import cpu_name  # noqa: E402
from tools.arguments import positive_count  # noqa: E402

OPTIONS = ["plain", "unrolled", "symbolic", "fused_float32", "one_chain", "xla", "bf16", "tfdata",
           "keras_arrays", "jax_scan", "jax_unrolled", "default_threads"]
BATCH, STEPS = 128, 48
HALF_SPEED = 0.6  # a process whose fastest fit is under this share of the median process


def child(family: str, option: str, fits: int = 1) -> dict:
    from seqmnist_zoo import use_training_threads

    if option != "default_threads":
        use_training_threads()  # before TensorFlow starts, as `train` does
    import keras

    from seqmnist_zoo import get_model, get_model_spec, load_mnist
    from seqmnist_zoo.training import fused_rnn
    from seqmnist_zoo.training.batches import fit_inputs
    from seqmnist_zoo.training.cpu_path import (
        CPU_STEPS_PER_EXECUTION,
        cpu_fast_path,
        cpu_matmul_dtype,
        cpu_unrolled,
    )

    if option == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    if option == "fused_float32":
        os.environ["SEQMNIST_ZOO_CPU_MATMUL"] = "float32"
    (x, y), _ = load_mnist()
    model = get_model(family)
    clipnorm = get_model_spec(family).recipe.clipnorm
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=clipnorm),
                  loss="sparse_categorical_crossentropy",
                  jit_compile=option == "xla" or keras.backend.backend() == "jax",
                  steps_per_execution=CPU_STEPS_PER_EXECUTION)
    warm, timed = slice(0, 5 * BATCH), slice(5 * BATCH, (STEPS + 5) * BATCH)
    if option == "tfdata":
        import tensorflow as tf

        def batches(part):
            return tf.data.Dataset.from_tensor_slices((x[part], y[part])).batch(BATCH).prefetch(
                tf.data.AUTOTUNE)
        warm_data, timed_data = {"x": batches(warm)}, {"x": batches(timed), "shuffle": False}
    elif option == "keras_arrays":
        warm_data = {"x": x[warm], "y": y[warm], "batch_size": BATCH}
        timed_data = {"x": x[timed], "y": y[timed], "batch_size": BATCH, "shuffle": False}
    else:  # as `train` hands batches over
        warm_data, timed_data = (fit_inputs(x[part], y[part], batch_size=BATCH) for part in (warm, timed))
    path = contextlib.ExitStack()
    if option == "one_chain":
        path.enter_context(fused_rnn.fused_training(model, cpu_matmul_dtype(), chains=1))
    if option in ("unrolled", "bf16", "jax_unrolled", "one_chain"):
        path.enter_context(cpu_unrolled(model, enabled=True))
    elif option == "symbolic":
        path.enter_context(cpu_fast_path(model, enabled=True, unroll_steps=0))
    elif option != "jax_scan":
        path.enter_context(cpu_fast_path(model, enabled=True))
    rates = []
    with path:
        model.fit(**warm_data, epochs=1, verbose=0)  # trace
        for _ in range(fits):
            started = time.perf_counter()
            model.fit(**timed_data, epochs=1, verbose=0)
            rates.append(STEPS * BATCH / (time.perf_counter() - started))
    return {"images_per_s": statistics.median(rates), "fits": rates, "backend": keras.backend.backend()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", "--families", default="lstm",
                        help="a family, or a comma list of them (default lstm)")
    parser.add_argument("--rounds", type=positive_count, default=3,
                        help="fresh processes per option and family, interleaved (default 3)")
    parser.add_argument("--options", nargs="+", choices=OPTIONS, default=OPTIONS, metavar="OPTION",
                        help="the options to measure against the shipped path, plain (default: "
                             f"all of {', '.join(OPTIONS)}; each is described above)")
    parser.add_argument("--fits", type=positive_count, default=1,
                        help="timed fits in each process (default 1); with more, a process counts "
                             "as half-speed when even its fastest fit is under "
                             f"{HALF_SPEED:g} x the option's median process")
    parser.add_argument("--output", type=Path, help="JSON record of every sample (default: none)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(child(args.family, args.case, args.fits)))
        return
    options = ["plain"] + [o for o in args.options if o != "plain"]
    families = args.family.split(",")
    fits = {family: measure(family, options, args.rounds, args.fits) for family in families}
    measured = {family: {option: [statistics.median(f) for f in processes]
                         for option, processes in by_option.items()}
                for family, by_option in fits.items()}  # a process's figure: its median fit
    if args.fits > 1:
        record = {"families": families, "samples": measured, "fits": fits,
                  "markdown": processes_table(fits, args.rounds)}
    elif len(families) == 1:
        record = {"family": families[0], "samples": measured[families[0]],
                  "markdown": options_table(families[0], measured[families[0]])}
    else:
        record = {"families": families, "samples": measured,
                  "markdown": "\n\n".join(families_table(measured, option) for option in options[1:])}
    print(record["markdown"])
    if args.output:
        record.update(rounds=args.rounds, fits_per_process=args.fits, batch_size=BATCH, steps=STEPS,
                      machine={"cpu": cpu_name(), "cores": os.cpu_count()})
        args.output.write_text(json.dumps(record, indent=2) + "\n")


def measure(family: str, options: list[str], rounds: int, fits: int = 1) -> dict[str, list[list[float]]]:
    """Each option's processes, each the images/s of its `fits` timed fits: one fresh process per
    case, interleaved round by round."""
    samples: dict[str, list[list[float]]] = {option: [] for option in options}
    for round_index in range(rounds):
        shift = round_index % len(options)
        for option in options[shift:] + options[:shift]:
            backend = "jax" if option.startswith("jax") else "tensorflow"
            done = subprocess.run([sys.executable, __file__, "--family", family, "--case", option,
                                   "--fits", str(fits)],
                                  capture_output=True, text=True,
                                  env={**os.environ, "KERAS_BACKEND": backend,
                                       "SEQMNIST_ZOO_THREADS": ""})
            if done.returncode:
                sys.exit(f"case {option} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
            samples[option].append(json.loads(done.stdout.strip().splitlines()[-1])["fits"])
            print(f"round {round_index + 1}/{rounds} {family:<12} {option:<16} "
                  f"{statistics.median(samples[option][-1]):8.0f} images/s", flush=True)
    return samples


def verdict(ratios: list[float]) -> str:
    """``faster``/``slower`` only when every round agrees; otherwise within the noise."""
    if min(ratios) > 1:
        return "faster in every round"
    if max(ratios) < 1:
        return "slower in every round"
    return "within the noise"


def slow_processes(values: list[float]) -> int:
    """Processes that ran under 3/4 of the fastest one of the same option.

    Examples:
        >>> slow_processes([9000, 9400, 4700, 8800])
        1
    """
    return sum(v < 0.75 * max(values) for v in values)


def half_speed_processes(fits: list[list[float]]) -> int:
    """Processes whose fastest fit is under `HALF_SPEED` x the median process's figure (its
    median fit): slow for their whole life, not for one fit.

    Examples:
        >>> half_speed_processes([[9000, 8000], [9400, 9100], [4300, 4200], [4400, 8800]])
        1
    """
    typical = statistics.median(statistics.median(f) for f in fits)
    return sum(max(f) < HALF_SPEED * typical for f in fits)


def processes_table(fits: dict[str, dict[str, list[list[float]]]], rounds: int) -> str:
    """Per family and option: the processes' figures and how many ran at half speed."""
    per_process = len(next(iter(next(iter(fits.values())).values()))[0])
    options = list(next(iter(fits.values())))
    lines = [f"Training on the CPU ({_machine()}), batch {BATCH}, {STEPS} steps per fit, {rounds} fresh "
             f"process(es) per family and option, {per_process} timed fits in each, a process's figure "
             f"its median fit (`python benchmarks/training_options.py --family {','.join(fits)} --rounds "
             f"{rounds} --fits {per_process} --options {' '.join(options)}`). A process is half-speed "
             f"when even its fastest fit is under {HALF_SPEED:g} x the median process's figure.", "",
             "| family | option | images/s, median process (min–max) | slowest process's fastest fit "
             "| half-speed processes |", "|---|---|---|---|---|"]
    for family, by_option in fits.items():
        for option, processes in by_option.items():
            figures = [statistics.median(f) for f in processes]
            lines.append(f"| {family} | {DESCRIPTIONS[option].split(' (')[0]} | {_spread(figures, 0)} "
                         f"| {min(max(f) for f in processes):.0f} "
                         f"| {half_speed_processes(processes)} of {len(processes)} |")
    return "\n".join(lines)


def _machine() -> str:
    return f"{cpu_name()}, {os.cpu_count()} cores"


def options_table(family: str, samples: dict[str, list[float]]) -> str:
    """Each option's images/s and its per-round ratio to the shipped path, median (min–max)."""
    rounds = len(samples["plain"])
    lines = [f"Training `{family}` on the CPU ({_machine()}), batch {BATCH}, {STEPS} steps per case, "
             f"{rounds} interleaved round(s), each case in a fresh process "
             "(`python benchmarks/training_options.py`):", "",
             "| option | images/s | vs the shipped path | verdict | slow processes |",
             "|---|---|---|---|---|"]
    for option, values in samples.items():
        ratios = [v / p for v, p in zip(values, samples["plain"], strict=True)]
        cells = [DESCRIPTIONS[option], _spread(values, 0), _spread(ratios, 2),
                 "baseline" if option == "plain" else verdict(ratios),
                 f"{slow_processes(values)} of {len(values)}"]
        lines.append("| " + " | ".join(cells) + " |")
    faster = [DESCRIPTIONS[o] for o, v in samples.items()
              if o != "plain" and min(x / p for x, p in zip(v, samples["plain"], strict=True)) > 1]
    lines += ["", "Faster than the shipped path in every round: " + ("; ".join(faster) or "none") + "."]
    return "\n".join(lines)


def families_table(measured: dict[str, dict[str, list[float]]], option: str) -> str:
    """One option against the shipped path, family by family, with the slow processes of each."""
    rounds = len(next(iter(measured.values()))["plain"])
    lines = [f"Training on the CPU ({_machine()}), batch {BATCH}, {STEPS} steps per case, "
             f"{rounds} interleaved round(s), each case in a fresh process, the shipped path "
             "(one thread per op) "
             f"against this option: {DESCRIPTIONS[option]} (`python benchmarks/training_options.py "
             f"--family {','.join(measured)} --rounds {rounds} --options plain {option}`):", "",
             "| family | shipped path, images/s | this option, images/s | this option / shipped path "
             "| verdict | slow processes: shipped path | slow processes: this option |",
             "|---|---|---|---|---|---|---|"]
    for family, samples in measured.items():
        plain, other = samples["plain"], samples[option]
        ratios = [v / p for v, p in zip(other, plain, strict=True)]
        lines.append(f"| {family} | {_spread(plain, 0)} | {_spread(other, 0)} | {_spread(ratios, 2)} "
                     f"| {verdict(ratios)} | {slow_processes(plain)} of {len(plain)} "
                     f"| {slow_processes(other)} of {len(other)} |")
    return "\n".join(lines)


def _spread(values: list[float], digits: int) -> str:
    return (f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–"
            f"{max(values):.{digits}f})")


DESCRIPTIONS = {"plain": "shipped path (fused LSTM/GRU loops, this CPU's matmul type, two chains, "
                         "one thread per op, batches without autotuning)",
                "unrolled": "stock layers unrolled under autodiff (the previous shipped path)",
                "symbolic": "fused loops as a symbolic loop (short tuning trials)",
                "fused_float32": "fused loops with float32 matmuls",
                "one_chain": "fused loops, the batch in one chain",
                "xla": "XLA (`jit_compile=True`)",
                "bf16": "`mixed_bfloat16` policy (stock layers, unrolled)",
                "tfdata": "prefetching `tf.data` input",
                "keras_arrays": "arrays through Keras's autotuned `tf.data` input (the previous path)",
                "jax_scan": "JAX backend, `lax.scan` loop",
                "jax_unrolled": "JAX backend, unrolled",
                "default_threads": "shipped path with TensorFlow's own thread layout"}


if __name__ == "__main__":
    main()
