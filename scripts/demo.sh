#!/usr/bin/env bash
# The main job: from the committed shapes checkpoint (models/checkpoints/shapes.safetensors, trained by tfx train),
# draw an image for each of a handful of prompts (a labelled PNG grid, classifier-free guidance on) and caption a
# few held-out images, printing the captions. CPU reference engine; the compile + WebGPU forward + profile demo is
# scripts/demo-compile.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
out="${TFX_DEMO_DIR:-out/demo}"
mkdir -p "$out"
node_modules/.bin/tsx bench/shapes-demo.ts models/checkpoints/shapes.safetensors --out "$out" "$@"
