#!/usr/bin/env bash
# Prints the path of moto's server (`moto_server`), a second, independent implementation of the AWS APIs
# the platform uses (X-Ray, CloudWatch Logs, SQS, SNS, Cloud Map), for tests that run against it. It is
# installed once per version from PyPI (`moto[server]`) into a virtual environment outside the work tree,
# so nothing is installed into the machine's Python and nothing lands in git. Progress goes to stderr;
# only the path to stdout.
#
#   scripts/moto.sh                 # the moto_server executable (installs it on first use)
#   FLOTILLA_CACHE=/some/dir ...    # where the virtual environment lives (default: ~/.cache/flotilla)
set -euo pipefail

# The one place moto's version is written. https://pypi.org/project/moto/
version=5.2.5

dir="${FLOTILLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flotilla}/moto/$version"
server="$dir/venv/bin/moto_server"
# The marker is written last, so an interrupted install is never taken for a finished one.
if [[ -f "$dir/installed" && -x "$server" ]]; then
  echo "$server"
  exit 0
fi

python="$(command -v python3 || true)"
if [[ -z "$python" ]] || ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "moto: installing moto needs python3 with venv and ensurepip (Debian: apt-get install python3-venv)" >&2
  exit 2
fi
echo "moto: installing moto[server]==$version from PyPI into $dir/venv (once per version)" >&2
rm -rf "$dir"
mkdir -p "$dir"
"$python" -m venv "$dir/venv"
if ! "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$version" >&2; then
  echo "moto: 'pip install moto[server]==$version' failed (see above): is PyPI reachable?" >&2
  exit 2
fi
echo "$version" >"$dir/installed"
echo "$server"
