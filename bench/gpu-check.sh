#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU: CUDA tests with the GPU enabled, then the CUDA bench.
#   bash bench/gpu-check.sh OUT_DIR
# Writes into OUT_DIR: summary.txt, nvidia-smi.txt, npm-ci.log, vitest-cuda.log, bench.log,
# cuda-bench.json. The whole run stays under 8 minutes (each step gets what is left of the budget).
# Without a GPU or driver it says so, writes summary.txt, and exits 0 without running anything.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash bench/gpu-check.sh OUT_DIR" >&2
  exit 2
fi
OUT=$(mkdir -p "$1" && cd "$1" && pwd) || { echo "cannot create output folder $1" >&2; exit 2; }
cd "$(dirname "$0")/.." || exit 2

BUDGET_S=${TFX_GPU_CHECK_BUDGET_S:-450}
START=$(date +%s)
FAILED=0

note() { echo "$*" | tee -a "$OUT/summary.txt"; }
# Seconds left for the next step, capped at $1; 0 when the budget is spent.
left() {
  local rest=$((BUDGET_S - ($(date +%s) - START)))
  [ "$rest" -lt 0 ] && rest=0
  [ "$rest" -gt "$1" ] && rest=$1
  echo "$rest"
}
# step NAME CAP_S LOG CMD...: runs CMD under timeout, logs it, records pass/fail in the summary.
step() {
  local name=$1 cap=$2 log=$3; shift 3
  local t; t=$(left "$cap")
  if [ "$t" -lt 5 ]; then note "SKIP $name: time budget spent"; FAILED=1; return 1; fi
  local t0; t0=$(date +%s)
  timeout --kill-after=10 "$t" "$@" >"$OUT/$log" 2>&1
  local rc=$?
  local took=$(($(date +%s) - t0))
  if [ $rc -eq 0 ]; then note "PASS $name (${took}s)"
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then note "FAIL $name: timed out after ${t}s (log: $log)"; FAILED=1
  else note "FAIL $name: exit $rc after ${took}s (log: $log)"; FAILED=1; fi
  return $rc
}

: >"$OUT/summary.txt"
note "tfx gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"

# 1. A GPU and its driver, before spending time on anything else.
if ! command -v nvidia-smi >/dev/null 2>&1; then
  note "no NVIDIA GPU/driver found (nvidia-smi is not installed): nothing to check on this machine"
  exit 0
fi
if ! timeout 30 nvidia-smi -q >"$OUT/nvidia-smi.txt" 2>&1; then
  note "no NVIDIA GPU/driver found (nvidia-smi failed: $(head -n 1 "$OUT/nvidia-smi.txt")): nothing to check on this machine"
  exit 0
fi
timeout 30 nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader 2>/dev/null \
  | sed 's/^/GPU: /' | tee -a "$OUT/summary.txt"
command -v nvcc >/dev/null 2>&1 && note "nvcc: $(nvcc --version | tail -n 2 | head -n 1)" || note "nvcc: not found (nvcc tests will skip)"
if ! command -v node >/dev/null 2>&1; then note "FAIL: node is not installed"; exit 1; fi
note "node: $(node --version)"

# 2. Dependencies: npm ci unless node_modules already matches package-lock.json (offline machines).
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  note "node_modules present and current: npm ci skipped"
else
  step "npm ci" 150 npm-ci.log npm ci --no-audit --no-fund || { note "stopping: dependencies missing"; exit 1; }
fi

# 3. CUDA tests with the GPU-only ones enabled.
step "vitest test/cuda (TFX_CUDA_GPU=1)" 240 vitest-cuda.log env TFX_CUDA_GPU=1 NO_COLOR=1 npx vitest run test/cuda
grep -E "Tests|Test Files|SKIPPED|GPU:" "$OUT/vitest-cuda.log" | tee -a "$OUT/summary.txt"

# 4. The CUDA bench of the flagship model.
step "bench transfusion --backend cuda" 180 bench.log node bin/tfx.mjs bench models/transfusion.tfx --backend cuda --json "$OUT/cuda-bench.json"

timeout 20 nvidia-smi >"$OUT/nvidia-smi-after.txt" 2>&1
note "total $(($(date +%s) - START))s; results in $OUT"
exit $FAILED
