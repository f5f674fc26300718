#!/usr/bin/env bash
# `npm run test:cluster`: the cluster tier. Against JES_TEST_KUBECONFIG when set (any cluster: kind, k3d, a real one),
# else against the local control plane (tools/testenv), which is built on first use and started if it is not up.
# If the control plane cannot be built or started, this fails: the tier never skips silently.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${JES_TEST_KUBECONFIG:-}" ]]; then
  export KUBECONFIG="$JES_TEST_KUBECONFIG"
  echo "[cluster] using JES_TEST_KUBECONFIG=$KUBECONFIG" >&2
else
  start=$(date +%s)
  line=$(bash tools/testenv/cluster-up.sh | tail -n 1)
  [[ "$line" == export\ KUBECONFIG=* ]] || { echo "[cluster] cluster-up did not print the kubeconfig" >&2; exit 1; }
  eval "$line"
  echo "[cluster] local control plane up in $(( $(date +%s) - start ))s ($KUBECONFIG)" >&2
fi

[[ -f dist/handler.js && -f dist/reconciler.js && -f dist/cli.js ]] || npm run -s build
exec tsx --test --test-concurrency=1 "tests/cluster/**/*.test.ts"
