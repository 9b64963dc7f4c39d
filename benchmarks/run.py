"""Speed and memory of the zoo against a plain Keras model and PyTorch, measured in one run.

    python benchmarks/run.py [--quick] [--output benchmarks/results.json]

Each case runs in its own process (so its peak memory is its own), and the cases are interleaved
round by round, so machine noise hits every side alike. In a training round each side (the zoo,
plain Keras, PyTorch) is one live process that times `--turns` short fits, the sides taking turns:
the zoo and PyTorch back to back (which of them goes first alternates from turn to turn), plain
Keras before or after the pair. On a shared machine the speed drifts within seconds, so a round
counts each side's median fit and takes its zoo / PyTorch ratio as the median of the ratios of
fits timed back to back. Every figure is the median over rounds with its min-max range; every
ratio is reported as the median and range of the per-round ratios, with the share of rounds the
zoo was faster. A family whose zoo / PyTorch range still spans 1 after `--rounds` gets more rounds, up to
`--max-rounds`. Prints a table and writes JSON with every sample, from which
`python -m tools.cards README.md` regenerates the README's performance section.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tools/
from seqmnist_zoo.training.environment import cpu_name  # noqa: E402
from tools.arguments import positive_count  # noqa: E402

FAMILIES = ["lstm", "gru", "bilstm", "stacked_lstm", "simple_rnn"]
BATCH = 128
TURN_PAUSE_S = 0.3  # between two timed fits, so the last side's spinning threads go idle first
HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------- child cases
def _mnist(n_train: int):
    from seqmnist_zoo import load_mnist

    (x, y), (x_test, y_test) = load_mnist()
    return x[:n_train], y[:n_train], x_test, y_test


def _plain_keras(name: str, units):
    """The same network written as a user would, without the zoo: Sequential, pre-scaled input."""
    import keras
    from keras import layers

    body = {
        "lstm": lambda: [layers.LSTM(units)],
        "gru": lambda: [layers.GRU(units)],
        "simple_rnn": lambda: [layers.SimpleRNN(units)],
        "bilstm": lambda: [layers.Bidirectional(layers.LSTM(units))],
        "stacked_lstm": lambda: [layers.LSTM(u, return_sequences=i < len(units) - 1)
                                 for i, u in enumerate(units)],
    }[name]()
    return keras.Sequential([keras.Input((28, 28)), *body, layers.Dense(10, activation="softmax")])


def _train_keras(impl: str, name: str, steps: int):
    from seqmnist_zoo import use_training_threads

    if impl == "zoo":
        use_training_threads()  # the layout `train` takes, before TensorFlow starts
    import keras

    from seqmnist_zoo import get_model, get_model_spec
    from seqmnist_zoo.training.batches import fit_inputs
    from seqmnist_zoo.training.cpu_path import CPU_STEPS_PER_EXECUTION, cpu_fast_path, has_gpu

    spec = get_model_spec(name)
    units = spec.defaults["units"]
    x, y, _, _ = _mnist((steps + 5) * BATCH)
    optimizer = keras.optimizers.Adam(1e-3, clipnorm=spec.recipe.clipnorm)
    if impl == "zoo":  # the zoo's training path: what `train` sets up on this device
        model = get_model(name)
        gpu = has_gpu()
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      steps_per_execution=1 if gpu else CPU_STEPS_PER_EXECUTION)
        context = cpu_fast_path(model, enabled=not gpu)
    else:
        model, x = _plain_keras(name, units), x.astype("float32") / 255.0
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        context = contextlib.nullcontext()
    if impl == "zoo":  # batches as `train` hands them over (`seqmnist_zoo.training.batches`)
        warm, timed = (fit_inputs(x[part], y[part], batch_size=BATCH)
                       for part in (slice(0, 5 * BATCH), slice(5 * BATCH, None)))
    else:
        warm = dict(x=x[:5 * BATCH], y=y[:5 * BATCH], batch_size=BATCH)
        timed = dict(x=x[5 * BATCH:], y=y[5 * BATCH:], batch_size=BATCH, shuffle=False)
    context.__enter__()  # held for the process's life: every turn trains on this path
    model.fit(**warm, epochs=1, verbose=0)  # trace

    def turn() -> float:
        started = time.perf_counter()
        model.fit(**timed, epochs=1, verbose=0)
        return steps * BATCH / (time.perf_counter() - started)
    return turn


def _train_torch(name: str, steps: int):
    import torch
    from torch import nn

    from seqmnist_zoo import get_model_spec

    spec = get_model_spec(name)
    units = spec.defaults["units"]
    torch.set_num_threads(os.cpu_count() or 1)
    width = units[-1] if isinstance(units, (list, tuple)) else units

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            kind = {"lstm": nn.LSTM, "bilstm": nn.LSTM, "stacked_lstm": nn.LSTM, "gru": nn.GRU,
                    "simple_rnn": nn.RNN}[name]
            layers = len(units) if isinstance(units, (list, tuple)) else 1
            self.rnn = kind(28, width, num_layers=layers, batch_first=True,
                            bidirectional=name == "bilstm")
            self.head = nn.Linear(width * (2 if name == "bilstm" else 1), 10)

        def forward(self, x):
            out, _ = self.rnn(x)
            if name == "bilstm":  # last forward state and first backward state, as Keras does
                out = torch.cat([out[:, -1, :width], out[:, 0, width:]], dim=1)
                return self.head(out)
            return self.head(out[:, -1])

    x, y, _, _ = _mnist((steps + 5) * BATCH)
    x = torch.from_numpy(x.astype("float32") / 255.0)
    y = torch.from_numpy(y.astype("int64"))
    net, loss_fn = Net(), nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    def run(batches):
        for i in batches:
            xb, yb = x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]
            optimizer.zero_grad()
            loss_fn(net(xb), yb).backward()
            if spec.recipe.clipnorm:
                nn.utils.clip_grad_norm_(net.parameters(), spec.recipe.clipnorm)
            optimizer.step()

    run(range(5))

    def turn() -> float:
        started = time.perf_counter()
        run(range(5, steps + 5))
        return steps * BATCH / (time.perf_counter() - started)
    return turn


def _inference(impl: str, name: str, quick: bool) -> dict:
    import numpy as np

    from seqmnist_zoo import get_model, get_model_spec

    _, _, x_test, _ = _mnist(0)
    if impl == "zoo":
        model = get_model(name, weights="mnist")
    else:
        model, x_test = _plain_keras(name, get_model_spec(name).defaults["units"]), \
            x_test.astype("float32") / 255.0
    model.predict(x_test[:1024], batch_size=1024, verbose=0)
    started = time.perf_counter()
    model.predict(x_test, batch_size=1024, verbose=0)
    throughput = len(x_test) / (time.perf_counter() - started)
    one = x_test[:1]
    for _ in range(20):
        model.predict_on_batch(one)
    latencies = []
    for _ in range(50 if quick else 300):
        started = time.perf_counter()
        model.predict_on_batch(one)
        latencies.append(time.perf_counter() - started)
    return {"images_per_s": throughput,
            "latency_p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "latency_p99_ms": 1000 * float(np.percentile(latencies, 99))}


def _first_prediction(process_start: float) -> dict:
    import numpy as np

    import seqmnist_zoo

    images = np.zeros((1, 28, 28), "uint8")
    import keras  # noqa: F401  (the framework import is timed separately from the zoo's work)

    called = time.perf_counter()
    seqmnist_zoo.bilstm(weights="mnist").predict(images, verbose=0)
    done = time.perf_counter()
    return {"from_factory_s": done - called, "with_imports_s": done - process_start}


def serve_turns(turn, lines, out) -> None:
    """A training case kept alive: says "ready", then times one fit for each line it is sent."""
    print("ready", file=out, flush=True)
    for _ in lines:
        print(json.dumps({"images_per_s": turn()}), file=out, flush=True)


def steps(quick: bool) -> int:
    """Batches in one timed fit: whole executions of 16 batches; short, so turns can be many."""
    return 32 if quick else 48


def child(case: str, quick: bool, started: float) -> dict:
    kind, impl, name = (case.split(":") + ["", ""])[:3]
    if kind == "train":
        fit = _train_torch if impl == "torch" else functools.partial(_train_keras, impl)
        turn = fit(name, steps(quick))
        serve_turns(turn, sys.stdin, sys.stdout)
        return {}
    if kind == "infer":
        return _inference(impl, name, quick)
    if kind == "first":
        return _first_prediction(started)
    raise SystemExit(f"unknown case {case!r}")


# ----------------------------------------------------------------------------- parent
class _Popen(subprocess.Popen):
    """Popen that records the child's peak resident memory (from wait4) when it is reaped."""

    peak_mib = 0.0

    def _try_wait(self, wait_flags):
        pid, status, usage = os.wait4(self.pid, wait_flags)
        if pid:
            self.peak_mib = usage.ru_maxrss / 1024  # Linux reports KiB
        return pid, status


