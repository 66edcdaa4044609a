# shellcheck shell=bash disable=SC2034
# Shared by the kind-* scripts: tool checks and the values every script needs.
set -euo pipefail
CLUSTER_NAME="${KIND_CLUSTER_NAME:-flotilla}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIST="${REPO_ROOT}/dist/local"

# The add-ons' versions (ingress-nginx, metrics-server, KEDA) come from the add-on table
# (charts-ts/src/addons/table.ts), printed as shell assignments; `make kind-up` installed node_modules.
addon_versions() {
  (cd "$REPO_ROOT" && node --conditions=flotilla-source --import tsx charts-ts/src/addons/kind-env.ts)
}

need() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if ((${#missing[@]})); then
    echo "kind targets need: ${missing[*]} (install them; Docker must be running)" >&2
    exit 1
  fi
  if [[ " $* " == *" docker "* ]] && ! docker info >/dev/null 2>&1; then
    echo "kind targets need a running Docker engine: 'docker info' failed" >&2
    exit 1
  fi
}

# Image references exactly as the synthesized manifests use them, so scripts and charts cannot disagree.
images_in_manifests() {
  grep -h '^ *image: ' "$DIST"/*.yaml | sed -E 's/^ *image: *"?([^"]+)"?$/\1/' | sort -u
}
