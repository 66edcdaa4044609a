#!/usr/bin/env bash
# make kind-down: delete the kind cluster.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
need kind
kind delete cluster --name "$CLUSTER_NAME"
