#!/usr/bin/env bash
# Prints the path of moto's server (`moto_server`), a second, independent implementation of the AWS APIs
# the platform uses (X-Ray, CloudWatch Logs, SQS, SNS, Cloud Map), for tests that run against it. It is
# installed once per version from PyPI (`moto[server]`) into a virtual environment outside the work tree
# (scripts/pypi-tool.sh). Progress goes to stderr; only the path to stdout.
#
#   scripts/moto.sh                 # the moto_server executable (installs it on first use)
#   FLOTILLA_CACHE=/some/dir ...    # where the virtual environment lives (default: ~/.cache/flotilla)
set -euo pipefail

# The one place moto's version is written. https://pypi.org/project/moto/
version=5.2.5

exec "$(dirname "$0")/pypi-tool.sh" moto "moto[server]==$version" moto_server
