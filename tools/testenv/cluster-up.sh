#!/usr/bin/env bash
# Starts a real Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) plus KWOK with one fake node, all
# on 127.0.0.1 and without any container runtime.
#
# Idempotent: if the cluster is already up and healthy it only prints the
# export line. Everything goes to stderr except the LAST line on stdout:
#   export KUBECONFIG=<absolute path to the admin kubeconfig>
# so callers can do:  eval "$(bash tools/testenv/cluster-up.sh | tail -n1)"
#
# See tools/testenv/README.md for ports, env overrides and the pod contract.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

for tool in openssl curl jq flock setsid; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required (apt-get install -y openssl curl jq util-linux)"
done

T0=$(date +%s)
BIN_DIR="$(bash "$TESTENV_DIR/build.sh" | tail -n1)"
[[ -x "$BIN_DIR/kube-apiserver" ]] || die "build.sh did not produce binaries (got '$BIN_DIR')"

RUN="$JES_TESTENV_RUN"
mkdir -p "$(dirname "$RUN")"
RUN="$(cd "$(dirname "$RUN")" && pwd)/$(basename "$RUN")"
PKI="$RUN/pki"
LOGS="$RUN/logs"
PIDS="$RUN/pids"
KUBECONFIG_FILE="$RUN/kubeconfig"
APISERVER_URL="https://127.0.0.1:${JES_TESTENV_APISERVER_PORT}"

# One cluster-up/cluster-down at a time per run dir.
exec 8>"${RUN}.lock"
flock 8

# ---------------------------------------------------------------- helpers
pid_of() { testenv_pid_of "$RUN" "$1"; }

api() { # api METHOD PATH [curl args...]
  local m="$1" p="$2"; shift 2
  curl -sS --max-time 10 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    -X "$m" "${APISERVER_URL}${p}" "$@"
}

