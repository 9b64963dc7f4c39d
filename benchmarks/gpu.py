"""One-call GPU check on the JAX backend: an epoch of each family, inference, a 3-trial tune.

    KERAS_BACKEND=jax python benchmarks/gpu.py [--quick] [--output gpu.json]

Meant for a machine with an NVIDIA GPU and JAX but no TensorFlow (run it through
``benchmarks/gpu.sh``, which installs keras and keras-tuner from carried wheels). It also runs on
a CPU, where --quick makes it a smoke test. Everything it measures goes to one JSON file with
the device named; it stops short of 8 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from seqmnist_zoo import get_model, list_models  # noqa: E402
from seqmnist_zoo.models.compile import compile_model  # noqa: E402
from seqmnist_zoo.models.registry import get_model_spec  # noqa: E402

BUDGET_S = 450  # stop starting new measurements after this many seconds


def mnist_or_noise(samples: int):
    """MNIST when it can be found (SEQMNIST_ZOO_DATA), else noise of its shape: speed only."""
    try:
        from seqmnist_zoo import load_mnist

        (x, y), _ = load_mnist()
        return x[:samples], y[:samples], "mnist"
    except Exception:
        rng = np.random.default_rng(0)
        return (rng.integers(0, 256, (samples, 28, 28), dtype="uint8"),
                rng.integers(0, 10, samples).astype("uint8"), "noise (MNIST not found)")


def device_name() -> str:
    import jax

    device = jax.devices()[0]
    return f"{device.platform}: {getattr(device, 'device_kind', device)}"


def epoch_seconds(name: str, x, y, batch: int) -> dict:
    model = compile_model(get_model(name))
    model.fit(x[:batch * 4], y[:batch * 4], batch_size=batch, epochs=1, verbose=0)  # compile
    started = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    seconds = time.perf_counter() - started
    return {"epoch_seconds": seconds, "images_per_s": len(x) / seconds}


def inference(name: str, x) -> dict:
    model = get_model(name, weights="mnist")
    model.predict(x[:1024], batch_size=1024, verbose=0)
    started = time.perf_counter()
    model.predict(x, batch_size=1024, verbose=0)
    return {"images_per_s": len(x) / (time.perf_counter() - started)}


QUICK_SPACE = {"units": {"type": "fixed", "value": 16},
               "learning_rate": {"type": "fixed", "value": 0.002},
               "timesteps": {"type": "choice", "values": [28, 14, 7]}}


def tune_three_trials(x, y, space=None) -> dict:
    from seqmnist_zoo.training.fit import split_validation
    from seqmnist_zoo.tuning.hypermodel import ZooHyperModel
    from seqmnist_zoo.tuning.spaces import default_space
    from seqmnist_zoo.tuning.tuners import make_tuner

    # 2,000 to fit, or four fifths of a smaller set (the other fifth validates)
    (xf, yf), (xv, yv) = split_validation(x, y, get_model_spec("lstm").recipe, min(2000, len(x) * 4 // 5))
    with tempfile.TemporaryDirectory() as folder:
        tuner = make_tuner(ZooHyperModel("lstm", space or default_space("lstm")), "random", max_trials=3,
                           epochs=1, directory=folder, seed=0)
        started = time.perf_counter()
        tuner.search(xf, yf, epochs=1, batch_size=128, validation_data=(xv, yv), verbose=0)
        return {"trials": 3, "seconds_per_trial": (time.perf_counter() - started) / 3}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 images, one family, a tiny space")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "gpu.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    x, y, data = mnist_or_noise(2000 if args.quick else 55000)
    families = ["lstm"] if args.quick else list_models(pretrained=True)
    report = {"command": "bash benchmarks/gpu.sh", "device": device_name(), "data": data,
              "backend": keras.backend.backend(), "keras": keras.__version__,
              "python": platform.python_version(), "training": {}, "inference": {}, "skipped": []}
    for name in families:
        if time.perf_counter() - started > BUDGET_S:
            report["skipped"].append(f"train {name}")
            continue
        report["training"][name] = epoch_seconds(name, x, y, get_model_spec(name).recipe.batch_size)
        report["inference"][name] = inference(name, x)
        print(name, json.dumps(report["training"][name]), json.dumps(report["inference"][name]), flush=True)
    if time.perf_counter() - started < BUDGET_S:
        report["tune"] = tune_three_trials(x, y, QUICK_SPACE if args.quick else None)
        print("tune", json.dumps(report["tune"]), flush=True)
    else:
        report["skipped"].append("tune")
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