def _run(command: list[str], env=None) -> tuple[str, float, float]:
    """Run a command; return its stdout, wall seconds and peak resident memory in MiB."""
    started = time.perf_counter()
    process = _Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{err[-3000:]}")
    return out, wall, process.peak_mib


def _case(case: str, quick: bool) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, __file__, "--case", case] + (["--quick"] if quick else [])
    out, _, peak = _run(command, env)
    return {**json.loads(out.strip().splitlines()[-1]), "peak_mib": peak}


class _Turns:
    """A live training case (`serve_turns`): each `turn()` times one more fit in it."""

    def __init__(self, case: str, quick: bool):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        command = [sys.executable, __file__, "--case", case] + (["--quick"] if quick else [])
        self._errors = tempfile.TemporaryFile("w+")  # a file, so a chatty child never blocks
        self.process = _Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=self._errors, env=env, text=True)
        self.case = case

    def ready(self) -> None:
        """Waits for the case's set-up and warm-up (the sides set up at once, untimed)."""
        self._expect("ready")

    def _expect(self, what: str | None = None) -> str:
        line = self.process.stdout.readline().strip()
        if not line or (what and line != what):
            self.process.kill()
            self.process.wait()
            self._errors.seek(0)
            raise RuntimeError(f"{self.case} failed:\n{self._errors.read()[-3000:]}")
        return line

    def turn(self) -> float:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return json.loads(self._expect())["images_per_s"]

    def close(self) -> float:
        """Ends the case; returns its peak resident memory in MiB."""
        self.process.stdin.close()
        self.process.stdout.read()
        self.process.wait()
        self._errors.close()
        return self.process.peak_mib


