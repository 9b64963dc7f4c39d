#!/usr/bin/env bash
# The GPU check in one call, for a machine with an NVIDIA GPU and JAX but no TensorFlow.
#
#   bash benchmarks/gpu.sh --fetch   # here, where pip works: wheels of keras and keras-tuner into .whl/
#   bash benchmarks/gpu.sh           # there (with .whl carried): install them, then run the check
#
# Results go to $OUT/gpu.json when $OUT is set (the device tool's folder), else benchmarks/gpu.json.
# Copy MNIST to .data/mnist.npz and carry .data too, or the check times noise of MNIST's shape.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fetch" ]; then
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl keras keras-tuner kt-legacy namex optree
  exit 0
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD" KERAS_BACKEND=jax
[ -f .data/mnist.npz ] && export SEQMNIST_ZOO_DATA="$PWD/.data/mnist.npz"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
timeout 480 python3 benchmarks/gpu.py --output "${OUT:-benchmarks}/gpu.json" "$@"
