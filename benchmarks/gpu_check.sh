#!/usr/bin/env bash
# The GPU check of issue 26 in one go (see benchmarks/gpu_check.py's docstring):
# environment, the gpu-marked tests, training and inference timings against
# their targets, a CUDA-trained model loaded on the CPU; results in
# gpu_check_results/ (or --out DIR). Extra arguments go to gpu_check.py.
#
#   benchmarks/gpu_check.sh                 # on a GPU machine: at most 8 minutes
#   benchmarks/gpu_check.sh --dry-run       # the same steps on the CPU, seconds
#
# The script keeps to its own time budget (--budget, 450 s); this wrapper's
# limit (GPU_CHECK_LIMIT_S, 480 s) stops it if it does not, and the results
# written after each finished step stay.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec timeout --kill-after=10 "${GPU_CHECK_LIMIT_S:-480}" \
    "${PYTHON:-python}" benchmarks/gpu_check.py "$@"
