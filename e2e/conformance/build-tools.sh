#!/usr/bin/env bash
# Builds (or reuses) the two tools `make conformance` runs — kube-apiserver and etcd — from their Go
# modules, at the versions e2e/conformance/tools/go.mod pins, and prints one line per tool:
#   <name> <version> <path>
# Binaries are cached outside the work tree, one folder per tool and version:
#   ${FLOTILLA_CACHE:-~/.cache/flotilla}/conformance/<tool>/<version>/<tool>
# so a later run on the same machine reuses them. Progress goes to stderr. When a tool cannot be built
# the script exits non-zero naming what is missing and how to get it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/tools"
cache="${FLOTILLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}/conformance"

fail() {
  echo "conformance: $*" >&2
  exit 2
}

# The version of a module as go.mod requires it (one source of truth for versions).
required() {
  awk -v mod="$1" '$1 == mod && $2 ~ /^v/ { print $2; exit }' "$tools/go.mod"
}

need_go() {
  local want have
  want="$(awk '$1 == "go" { print $2; exit }' "$tools/go.mod")"
  command -v go >/dev/null 2>&1 ||
    fail "building kube-apiserver and etcd needs Go >= $want, and there is no 'go' on PATH: install it from https://go.dev/dl/ (or your package manager) and run again"
  have="$(go env GOVERSION)"
  have="${have#go}"
  [[ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" == "$want" ]] ||
    fail "building kube-apiserver and etcd needs Go >= $want (k8s.io/kubernetes requires it); this 'go' is $have: install a newer one from https://go.dev/dl/"
}

# build <tool> <version> <package> [ldflags]: builds into a temporary folder in the cache and renames it
# into place, so an interrupted build never leaves a half-written binary that a later run would reuse.
build() {
  local tool="$1" version="$2" pkg="$3" ldflags="${4:-}" dir tmp started
  dir="$cache/$tool/$version"
  if [[ -x "$dir/$tool" ]] && "$dir/$tool" --version >/dev/null 2>&1; then
    echo "conformance: reusing $tool $version from $dir" >&2
    echo "$tool $version $dir/$tool"
    return
  fi
  need_go
  mkdir -p "$cache/$tool"
  tmp="$(mktemp -d "$cache/$tool/.build.XXXXXX")"
  started=$SECONDS
  echo "conformance: building $tool $version from the Go module proxy (a cold build takes many minutes)" >&2
  if ! (cd "$tools" && go build -mod=readonly -trimpath -buildvcs=false -ldflags "-s -w $ldflags" -o "$tmp/$tool" "$pkg") >&2; then
    rm -rf "$tmp"
    fail "could not build $tool $version (the Go output above says why). It is built from the Go module proxy: check that 'go mod download' reaches it (GOPROXY=$(go env GOPROXY)), or put a $tool $version binary at $dir/$tool"
  fi
  chmod 755 "$tmp"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  echo "conformance: built $tool $version in $((SECONDS - started))s" >&2
  echo "$tool $version $dir/$tool"
}

kube="$(required k8s.io/kubernetes)"
etcd="$(required go.etcd.io/etcd/server/v3)"
[[ -n "$kube" && -n "$etcd" ]] || fail "$tools/go.mod must require k8s.io/kubernetes and go.etcd.io/etcd/server/v3"

# The version the API server reports (and derives its compatibility version from) is stamped at link
# time, as Kubernetes' own build does; unstamped it would call itself v0.0.0-master.
minor="${kube#v1.}"
minor="${minor%%.*}"
stamp=(
  "-X k8s.io/component-base/version.gitVersion=$kube"
  "-X k8s.io/component-base/version.gitMajor=1"
  "-X k8s.io/component-base/version.gitMinor=$minor"
  "-X k8s.io/component-base/version.gitTreeState=clean"
)
build kube-apiserver "$kube" ./kube-apiserver "${stamp[*]}"
build etcd "$etcd" ./etcd
