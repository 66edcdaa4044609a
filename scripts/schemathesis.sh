#!/usr/bin/env bash
# Prints the path of Schemathesis's command line (`st`), the API fuzzer `make fuzz` runs against the shop's
# OpenAPI documents. It is installed once per version from PyPI into a virtual environment outside the work
# tree (scripts/pypi-tool.sh). Progress goes to stderr; only the path to stdout.
#
#   scripts/schemathesis.sh         # the st executable (installs it on first use)
#   FLOTILLA_CACHE=/some/dir ...    # where the virtual environment lives (default: ~/.cache/flotilla)
set -euo pipefail

# The one place Schemathesis's version is written. https://pypi.org/project/schemathesis/
version=4.32.5

exec "$(dirname "$0")/pypi-tool.sh" schemathesis "schemathesis==$version" st
