# Source this (". scripts/env.sh") before running WebGPU code. Mesa's Vulkan drivers want
# XDG_RUNTIME_DIR to be a writable directory owned by the user with mode 0700; containers and
# CI often leave it unset or point it at a directory that does not exist.
# Safe to source from scripts that run under "set -euo pipefail".
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "${XDG_RUNTIME_DIR}" ] || [ ! -w "${XDG_RUNTIME_DIR}" ]; then
  XDG_RUNTIME_DIR="${TMPDIR:-/tmp}/xdg-runtime-$(id -u)"
  mkdir -p "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  export XDG_RUNTIME_DIR
fi
