#!/usr/bin/env bash
# Regenerates the typed constructs in this folder from the vendored CRDs in ../crds (see ../crds/README.md).
# CRDs of one API group are imported together: `cdk8s import` writes one file per group, so importing
# them one by one would overwrite each other. The import line is rewritten to type-only imports because
# the workspace compiles with `verbatimModuleSyntax`.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
group() { # <name> <crd files...>
  local name=$1
  shift
  for f in "$@"; do
    cat "$f"
    echo '---'
  done >"$tmp/$name.yaml"
  # cdk8s-cli checks for a newer version of itself over the network after writing the file and fails
  # offline; the generated file is what counts, so the exit code is ignored and the output checked.
  npx cdk8s import "$tmp/$name.yaml" --language typescript --output imports >/dev/null 2>&1 || true
}
group sqs crds/ack/sqs.services.k8s.aws_queues.yaml
group sns crds/ack/sns.services.k8s.aws_topics.yaml crds/ack/sns.services.k8s.aws_subscriptions.yaml
group iam crds/ack/iam.services.k8s.aws_roles.yaml crds/ack/iam.services.k8s.aws_policies.yaml
group eks crds/ack/eks.services.k8s.aws_podidentityassociations.yaml
group keda crds/keda/keda.sh_scaledobjects.yaml crds/keda/keda.sh_triggerauthentications.yaml
group argo crds/argo-cd/application-crd.yaml crds/argo-cd/appproject-crd.yaml
group eso crds/external-secrets/external-secrets.io_externalsecrets.yaml
for f in sqs.services.k8s.aws sns.services.k8s.aws iam.services.k8s.aws eks.services.k8s.aws keda.sh argoproj.io \
  external-secrets.io; do
  test -s "imports/$f.ts" || { echo "cdk8s import did not write imports/$f.ts" >&2; exit 1; }
done
sed -i "s/^import { ApiObject, ApiObjectMetadata, GroupVersionKind } from 'cdk8s';/import { ApiObject, type ApiObjectMetadata, type GroupVersionKind } from 'cdk8s';/" imports/*.ts