def _cli_times(rounds: int) -> dict:
    exe = str(Path(sys.executable).with_name("seqmnist-zoo"))
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "seqmnist-zoo --help": [exe, "--help"], "seqmnist-zoo list": [exe, "list"]}
    walls: dict[str, list[float]] = {k: [] for k in commands}
    peaks: dict[str, float] = {}
    for _ in range(rounds):
        for label, command in commands.items():
            _, wall, peak = _run(command)
            walls[label].append(wall)
            peaks[label] = max(peaks.get(label, 0.0), peak)
    return {label: {"seconds": statistics.median(w), "peak_mib": peaks[label]}
            for label, w in walls.items()}


def _median(results: list[dict]) -> dict:
    """Each figure's median over rounds, with ``KEY_range`` = [min, max] beside it."""
    summary = {}
    for key in (k for k, v in results[0].items() if not isinstance(v, list)):  # not the turns
        values = [r[key] for r in results]
        summary[key] = statistics.median(values)
        summary[f"{key}_range"] = [min(values), max(values)]
    return summary


def _ratios(samples: dict, case: str, baseline: str) -> list[float]:
    """The per-round throughput ratios case / baseline: the median over the round's turns of
    the ratio of the two fits timed back to back (a record without turns: the rounds' figures)."""
    ratios = []
    for a, b in zip(samples[case], samples[baseline], strict=True):
        if "turns" in a and "turns" in b:
            ratios.append(statistics.median(x / y for x, y in zip(a["turns"], b["turns"], strict=True)))
        else:
            ratios.append(a["images_per_s"] / b["images_per_s"])
    return ratios


def round_order(round_index: int, impls: list[str]) -> list[str]:
    """The order the training sides take in one turn: the zoo and PyTorch back to back, who
    goes first alternating from turn to turn, and the other sides before or after the pair.

    Examples:
        >>> round_order(0, ["zoo", "keras", "torch"]), round_order(1, ["zoo", "keras", "torch"])
        (['zoo', 'torch', 'keras'], ['keras', 'torch', 'zoo'])
    """
    pair = [impl for impl in ("zoo", "torch") if impl in impls]
    rest = [impl for impl in impls if impl not in pair]
    return pair + rest if round_index % 2 == 0 else rest + pair[::-1]


