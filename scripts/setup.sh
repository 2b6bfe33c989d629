#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: npm dependencies, software Vulkan when there is no GPU driver.
# Sourced by demo.sh and test.sh (it exports XDG_RUNTIME_DIR for Dawn).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
stamp=node_modules/.tfx-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  # npm 11 skips install scripts by default; koffi and webgpu ship prebuilt binaries, so none are needed.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund >&2
  cp package-lock.json "$stamp"
fi
bash scripts/setup-vulkan.sh >&2
. scripts/env.sh
