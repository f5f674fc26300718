#!/usr/bin/env bash
# `npm test`: every tier, in order, stopping at the first failure. The same command runs locally and in CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "build (esbuild bundles in dist/, used by the CLI tests)"
npm run -s build
step "typecheck"
npm run -s typecheck
step "lint"
npm run -s lint
step "format"
npm run -s format:check
step "Dockerfile lint"
bash scripts/lint-dockerfile.sh
step "unit tests"
npm run -s test:unit
step "contract tests"
npm run -s test:contract
step "cluster tests (real apiserver; JES_TEST_KUBECONFIG or the local control plane)"
npm run -s test:cluster
