#!/usr/bin/env bash
# Makes WebGPU (Dawn in Node) usable on a machine without a GPU by installing Mesa's
# software Vulkan driver (lavapipe). Dawn needs lavapipe from Mesa >= 25; Debian 12 ships
# 22.x, so the newer one comes from bookworm-backports. Idempotent: a no-op when a
# suitable driver is already there. Set TFX_SKIP_VULKAN_SETUP=1 to skip it entirely.
#   scripts/setup-vulkan.sh                 check, install if needed
#   scripts/setup-vulkan.sh --force         install from backports even if a driver looks fine
#   scripts/setup-vulkan.sh --print-mirror  print the Debian mirror apt uses, change nothing
set -euo pipefail

MIN_MESA=25
APT_DIR="${TFX_APT_DIR:-/etc/apt}" # overridable only so the mirror lookup can be tested
ICD_DIRS=(/usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d)

log() { echo "setup-vulkan: $*" >&2; }

# A vendor driver (NVIDIA's ICD) means a real GPU: leave the machine alone.
has_vendor_icd() {
  local d
  for d in "${ICD_DIRS[@]}"; do
    compgen -G "$d/nvidia*.json" >/dev/null && return 0
  done
  return 1
}

has_lavapipe_icd() {
  local d
  for d in "${ICD_DIRS[@]}"; do
    compgen -G "$d/lvp_icd*.json" >/dev/null && return 0
  done
  return 1
}

mesa_version() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true; }

lavapipe_ok() {
  has_lavapipe_icd || return 1
  command -v dpkg-query >/dev/null || return 0 # not Debian: trust whatever provides the ICD
  local v
  v="$(mesa_version)"
  [[ -n "$v" ]] && dpkg --compare-versions "$v" ge "$MIN_MESA"
}

list_files() { compgen -G "$APT_DIR/sources.list" || true; compgen -G "$APT_DIR/sources.list.d/*.list" || true; }
sources_files() { compgen -G "$APT_DIR/sources.list.d/*.sources" || true; }

# The mirror of the main Debian suite, taken from the machine's own apt sources so that the
# backports suite comes from the same (possibly local or proxied) mirror. Prints "URI" or
# "URI<TAB>KEYRING" when a deb822 source names its Signed-By keyring file.
find_mirror() {
  local f uri
  for f in $(sources_files); do
    # deb822: paragraphs separated by blank lines; pick a "deb" one whose Suites has "bookworm".
    uri="$(awk 'BEGIN { RS = ""; FS = "\n" }
      {
        uri = ""; main = 0; deb = 0; key = ""
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          if (line ~ /^Types:/ && line ~ /[ \t]deb([ \t]|$)/) deb = 1
          if (line ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", line); split(line, u, /[ \t]+/); uri = u[1] }
          if (line ~ /^Signed-By:[ \t]*[^ \t]/) { sub(/^Signed-By:[ \t]*/, "", line); key = line }
          if (line ~ /^Suites:/) { n = split(line, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == "bookworm") main = 1 }
        }
        if (deb && main && uri != "") { print uri (key != "" ? "\t" key : ""); exit }
      }' "$f")"
    if [[ -n "$uri" ]]; then echo "$uri"; return 0; fi
  done
  for f in $(list_files); do
    uri="$(sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')"
    if [[ -n "$uri" ]]; then echo "$uri"; return 0; fi
  done
  return 1
}

has_backports_source() {
  local f
  for f in $(list_files) $(sources_files); do
    grep -Ev '^[[:space:]]*#' "$f" | grep -qw 'bookworm-backports' && return 0
  done
  return 1
}

if [[ "${1:-}" == --print-mirror ]]; then
  find_mirror || { log "no Debian bookworm mirror found under $APT_DIR"; exit 1; }
  exit 0
fi
FORCE=0
[[ "${1:-}" == --force ]] && FORCE=1
if [[ "${TFX_SKIP_VULKAN_SETUP:-}" == 1 ]]; then
  log "skipped (TFX_SKIP_VULKAN_SETUP=1)"
  exit 0
fi
if [[ $FORCE == 0 ]] && has_vendor_icd; then
  log "vendor Vulkan driver found; nothing to do"
  exit 0
fi
if [[ $FORCE == 0 ]] && lavapipe_ok; then
  log "lavapipe from Mesa ${MIN_MESA}+ present ($(mesa_version)); nothing to do"
  exit 0
fi

# --- install from bookworm-backports -------------------------------------------------------
VERSION_CODENAME=""
[[ -r /etc/os-release ]] && . /etc/os-release
if [[ "$VERSION_CODENAME" != bookworm ]] || ! command -v apt-get >/dev/null; then
  log "no lavapipe from Mesa ${MIN_MESA}+ and this is not Debian 12: install mesa-vulkan-drivers (Mesa >= ${MIN_MESA}) or a GPU driver by hand"
  exit 1
fi

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { log "must run as root (or with sudo available)"; exit 1; }
  SUDO=(sudo)
fi

if ! has_backports_source; then
  found="$(find_mirror)" || { log "could not find the Debian mirror in $APT_DIR/sources.list*; add bookworm-backports by hand"; exit 1; }
  IFS=$'\t' read -r mirror keyring <<<"$found"
  log "adding bookworm-backports from $mirror"
  {
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n' "$mirror"
    if [[ -n "${keyring:-}" ]]; then printf 'Signed-By: %s\n' "$keyring"; fi
  } | "${SUDO[@]}" tee "$APT_DIR/sources.list.d/tfx-bookworm-backports.sources" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
log "installing mesa-vulkan-drivers from bookworm-backports"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null

if lavapipe_ok; then
  log "installed lavapipe ($(mesa_version))"
else
  log "mesa-vulkan-drivers installed but no lavapipe from Mesa ${MIN_MESA}+ found ($(mesa_version))"
  exit 1
fi
