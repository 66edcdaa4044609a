#!/usr/bin/env bash
# Installs a command-line tool from PyPI once per version into a virtual environment outside the work tree,
# so nothing is installed into the machine's Python and nothing lands in git, and prints the path of its
# executable. Progress goes to stderr; only the path to stdout. scripts/moto.sh and scripts/schemathesis.sh
# call it with their package, version and executable.
#
#   scripts/pypi-tool.sh <name> <requirement> <executable>   e.g. moto 'moto[server]==5.2.5' moto_server
#   FLOTILLA_CACHE=/some/dir ...    where the virtual environments live (default: ~/.cache/flotilla)
set -euo pipefail
name=$1 requirement=$2 executable=$3
version=${requirement##*==}

dir="${FLOTILLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}/$name/$version"
path="$dir/venv/bin/$executable"
# The marker is written last, so an interrupted install is never taken for a finished one.
if [[ -f "$dir/installed" && -x "$path" ]]; then
  echo "$path"
  exit 0
fi

python="$(command -v python3 || true)"
if [[ -z "$python" ]] || ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "$name: installing it needs python3 with venv and ensurepip (Debian: apt-get install python3-venv)" >&2
  exit 2
fi
echo "$name: installing $requirement from PyPI into $dir/venv (once per version)" >&2
rm -rf "$dir"
mkdir -p "$dir"
"$python" -m venv "$dir/venv"
if ! "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2; then
  echo "$name: 'pip install $requirement' failed (see above): is PyPI reachable?" >&2
  exit 2
fi
echo "$version" >"$dir/installed"
echo "$path"
