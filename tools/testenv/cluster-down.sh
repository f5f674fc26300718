#!/usr/bin/env bash
# Stops every process cluster-up.sh started (by pid file, verified against
# /proc/<pid>/exe) and removes the run state (pids, logs, certs, kubeconfig,
# etcd data). The binary cache is kept. Idempotent.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

RUN="$JES_TESTENV_RUN"
if [[ ! -d "$RUN" ]]; then
  log "nothing to do: no run dir $RUN"
  exit 0
fi
RUN="$(cd "$RUN" && pwd)"

exec 8>"${RUN}.lock"
flock 8

testenv_stop_all "$RUN"

left=""
for c in "${TESTENV_COMPONENTS[@]}"; do
  if pid="$(testenv_pid_of "$RUN" "$c")"; then left+=" $c($pid)"; fi
done
[[ -z "$left" ]] || die "still running:$left (run dir kept: $RUN)"

if [[ -f "$RUN/etcd-data-dir" ]]; then
  etcd_root="$(cat "$RUN/etcd-data-dir")"
  case "$etcd_root" in
    /dev/shm/jes-testenv-*|"$RUN"/*) rm -rf "$etcd_root" ;;
    *) log "WARNING: not removing unexpected etcd data dir '$etcd_root'" ;;
  esac
fi
rm -rf "$RUN"
log "cluster down; removed $RUN (binary cache kept in ${JES_TESTENV_CACHE}/bin)"
