#!/usr/bin/env bash
# make kind-up: create the kind cluster, install the ingress controller and metrics-server, build the
# service images, load them into the nodes, and deploy the synthesized manifests of the `local` environment
# with `make deploy` (flotilla deploy).
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
need docker kind kubectl node
versions=$(addon_versions)
eval "$versions"

if ! kind get clusters | grep -qx "$CLUSTER_NAME"; then
  kind create cluster --name "$CLUSTER_NAME" --config "$(dirname "$0")/cluster.yaml" --wait 120s
fi
kubectl config use-context "kind-${CLUSTER_NAME}"

echo "== ingress-nginx ${INGRESS_NGINX_VERSION}, metrics-server ${METRICS_SERVER_VERSION}, KEDA ${KEDA_VERSION}"
kubectl apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml"
kubectl apply -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/${METRICS_SERVER_VERSION}/components.yaml"
# kind's kubelets serve self-signed certificates.
kubectl -n kube-system patch deployment metrics-server --type=json \
  -p='[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]' || true
# KEDA's CRDs are too large for client-side apply's annotation. https://keda.sh/docs/latest/deploy/#yaml
kubectl apply --server-side -f "https://github.com/kedacore/keda/releases/download/v${KEDA_VERSION}/keda-${KEDA_VERSION}.yaml"
kubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=180s
kubectl -n keda rollout status deployment/keda-operator --timeout=180s

echo "== images"
for image in $(images_in_manifests); do
  service="$(basename "${image%%:*}")"
  if [[ -f "${REPO_ROOT}/services/${service}/Dockerfile" ]]; then
    docker build -f "${REPO_ROOT}/services/${service}/Dockerfile" -t "$image" "$REPO_ROOT"
    kind load docker-image --name "$CLUSTER_NAME" "$image"
  fi
done

echo "== manifests from ${DIST}"
# flotilla deploy (make deploy): server-side apply in dependency order, then it waits until every
# Deployment and StatefulSet is available, showing each one's progress.
make -C "$REPO_ROOT" --no-print-directory deploy ENV=local DEPLOY_FLAGS="--context kind-${CLUSTER_NAME} --timeout 5m"
echo "kind cluster '${CLUSTER_NAME}' is up: the shop answers on http://localhost/api/orders"
