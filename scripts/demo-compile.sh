#!/usr/bin/env bash
# Compile the Transfusion spec (tiny preset) and run its forward pass on WebGPU, with a profile.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
spec=models/transfusion.tfx
out="${TFX_DEMO_DIR:-out/demo}"
mkdir -p "$out"
node bin/tfx.mjs check "$spec"
node bin/tfx.mjs compile "$spec" --preset tiny --entry forward --stats -o "$out/wgsl"
node bin/tfx.mjs init "$spec" --preset tiny --seed 0 -o "$out/weights.safetensors"
node bin/tfx.mjs example-inputs "$spec" --preset tiny --entry forward --seed 1 -o "$out/inputs.safetensors"
node bin/tfx.mjs run "$spec" --preset tiny --entry forward --backend webgpu --profile \
  --weights "$out/weights.safetensors" --inputs "$out/inputs.safetensors" -o "$out/outputs.safetensors"
