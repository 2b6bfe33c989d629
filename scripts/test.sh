#!/usr/bin/env bash
# The test suite, with its own set-up (dependencies, software Vulkan): what CI runs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
npx tsc --noEmit -p .
npx vitest run "$@"
