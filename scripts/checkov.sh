#!/usr/bin/env bash
# Runs Checkov on dist/ with the skip list of .checkov.yaml. Checkov comes from PyPI into a virtualenv
# outside the work tree, keyed by version ($FLOTILLA_CACHE or ~/.cache/flotilla), installed once.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV_VERSION=3.3.30
venv="${FLOTILLA_CACHE:-$HOME/.cache/flotilla}/checkov/${CHECKOV_VERSION}/venv"
if [[ ! -x "$venv/bin/checkov" ]]; then
  echo "installing Checkov ${CHECKOV_VERSION} into ${venv} (once)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==${CHECKOV_VERSION}"
fi
"$venv/bin/checkov" --config-file .checkov.yaml
