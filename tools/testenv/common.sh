# shellcheck shell=bash disable=SC2034
# Shared settings for the testenv scripts (sourced, not executed).
# Everything the scripts write lives OUTSIDE the repository.

TESTENV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Pinned versions (the etcd version is whatever k8s.io/kubernetes pins in go.sum).
K8S_VERSION="v1.34.4"
K8S_STAGING_VERSION="v0.34.4"
ETCD_VERSION="v3.6.4"
KWOK_VERSION="v0.8.0"
# kwok custom resources watched from the apiserver (kwok --enable-crds); their
# CRDs are installed by cluster-up.sh from the kwok module in GOMODCACHE.
KWOK_ENABLE_CRDS="Logs"
# Bump when the build recipe (flags, mains) changes in a way go.sum does not show.
BUILD_RECIPE="1"

JES_TESTENV_CACHE="${JES_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jes-testenv}"
JES_TESTENV_RUN="${JES_TESTENV_RUN:-$JES_TESTENV_CACHE/run}"

# Ports (all servers bind 127.0.0.1 only).
JES_TESTENV_APISERVER_PORT="${JES_TESTENV_APISERVER_PORT:-16443}"
JES_TESTENV_ETCD_PORT="${JES_TESTENV_ETCD_PORT:-16379}"
JES_TESTENV_ETCD_PEER_PORT="${JES_TESTENV_ETCD_PEER_PORT:-16380}"
JES_TESTENV_KCM_PORT="${JES_TESTENV_KCM_PORT:-16257}"
JES_TESTENV_SCHEDULER_PORT="${JES_TESTENV_SCHEDULER_PORT:-16259}"
JES_TESTENV_KWOK_PORT="${JES_TESTENV_KWOK_PORT:-16250}"

JES_TESTENV_NODE_NAME="${JES_TESTENV_NODE_NAME:-kwok-node-0}"
JES_TESTENV_TIMEOUT="${JES_TESTENV_TIMEOUT:-90}"

log() { printf '[testenv] %s\n' "$*" >&2; }
die() { printf '[testenv] ERROR: %s\n' "$*" >&2; exit 1; }

# Components in start order; they are stopped in reverse order.
TESTENV_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# testenv_pid_of RUN_DIR NAME -> prints the pid if <RUN_DIR>/pids/NAME.pid
# names a live process whose executable is our NAME binary (guards against
# pid reuse: an unrelated process is never signalled).
testenv_pid_of() {
  local f="$1/pids/$2.pid" pid exe
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  testenv_alive "$pid" || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  exe="${exe% (deleted)}"
  [[ "$exe" == */"$2" && "$exe" == "${JES_TESTENV_CACHE}/bin/"* ]] || return 1
  echo "$pid"
}

# testenv_alive PID -> 0 if PID exists and is not a zombie (our daemons are
# re-parented to PID 1 once cluster-up.sh exits, which may reap them late).
testenv_alive() {
  local st
  st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  st="${st##*) }"
  [[ "${st:0:1}" != Z ]]
}

# testenv_stop_all RUN_DIR -> SIGTERM (then SIGKILL after 10s) every
# component recorded in RUN_DIR/pids, in reverse start order.
testenv_stop_all() {
  local run="$1" c pid i stopped=()
  for ((i=${#TESTENV_COMPONENTS[@]}-1; i>=0; i--)); do
    c="${TESTENV_COMPONENTS[$i]}"
    if pid="$(testenv_pid_of "$run" "$c")"; then
      local t0; t0=$(date +%s%N)
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 200); do testenv_alive "$pid" || break; sleep 0.05; done
      if testenv_alive "$pid"; then
        log "$c (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do testenv_alive "$pid" || break; sleep 0.1; done
      fi
      if testenv_alive "$pid"; then
        log "WARNING: $c (pid $pid) is still running"
      else
        log "stopped $c (pid $pid) in $(( ($(date +%s%N) - t0) / 1000000 ))ms"
        stopped+=("$pid")
      fi
    fi
    rm -f "$run/pids/$c.pid"
  done
  # Give PID 1 a moment to reap the exited daemons so that no <defunct>
  # entries linger (pgrep would still list those).
  for _ in $(seq 1 100); do
    for pid in "${stopped[@]}"; do [[ -e "/proc/$pid" ]] && break; pid=""; done
    [[ -z "${pid:-}" ]] && break
    sleep 0.05
  done
  return 0
}

# testenv_kwok_crd_file KIND -> prints the path of the CRD manifest of kwok
# custom resource KIND (e.g. Logs) in the kwok module of the Go module cache,
# downloading the module (not building anything) if the cache lost it.
testenv_kwok_crd_file() {
  local modcache dir f
  modcache="$(GOTOOLCHAIN=local go env GOMODCACHE 2>/dev/null)" || return 1
  [[ -n "$modcache" ]] || return 1
  dir="$modcache/sigs.k8s.io/kwok@${KWOK_VERSION}/kustomize/crd/bases"
  if [[ ! -d "$dir" ]]; then
    log "downloading sigs.k8s.io/kwok@${KWOK_VERSION} into the Go module cache (for its CRDs)"
    (cd / && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kwok@${KWOK_VERSION}") >&2 || return 1
  fi
  f="$(grep -lx -- "    kind: $1" "$dir"/*.yaml 2>/dev/null | head -n1)"
  [[ -n "$f" ]] || return 1
  echo "$f"
}
