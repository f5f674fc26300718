#!/usr/bin/env bash
# `npm start`: run the functions locally with embedded defaults.
#  - Kubernetes: $KUBECONFIG or ~/.kube/config when present, else the local control plane of the cluster test tier
#    (built and started on first use; `npm run cluster:down` stops it).
#  - Config: the bundled examples/config directory (override with CONFIG_DIR or KEPTN_API_URL).
#  - Results: printed to the log and written to .jes-local/results/ (no Keptn API or sink needed).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${KUBECONFIG:-}" && ! -f "$HOME/.kube/config" ]]; then
  echo "[start] no kubeconfig found: starting the local control plane (npm run cluster:up)" >&2
  eval "$(bash tools/testenv/cluster-up.sh | tail -n 1)"
fi
export KUBECONFIG="${KUBECONFIG:-$HOME/.kube/config}"

npm run -s build

export HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8080}"
if [[ -z "${KEPTN_API_URL:-}" ]]; then export CONFIG_DIR="${CONFIG_DIR:-$PWD/examples/config}"; fi
export RESULTS_DIR="${RESULTS_DIR:-$PWD/.jes-local/results}"
export JOB_NAMESPACE="${JOB_NAMESPACE:-default}"
export LOG_LEVEL="${LOG_LEVEL:-info}"
export RECONCILE_INTERVAL_SECONDS="${RECONCILE_INTERVAL_SECONDS:-5}"

echo "[start] handler + reconciler on http://$HOST:$PORT/ (kubeconfig $KUBECONFIG, config ${CONFIG_DIR:-$KEPTN_API_URL})" >&2
exec node dist/local.js
