#!/usr/bin/env bash
# Prints the path of Schemathesis's command line (`st`), the API fuzzer `make fuzz` runs against the shop's
# OpenAPI documents. It is installed once per version from PyPI into a virtual environment outside the work
# tree, so nothing is installed into the machine's Python and nothing lands in git. Progress goes to stderr;
# only the path to stdout.
#
#   scripts/schemathesis.sh         # the st executable (installs it on first use)
#   FLOTILLA_CACHE=/some/dir ...    # where the virtual environment lives (default: ~/.cache/flotilla)
set -euo pipefail

# The one place Schemathesis's version is written. https://pypi.org/project/schemathesis/
version=4.32.5

dir="${FLOTILLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}/schemathesis/$version"
st="$dir/venv/bin/st"
# The marker is written last, so an interrupted install is never taken for a finished one.
if [[ -f "$dir/installed" && -x "$st" ]]; then
  echo "$st"
  exit 0
fi

python="$(command -v python3 || true)"
if [[ -z "$python" ]] || ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "schemathesis: installing it needs python3 (3.9 or newer) with venv and ensurepip (Debian: apt-get install python3-venv)" >&2
  exit 2
fi
echo "schemathesis: installing schemathesis==$version from PyPI into $dir/venv (once per version)" >&2
rm -rf "$dir"
mkdir -p "$dir"
"$python" -m venv "$dir/venv"
if ! "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version" >&2; then
  echo "schemathesis: 'pip install schemathesis==$version' failed (see above): is PyPI reachable?" >&2
  exit 2
fi
echo "$version" >"$dir/installed"
echo "$st"