node_ready() {
  local js
  js="$(api GET "/api/v1/nodes/${JES_TESTENV_NODE_NAME}" 2>/dev/null)" || return 1
  jq -e '(.status.conditions // [] | any(.type == "Ready" and .status == "True"))
         and ((.spec.taints // []) | length == 0)' >/dev/null <<<"$js"
}

healthy() {
  local c
  for c in "${TESTENV_COMPONENTS[@]}"; do pid_of "$c" >/dev/null || return 1; done
  [[ -f "$KUBECONFIG_FILE" ]] || return 1
  [[ "$(api GET /readyz 2>/dev/null)" == "ok" ]] || return 1
  node_ready
}

print_export() {
  log "cluster ready in $(( $(date +%s) - T0 ))s; apiserver ${APISERVER_URL}"
  log "  kubectl --kubeconfig ${KUBECONFIG_FILE} get nodes"
  echo "export KUBECONFIG=${KUBECONFIG_FILE}"
}

fail() { # fail COMPONENT MESSAGE
  log "ERROR: $2"
  if [[ -f "$LOGS/$1.log" ]]; then
    log "----- last 40 lines of $LOGS/$1.log -----"
    tail -n 40 "$LOGS/$1.log" >&2 || true
    log "----- end of $1 log -----"
  fi
  if [[ "${JES_TESTENV_KEEP_ON_FAILURE:-0}" != "1" ]]; then
    log "stopping what was started (logs are kept in $LOGS; set JES_TESTENV_KEEP_ON_FAILURE=1 to keep processes)"
    stop_all
  fi
  exit 1
}

stop_all() { testenv_stop_all "$RUN"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() { # start NAME ARGS...
  local name="$1"; shift
  # fd 8 (the run-dir lock) must not leak into the long-running children.
  setsid "$BIN_DIR/$name" "$@" </dev/null >"$LOGS/$name.log" 2>&1 8>&- &
  echo $! >"$PIDS/$name.pid"
  log "started $name (pid $!)"
}

wait_for() { # wait_for COMPONENT DESCRIPTION COMMAND...
  local comp="$1" desc="$2"; shift 2
  local deadline=$(( $(date +%s) + JES_TESTENV_TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    pid_of "$comp" >/dev/null || fail "$comp" "$comp exited while waiting for $desc"
    (( $(date +%s) < deadline )) || fail "$comp" "timed out after ${JES_TESTENV_TIMEOUT}s waiting for $desc"
    sleep 0.2
  done
  log "$desc: ok ($(( $(date +%s) - T0 ))s)"
}

# ---------------------------------------------------------------- already up?
if healthy; then
  log "already up and healthy (run dir $RUN)"
  # A cluster started by an older cluster-up.sh keeps running as it was started
  # (it may be shared); only tell the caller what it lacks.
  if ! tr '\0' '\n' <"/proc/$(pid_of kwok)/cmdline" 2>/dev/null | grep -qx -- "--enable-crds=${KWOK_ENABLE_CRDS}"; then
    log "WARNING: this cluster's kwok was started without --enable-crds=${KWOK_ENABLE_CRDS} (an older cluster-up.sh):"
    log "  per-pod Logs objects have no effect until cluster-down.sh + cluster-up.sh"
  fi
  print_export
  exit 0
fi

# Anything left over (half-started, crashed, stale pid files) is torn down.
if [[ -d "$RUN" ]]; then
  log "cleaning stale run state in $RUN"
  stop_all
  [[ -f "$RUN/etcd-data-dir" ]] && rm -rf "$(cat "$RUN/etcd-data-dir")"
  rm -rf "$RUN"
fi

ports=("$JES_TESTENV_ETCD_PORT" "$JES_TESTENV_ETCD_PEER_PORT" "$JES_TESTENV_APISERVER_PORT"
       "$JES_TESTENV_KCM_PORT" "$JES_TESTENV_SCHEDULER_PORT" "$JES_TESTENV_KWOK_PORT")
[[ "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" == "${#ports[@]}" ]] \
  || die "the JES_TESTENV_*_PORT values must all differ (got: ${ports[*]})"
for p in "$JES_TESTENV_ETCD_PORT" "$JES_TESTENV_ETCD_PEER_PORT" "$JES_TESTENV_APISERVER_PORT" \
         "$JES_TESTENV_KCM_PORT" "$JES_TESTENV_SCHEDULER_PORT" "$JES_TESTENV_KWOK_PORT"; do
  port_free "$p" || die "port 127.0.0.1:$p is already in use (another cluster? override with JES_TESTENV_*_PORT, see README)"
done

# The CRDs of the kwok custom resources we let kwok watch (--enable-crds) come
# from the kwok module in the Go module cache (build.sh's `go install` puts it
# there); they are never copied into the repository.
KWOK_CRD_FILES=()
for kind in ${KWOK_ENABLE_CRDS//,/ }; do
  f="$(testenv_kwok_crd_file "$kind")" || die "cannot find the CRD of kwok kind '$kind' (sigs.k8s.io/kwok@${KWOK_VERSION} in the Go module cache)"
  KWOK_CRD_FILES+=("$f")
done

mkdir -p "$PKI" "$LOGS" "$PIDS"

# ---------------------------------------------------------------- PKI
log "creating PKI in $PKI"
(
  cd "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -keyout ca.key -out ca.crt -subj "/CN=jes-testenv-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout admin.key -out admin.csr \
    -subj "/O=system:masters/CN=kwok-admin" 2>/dev/null
  cat >admin.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 3650 \
    -extfile admin.ext -out admin.crt 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  chmod 600 ./*.key
) || die "openssl failed to create the PKI"

cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: jes-testenv
  cluster:
    certificate-authority: $PKI/ca.crt
    server: $APISERVER_URL
users:
- name: kwok-admin
  user:
    client-certificate: $PKI/admin.crt
    client-key: $PKI/admin.key
contexts:
- name: jes-testenv
  context:
    cluster: jes-testenv
    user: kwok-admin
current-context: jes-testenv
EOF
chmod 600 "$KUBECONFIG_FILE"

# ---------------------------------------------------------------- kwok config
LOG_FILE="${JES_TESTENV_LOG_FILE:-$RUN/pod-logs/testenv.log}"
[[ "$LOG_FILE" == /* ]] || LOG_FILE="$(pwd)/$LOG_FILE"
if [[ ! -f "$LOG_FILE" ]]; then
  mkdir -p "$(dirname "$LOG_FILE")"
  ts="2026-01-01T00:00:0"
  {
    echo "${ts}0.000000000Z stdout F testenv log line 1"
    echo "${ts}1.000000000Z stdout F testenv log line 2"
    echo "${ts}2.000000000Z stderr F testenv log line 3 (stderr)"
    echo "${ts}3.000000000Z stdout F testenv log line 4"
    echo "${ts}4.000000000Z stdout F testenv log line 5: done"
  } >"$LOG_FILE"
fi
{
  cat "$TESTENV_DIR/kwok-stages.yaml"
  cat <<EOF
---
# Every container of every managed pod serves the same CRI-format log file.
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: jes-testenv-all-pods
spec:
  selector: {}
  logs:
  - logsFile: $LOG_FILE
    follow: true
EOF
} >"$RUN/kwok.yaml"

# ---------------------------------------------------------------- etcd
# etcd data lives on tmpfs when possible (fast, and nothing to fsync).
if [[ -d /dev/shm && -w /dev/shm ]]; then
  ETCD_ROOT="/dev/shm/jes-testenv-$(printf '%s' "$RUN" | sha256sum | cut -c1-12)"
else
  ETCD_ROOT="$RUN/etcd"
fi
rm -rf "$ETCD_ROOT"; mkdir -p "$ETCD_ROOT/data"; chmod 700 "$ETCD_ROOT" "$ETCD_ROOT/data"
echo "$ETCD_ROOT" >"$RUN/etcd-data-dir"

ETCD_URL="http://127.0.0.1:${JES_TESTENV_ETCD_PORT}"
ETCD_PEER_URL="http://127.0.0.1:${JES_TESTENV_ETCD_PEER_PORT}"
start etcd \
  --name=testenv \
  --data-dir="$ETCD_ROOT/data" \
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="$ETCD_PEER_URL" --initial-advertise-peer-urls="$ETCD_PEER_URL" \
  --initial-cluster="testenv=$ETCD_PEER_URL" --initial-cluster-state=new \
  --auto-compaction-retention=1 --quota-backend-bytes=8589934592 \
  --unsafe-no-fsync=true --log-level=warn
wait_for etcd "etcd ${ETCD_URL}/health" \
  bash -c "curl -sf --max-time 2 '${ETCD_URL}/health' | grep -q '\"health\":\"true\"'"

# ---------------------------------------------------------------- apiserver
start kube-apiserver \
  --etcd-servers="$ETCD_URL" --etcd-prefix=/registry \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
  --secure-port="$JES_TESTENV_APISERVER_PORT" \
  --tls-cert-file="$PKI/admin.crt" --tls-private-key-file="$PKI/admin.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --endpoint-reconciler-type=none \
  --authorization-mode=Node,RBAC \
  --allow-privileged=true \
  --enable-priority-and-fairness=false \
  --max-requests-inflight=0 --max-mutating-requests-inflight=0 \
  --kubelet-client-certificate="$PKI/admin.crt" --kubelet-client-key="$PKI/admin.key" \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --profiling=false
wait_for kube-apiserver "kube-apiserver ${APISERVER_URL}/readyz" \
  bash -c "[[ \"\$(curl -s --max-time 5 --cacert '$PKI/ca.crt' --cert '$PKI/admin.crt' --key '$PKI/admin.key' '${APISERVER_URL}/readyz')\" == ok ]]"

# ---------------------------------------------------------------- KCM + scheduler
start kube-controller-manager \
  --kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port="$JES_TESTENV_KCM_PORT" \
  --tls-cert-file="$PKI/admin.crt" --tls-private-key-file="$PKI/admin.key" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --controllers=job-controller,ttl-after-finished-controller,garbage-collector-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,pod-garbage-collector-controller,node-lifecycle-controller \
  --root-ca-file="$PKI/ca.crt" \
  --service-account-private-key-file="$PKI/sa.key" \
  --leader-elect=false \
  --kube-api-qps=5000 --kube-api-burst=10000 \
  --profiling=false
start kube-scheduler \
  --kubeconfig="$KUBECONFIG_FILE" \
  --bind-address=127.0.0.1 --secure-port="$JES_TESTENV_SCHEDULER_PORT" \
  --tls-cert-file="$PKI/admin.crt" --tls-private-key-file="$PKI/admin.key" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --leader-elect=false \
  --kube-api-qps=5000 --kube-api-burst=10000 \
  --profiling=false

# ---------------------------------------------------------------- kwok CRDs
crd_established() { # crd_established NAME
  api GET "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$1" 2>/dev/null \
    | jq -e '.status.conditions // [] | any(.type == "Established" and .status == "True")' >/dev/null
}
for f in "${KWOK_CRD_FILES[@]}"; do
  crd_name="$(sed -n 's/^  name: //p' "$f" | head -n1)"
  # The apiserver takes YAML request bodies; 409 = already there (same etcd data).
  code="$(api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions \
      -H 'Content-Type: application/yaml' --data-binary "@$f" -o "$RUN/crd-create.json" -w '%{http_code}')" \
    || fail kube-apiserver "could not create CRD $crd_name"
  [[ "$code" == 201 || "$code" == 409 ]] || fail kube-apiserver "creating CRD $crd_name from $f returned HTTP $code: $(cat "$RUN/crd-create.json")"
  wait_for kube-apiserver "CRD $crd_name Established" crd_established "$crd_name"
done

# ---------------------------------------------------------------- kwok
# The default ClusterLogs stays in kwok.yaml (static); per-pod Logs objects are
# watched as custom resources and take precedence (see README, "Logs").
start kwok \
  --enable-crds="${KWOK_ENABLE_CRDS}" \
  --kubeconfig="$KUBECONFIG_FILE" \
  --config="$RUN/kwok.yaml" \
  --manage-all-nodes=true \
  --node-name=localhost --node-ip=127.0.0.1 \
  --node-port="$JES_TESTENV_KWOK_PORT" \
  --server-address="127.0.0.1:${JES_TESTENV_KWOK_PORT}" \
  --tls-cert-file="$PKI/admin.crt" --tls-private-key-file="$PKI/admin.key" \
  --node-lease-duration-seconds=40 \
  --cidr=10.244.0.0/16

wait_for kube-controller-manager "kube-controller-manager https://127.0.0.1:${JES_TESTENV_KCM_PORT}/healthz" \
  bash -c "[[ \"\$(curl -sk --max-time 5 'https://127.0.0.1:${JES_TESTENV_KCM_PORT}/healthz')\" == ok ]]"
wait_for kube-scheduler "kube-scheduler https://127.0.0.1:${JES_TESTENV_SCHEDULER_PORT}/healthz" \
  bash -c "[[ \"\$(curl -sk --max-time 5 'https://127.0.0.1:${JES_TESTENV_SCHEDULER_PORT}/healthz')\" == ok ]]"
wait_for kwok "kwok https://127.0.0.1:${JES_TESTENV_KWOK_PORT}/healthz" \
  bash -c "[[ \"\$(curl -s --max-time 5 --cacert '$PKI/ca.crt' 'https://127.0.0.1:${JES_TESTENV_KWOK_PORT}/healthz')\" == ok ]]"

# ---------------------------------------------------------------- fake node
node_json="$(jq -n --arg name "$JES_TESTENV_NODE_NAME" '{
  apiVersion: "v1", kind: "Node",
  metadata: {
    name: $name,
    labels: {
      "kubernetes.io/hostname": $name, "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64", "type": "kwok"
    },
    annotations: {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"}
  },
  spec: {}
}')"
code="$(api POST /api/v1/nodes -H 'Content-Type: application/json' -d "$node_json" -o "$RUN/node-create.json" -w '%{http_code}')" \
  || fail kube-apiserver "could not create node ${JES_TESTENV_NODE_NAME}"
[[ "$code" == 201 || "$code" == 409 ]] || fail kube-apiserver "creating node ${JES_TESTENV_NODE_NAME} returned HTTP $code: $(cat "$RUN/node-create.json")"
log "created node ${JES_TESTENV_NODE_NAME}"
wait_for kwok "node ${JES_TESTENV_NODE_NAME} Ready and untainted" node_ready

# Also wait for the default ServiceAccount of the default namespace (pods are
# rejected by admission until it exists).
wait_for kube-controller-manager "serviceaccount default/default" \
  bash -c "curl -sf --max-time 5 --cacert '$PKI/ca.crt' --cert '$PKI/admin.crt' --key '$PKI/admin.key' '${APISERVER_URL}/api/v1/namespaces/default/serviceaccounts/default'"

print_export