def _unsettled(samples: dict, families: list[str], baseline: str) -> list[str]:
    """Families whose zoo / baseline ratio has rounds on both sides of 1."""
    unsettled = []
    for name in families:
        ratios = _ratios(samples, f"train:zoo:{name}", f"train:{baseline}:{name}")
        if min(ratios) <= 1 <= max(ratios):
            unsettled.append(name)
    return unsettled


def _families(text: str) -> list[str]:
    """A comma list of the families this benchmark knows how to write in plain Keras and PyTorch."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FAMILIES]
    if unknown or not names:
        what = (f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(map(repr, unknown))}"
                if unknown else "no family given")
        raise argparse.ArgumentTypeError(f"{what}; known: {', '.join(FAMILIES)}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="only re-render the markdown of a results file (no measuring)")
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds (a smoke run)")
    parser.add_argument("--output", type=Path,
                        help="JSON record to write (default benchmarks/results.json, the README's "
                             "record; a --quick run writes only where --output says)")
    parser.add_argument("--families", type=_families, default=list(FAMILIES),
                        help=f"comma list of families to train (default {','.join(FAMILIES)})")
    parser.add_argument("--rounds", type=positive_count,
                        help="interleaved rounds (default 5; 1 with --quick)")
    parser.add_argument("--max-rounds", type=positive_count,
                        help="keep adding rounds, up to this many in all, for a family whose zoo / "
                             "PyTorch ratio has been both above and below 1 (default twice --rounds; "
                             "--rounds with --quick)")
    parser.add_argument("--turns", type=positive_count,
                        help="timed fits per side in each round, the sides taking turns in live "
                             "processes (default 3; 2 with --quick)")
    parser.add_argument("--training-only", action="store_true",
                        help="measure training only (no inference, first-prediction or start-up cases)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(child(args.case, args.quick, PROCESS_START)))
        return
    if args.render:
        report = json.loads(args.render.read_text())
        report["markdown"] = render(report)
        args.render.write_text(json.dumps(report, indent=2) + "\n")
        print(report["markdown"])
        return

    if args.output is None and not args.quick:
        args.output = HERE / "results.json"
    load_before = os.getloadavg()[0]
    if load_before >= 0.5:
        print(f"warning: the 1-minute load average is {load_before:.1f} before measuring: other "
              "work on this machine will move every figure", file=sys.stderr)

    zoo_matmul = _zoo_matmul()  # before measuring: a bad SEQMNIST_ZOO_CPU_MATMUL stops the run here
    import importlib.util

    have_torch = importlib.util.find_spec("torch") is not None
    rounds = args.rounds or (1 if args.quick else 5)
    turns = args.turns or (2 if args.quick else 3)
    max_rounds = max(rounds, args.max_rounds or (rounds if args.quick else 2 * rounds))
    families = args.families
    train_impls = ["zoo", "keras"] + (["torch"] if have_torch else [])
    samples: dict[str, list[dict]] = {}

    def train_round(round_index: int, names: list[str]) -> None:
        for name in names:
            sides = {impl: _Turns(f"train:{impl}:{name}", args.quick) for impl in train_impls}
            for side in sides.values():
                side.ready()
            fits: dict[str, list[float]] = {impl: [] for impl in train_impls}
            for turn_index in range(turns):
                for impl in round_order(round_index + turn_index, train_impls):
                    time.sleep(TURN_PAUSE_S)
                    fits[impl].append(sides[impl].turn())
            for impl, side in sides.items():
                samples.setdefault(f"train:{impl}:{name}", []).append(
                    {"images_per_s": statistics.median(fits[impl]), "turns": fits[impl],
                     "peak_mib": side.close()})
            print(f"round {round_index + 1} train {name:<12} " + "  ".join(
                f"{impl} {statistics.median(f):6.0f}" for impl, f in fits.items()) + " images/s",
                flush=True)

    for round_index in range(rounds):
        train_round(round_index, families)
        if args.training_only:
            continue
        for impl in ("zoo", "keras"):
            samples.setdefault(f"infer:{impl}:bilstm", []).append(
                _case(f"infer:{impl}:bilstm", args.quick))
        samples.setdefault("first:zoo:bilstm", []).append(_case("first:zoo:bilstm", args.quick))
    baseline = "torch" if have_torch else "keras"
    for round_index in range(rounds, max_rounds):
        unsettled = _unsettled(samples, families, baseline)
        if not unsettled:
            break
        print(f"round {round_index + 1}: zoo / {baseline} still spans 1 for {', '.join(unsettled)}",
              flush=True)
        train_round(round_index, unsettled)

    results = {case: _median(runs) for case, runs in samples.items()}
    report = {
        "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": round(load_before, 2), **_versions(),
                    "zoo_matmul": zoo_matmul},
        "command": _command_line(),
        "rounds": rounds, "max_rounds": max_rounds, "turns": turns, "steps": steps(args.quick),
        "quick": args.quick,
        "batch_size": BATCH,
        "training": {name: _training_row(results, samples, name, have_torch) for name in families},
        "samples": samples,
    }
    if not args.training_only:
        report.update(inference={impl: results[f"infer:{impl}:bilstm"] for impl in ("zoo", "keras")},
                      first_prediction=results["first:zoo:bilstm"],
                      cli=_cli_times(3 if args.quick else 7))
    report["markdown"] = render(report)
    print(report["markdown"])
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.output}")


def _training_row(results: dict, samples: dict, name: str, have_torch: bool) -> dict:
    row = {impl: results[f"train:{impl}:{name}"] for impl in ("zoo", "keras", "torch")
           if f"train:{impl}:{name}" in results}
    row["rounds"] = len(samples[f"train:zoo:{name}"])
    for other in ("keras", "torch") if have_torch else ("keras",):
        ratios = _ratios(samples, f"train:zoo:{name}", f"train:{other}:{name}")
        row[f"zoo_vs_{other}"] = statistics.median(ratios)
        row[f"zoo_vs_{other}_range"] = [min(ratios), max(ratios)]
        row[f"zoo_faster_than_{other}"] = sum(r > 1 for r in ratios)
    return row


def _with_range(figure: dict, key: str, digits: int = 0) -> str:
    low, high = figure[f"{key}_range"]
    if low == high:
        return f"{figure[key]:.{digits}f}"
    return f"{figure[key]:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def render(report: dict) -> str:
    """The report as markdown tables (the README's performance section is this text)."""
    m = report["machine"]
    lines = [f"Measured on {m['cpu']} ({m['cores']} cores), Python {m['python']}, keras "
             f"{m.get('keras')} ({m.get('backend')} backend), tensorflow {m.get('tensorflow')}, "
             f"torch {m.get('torch', 'not installed')}{_matmul_words(m)}; median (min–max) of "
             f"{report['rounds']} "
             f"interleaved round(s){_more_rounds(report)}, batch {report['batch_size']}; "
             + _how_rounds_ran(report) + _command_words(report) + _smoke_words(report), "",
             "| training (images/s) | rounds | zoo | plain Keras | PyTorch | zoo / Keras "
             "| zoo / PyTorch | zoo faster than PyTorch | zoo peak MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, row in report["training"].items():
        rounds = row.get("rounds", report["rounds"])
        torch_cell = _with_range(row["torch"], "images_per_s") if "torch" in row else "-"
        ratio = _with_range(row, "zoo_vs_torch", 2) if "zoo_vs_torch" in row else "-"
        faster = f"{row['zoo_faster_than_torch']} of {rounds} round{'s' * (rounds != 1)}" \
            if "zoo_faster_than_torch" in row else "-"
        lines.append(f"| {name} | {rounds} | {_with_range(row['zoo'], 'images_per_s')} | "
                     f"{_with_range(row['keras'], 'images_per_s')} | {torch_cell} | "
                     f"{_with_range(row, 'zoo_vs_keras', 2)} | {ratio} | {faster} | "
                     f"{row['zoo']['peak_mib']:.0f} |")
    lines += ["", *_verdicts(report["training"])]
    if "inference" not in report:  # a --training-only run
        return "\n".join(lines)
    zoo, plain = report["inference"]["zoo"], report["inference"]["keras"]
    first, cli = report["first_prediction"], report["cli"]
    lines += ["", "| inference, bilstm | zoo (pretrained) | plain Keras |", "|---|---|---|",
              f"| images/s at batch 1024 | {_with_range(zoo, 'images_per_s')} "
              f"| {_with_range(plain, 'images_per_s')} |",
              f"| latency p50 / p99, one image | {zoo['latency_p50_ms']:.1f} / "
              f"{zoo['latency_p99_ms']:.1f} ms | {plain['latency_p50_ms']:.1f} / "
              f"{plain['latency_p99_ms']:.1f} ms |",
              f"| peak memory | {zoo['peak_mib']:.0f} MiB | {plain['peak_mib']:.0f} MiB |", "",
              f"First prediction from `bilstm(weights=\"mnist\")`: {first['from_factory_s']:.2f} s "
              f"after the call ({first['with_imports_s']:.2f} s in a fresh process, imports "
              f"included; peak {first['peak_mib']:.0f} MiB).", "",
              "| start-up | seconds | peak MiB |", "|---|---|---|"]
    lines += [f"| `{label}` | {v['seconds']:.2f} | {v['peak_mib']:.0f} |" for label, v in cli.items()]
    return "\n".join(lines)


def _matmul_words(machine: dict) -> str:
    if "zoo_matmul" not in machine:
        return ""
    return (f"; the zoo's fused LSTM and GRU loops multiplied {machine['zoo_matmul']} operands "
            "(PyTorch float32)")


def _command_words(report: dict) -> str:
    return f" Command: `{report['command']}`." if "command" in report else ""


def _smoke_words(report: dict) -> str:
    if not report.get("quick"):
        return ""
    return (" **A `--quick` smoke run: a few short fits, so its ratios are no verdict; on a busy "
            "machine they can be off by any factor.**")


def _how_rounds_ran(report: dict) -> str:
    if "turns" not in report:
        return "ratios are taken within each round, where the zoo and PyTorch ran back to back."
    return (f"in each round every side is one live process that times {report['turns']} fits of "
            f"{report.get('steps', 48)} batches, the sides taking turns (the zoo and PyTorch back "
            "to back), and counts its median fit; a round's ratio is the median of its turns' "
            "ratios.")


def _more_rounds(report: dict) -> str:
    if report.get("max_rounds", report["rounds"]) <= report["rounds"]:
        return ""
    return (f" (up to {report['max_rounds']} for a family whose zoo / PyTorch range spanned 1 "
            "after them)")


def _verdicts(training: dict) -> list[str]:
    """Which families the zoo beat (or lost to) in every round; the rest is within the noise."""
    lines = []
    for other, label in (("torch", "PyTorch"), ("keras", "plain Keras")):
        key = f"zoo_vs_{other}_range"
        groups = {"faster than": [n for n, r in training.items() if key in r and r[key][0] > 1],
                  "slower than": [n for n, r in training.items() if key in r and r[key][1] < 1]}
        mixed = [n for n, r in training.items() if key in r and r[key][0] <= 1 <= r[key][1]]
        if not any(groups.values()) and not mixed:
            continue
        parts = [f"{verdict} {label} in every round: {', '.join(names)}"
                 for verdict, names in groups.items() if names]
        if mixed:
            parts.append(f"within the noise (the ratio's range spans 1): {', '.join(mixed)}")
        lines.append(f"Zoo vs {label}: " + "; ".join(parts) + ".")
    return lines


def _command_line() -> str:
    """This run's command as a user would type it, with the matmul override if one was set."""
    import shlex

    chosen = os.environ.get("SEQMNIST_ZOO_CPU_MATMUL")
    words = ["python", "benchmarks/run.py", *sys.argv[1:]]
    return (f"SEQMNIST_ZOO_CPU_MATMUL={chosen} " if chosen else "") + shlex.join(words)


def _zoo_matmul() -> str:
    """The zoo's fused-loop matmul operand type on this CPU (`cpu_matmul_dtype`), asked of a child
    process so that this one never starts TensorFlow."""
    code = "from seqmnist_zoo.training.cpu_path import cpu_matmul_dtype; print(cpu_matmul_dtype())"
    try:
        return _run([sys.executable, "-c", code], dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))[0].strip()
    except RuntimeError as error:  # the child's last line names what was wrong
        kind, _, message = str(error).strip().splitlines()[-1].partition(": ")
        raise SystemExit(f"error: {message if kind.endswith('Error') else kind}") from None


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("keras", "tensorflow", "jax", "torch"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    found["backend"] = os.environ.get("KERAS_BACKEND", "tensorflow")
    return found


PROCESS_START = time.perf_counter()

if __name__ == "__main__":
    main()
