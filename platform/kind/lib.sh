# shellcheck shell=bash disable=SC2034
# Shared by the kind-* scripts: tool checks and the values every script needs.
set -euo pipefail
CLUSTER_NAME="${KIND_CLUSTER_NAME:-flotilla}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIST="${REPO_ROOT}/dist/local"
# ingress-nginx's manifest for kind, pinned. https://kind.sigs.k8s.io/docs/user/ingress/
INGRESS_NGINX_VERSION="${INGRESS_NGINX_VERSION:-controller-v1.12.1}"
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.7.2}"
# KEDA scales the queue consumers (ScaledObject); the same version as charts-ts/crds/keda.
KEDA_VERSION="${KEDA_VERSION:-2.21.0}"

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
