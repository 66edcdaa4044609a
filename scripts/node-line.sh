#!/usr/bin/env bash
# Prints the directory of a `node` on the project's Node line (.nvmrc), for the Makefile to put first on
# PATH. When the machine's own `node` is on that line (same major, not older), it prints nothing: the
# machine's Node is used. Otherwise it fetches the official binary of exactly .nvmrc's version from the
# npm registry (the node-<os>-<arch> package carries it) into a cache outside the work tree, once per
# version and platform, and prints its bin directory. Progress goes to stderr; only the path to stdout.
#
#   scripts/node-line.sh            # the bin directory to prepend to PATH (or nothing)
#   FLOTILLA_CACHE=/some/dir ...    # where the fetched Node lives (default: ~/.cache/flotilla)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want="$(tr -d ' \t\r\nv' <"$repo/.nvmrc")"
if [[ ! "$want" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]]; then
  echo "node-line: .nvmrc must hold one exact version such as 24.22.3, not '$want'" >&2
  exit 2
fi
want_major="${BASH_REMATCH[1]}"

# Is the machine's node on the line? Same major and at least .nvmrc's version (sort -V compares).
if have="$(node --version 2>/dev/null)"; then
  have="${have#v}"
  if [[ "${have%%.*}" == "$want_major" ]] &&
    [[ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" == "$want" ]]; then
    exit 0
  fi
fi

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *)
    echo "node-line: no Node $want package for $(uname -s); install Node $want_major yourself" >&2
    exit 2
    ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *)
    echo "node-line: no Node $want package for $(uname -m); install Node $want_major yourself" >&2
    exit 2
    ;;
esac

package="node-$os-$arch"
dir="${FLOTILLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}/node/$want-$os-$arch"
if [[ ! -x "$dir/bin/node" ]]; then
  command -v npm >/dev/null 2>&1 || {
    echo "node-line: fetching Node $want needs npm on PATH (any version)" >&2
    exit 2
  }
  echo "node-line: node on PATH is ${have:-missing}; fetching Node $want ($package) from the npm registry into $dir" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # npm pack checks the tarball against the registry's integrity hash.
  if ! tarball="$(cd "$tmp" && npm pack --silent "$package@$want")" || [[ ! -f "$tmp/$tarball" ]]; then
    echo "node-line: 'npm pack $package@$want' failed (see above): is the npm registry reachable? Or install Node $want yourself" >&2
    exit 2
  fi
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp/$tarball" -C "$tmp/unpacked"
  "$tmp/unpacked/package/bin/node" --version >/dev/null
  mkdir -p "$(dirname "$dir")"
  # Another make may have fetched it meanwhile; either copy is the same release.
  [[ -x "$dir/bin/node" ]] || mv "$tmp/unpacked/package" "$dir"
fi
echo "$dir/bin"
