#!/usr/bin/env bash
# Smoke test of a running testenv cluster (needs kubectl and jq). Exercises
# every item of the pod contract in README.md against the live cluster.
#   eval "$(bash tools/testenv/cluster-up.sh | tail -n1)"
#   bash tools/testenv/verify.sh
# Prints one line per check and a closing "N passed, N failed" line.
set -uo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

: "${KUBECONFIG:=$JES_TESTENV_RUN/kubeconfig}"
export KUBECONFIG
command -v kubectl >/dev/null || die "kubectl is required for verify.sh"
NS="testenv-verify-$$"
K() { kubectl -n "$NS" "$@"; }
PASS=0; FAIL=0
jqt() { jq -e "$1" >/dev/null <<<"$2"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
ok()  { PASS=$((PASS+1)); printf 'ok   %s\n' "$*"; }
bad() { FAIL=$((FAIL+1)); printf 'FAIL %s\n' "$*"; }
check() { local name="$1"; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# job NAME [LABELS_JSON] [SPEC_JSON_MERGE] [MAIN_ENV_JSON] -> creates a Job with one init + one main container
job() {
  local name="$1" labels="${2:-{\}}" extra="${3:-{\}}" env="${4:-[]}"
  jq -n --arg name "$name" --argjson labels "$labels" --argjson extra "$extra" --argjson env "$env" '{
    apiVersion: "batch/v1", kind: "Job",
    metadata: {name: $name},
    spec: ({
      backoffLimit: 0,
      template: {
        metadata: {labels: $labels},
        spec: {
          restartPolicy: "Never",
          initContainers: [{name: "init", image: "busybox:1.36", command: ["true"]}],
          containers: [{name: "main", image: "registry.example/jes/worker:1", env: $env}]
        }
      }
    } + $extra)
  }' | K apply -f - >/dev/null
}
pod_of() { K get pods -l "job-name=$1" -o json | jq -c '.items[0] // empty'; }
wait_pod() { # wait_pod JOB JQ_PREDICATE TIMEOUT_S
  local end=$(( $(date +%s) + $3 )) p
  while (( $(date +%s) < end )); do
    p="$(pod_of "$1")"
    [[ -n "$p" ]] && jq -e "$2" >/dev/null <<<"$p" && return 0
    sleep 0.2
  done
  return 1
}
job_cond() { K get job "$1" -o json | jq -r --arg t "$2" '.status.conditions // [] | map(select(.type==$t and .status=="True")) | .[0].reason // empty'; }
wait_job() { # wait_job NAME CONDITION TIMEOUT_S
  local end=$(( $(date +%s) + $3 ))
  while (( $(date +%s) < end )); do
    [[ -n "$(job_cond "$1" "$2")" ]] && return 0
    sleep 0.2
  done
  return 1
}

kubectl create namespace "$NS" >/dev/null
TOKCFG=""
LOGFILE=""
trap 'kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1; [[ -n "$TOKCFG" ]] && rm -f "$TOKCFG"; [[ -n "$LOGFILE" ]] && rm -f "$LOGFILE"' EXIT
for _ in $(seq 1 50); do K get sa default >/dev/null 2>&1 && break; sleep 0.2; done

check "node ${JES_TESTENV_NODE_NAME} Ready" \
  bash -c "kubectl get node '${JES_TESTENV_NODE_NAME}' -o json | jq -e '.status.conditions[] | select(.type==\"Ready\") | .status==\"True\"' >/dev/null"

# --- 1. default: completes
t=$(date +%s.%N)
job ok '{}' '{}' '[{"name":"TESTENV_TERMINATION_MESSAGE","value":"{\"result\":\"ok\"}"}]'
check "job 'ok' Complete" wait_job ok Complete 30
echo "     (took $(elapsed "$t")s)"
p="$(pod_of ok)"
check "job 'ok' pod Succeeded, init Completed, main exit 0 Completed" jqt '
  .status.phase == "Succeeded"
  and .status.initContainerStatuses[0].state.terminated.reason == "Completed"
  and .status.containerStatuses[0].state.terminated.exitCode == 0
  and .status.containerStatuses[0].state.terminated.reason == "Completed"' "$p"
check "termination message from env TESTENV_TERMINATION_MESSAGE" \
  jqt '.status.containerStatuses[0].state.terminated.message == "{\"result\":\"ok\"}"' "$p"
check "kubectl logs returns the ClusterLogs file" \
  bash -c "kubectl -n '$NS' logs job/ok -c main | grep -q 'testenv log line 1'"
echo "     logs: $(kubectl -n "$NS" logs job/ok -c main 2>&1 | head -2 | tr '\n' '|')"

# --- 1b. per-pod Logs object (kwok --enable-crds=Logs) wins over the ClusterLogs default
LOGFILE="$(mktemp --suffix=.log)"
printf '%s\n' '2026-01-01T00:00:00.000000000Z stdout F per-pod line 1' \
  '2026-01-01T00:00:01.000000000Z stderr F per-pod line 2: last' >"$LOGFILE"
job perpod
check "job 'perpod' Complete" wait_job perpod Complete 30
pp="$(pod_of perpod | jq -r '.metadata.name')"
jq -n --arg name "$pp" --arg file "$LOGFILE" '{apiVersion: "kwok.x-k8s.io/v1alpha1", kind: "Logs",
  metadata: {name: $name}, spec: {logs: [{logsFile: $file}]}}' | K apply -f - >/dev/null
check "per-pod Logs object: kubectl logs returns its file (tail 1)" \
  bash -c "for i in \$(seq 1 50); do [[ \$(kubectl -n '$NS' logs '$pp' -c main --tail=1 2>/dev/null) == 'per-pod line 2: last' ]] && exit 0; sleep 0.2; done; exit 1"
check "other pods still get the ClusterLogs default" \
  bash -c "kubectl -n '$NS' logs job/ok -c main | grep -q 'testenv log line 1'"
K delete logs.kwok.x-k8s.io "$pp" >/dev/null
check "per-pod Logs deleted: back to the default" \
  bash -c "for i in \$(seq 1 50); do kubectl -n '$NS' logs '$pp' -c main | grep -q 'testenv log line 1' && exit 0; sleep 0.2; done; exit 1"

# --- 2. exit code -> Failed
job fail '{"testenv.jes.dev/exit-code":"3"}'
check "job 'fail' Failed (BackoffLimitExceeded)" wait_job fail Failed 30
echo "     Failed reason: $(job_cond fail Failed)"
check "reason is BackoffLimitExceeded" test "$(job_cond fail Failed)" = BackoffLimitExceeded
check "job 'fail' pod Failed, main exitCode 3 reason Error" \
  bash -c "kubectl -n '$NS' get pods -l job-name=fail -o json | jq -e '.items[0].status.phase==\"Failed\" and .items[0].status.containerStatuses[0].state.terminated.exitCode==3 and .items[0].status.containerStatuses[0].state.terminated.reason==\"Error\"' >/dev/null"

# --- 3. annotation termination message + exit code
jq -n '{apiVersion:"batch/v1",kind:"Job",metadata:{name:"annmsg"},spec:{backoffLimit:0,template:{
  metadata:{labels:{"testenv.jes.dev/exit-code":"42"},annotations:{"testenv.jes.dev/termination-message":"boom"}},
  spec:{restartPolicy:"Never",containers:[{name:"main",image:"x"}]}}}}' | K apply -f - >/dev/null
check "annotation termination message on a failed pod" \
  wait_pod annmsg '.status.containerStatuses[0].state.terminated | .message=="boom" and .exitCode==42' 30

# --- 4. image pull failure
job pullfail '{"testenv.jes.dev/image-pull":"fail"}'
check "image-pull=fail -> ErrImagePull, pod Pending" \
  wait_pod pullfail '.status.phase=="Pending" and .status.containerStatuses[0].state.waiting.reason=="ErrImagePull" and .status.initContainerStatuses[0].state.terminated.reason=="Completed"' 20
check "image-pull=fail -> ImagePullBackOff after ~5s, still Pending" \
  wait_pod pullfail '.status.phase=="Pending" and .status.containerStatuses[0].state.waiting.reason=="ImagePullBackOff"' 20
echo "     message: $(pod_of pullfail | jq -r '.status.containerStatuses[0].state.waiting.message')"

# --- 5. duration
t0=$(date +%s.%N)
job slow '{"testenv.jes.dev/duration":"4s"}'
check "duration=4s: pod Running first" wait_pod slow '.status.phase=="Running"' 20
check "duration=4s: job Complete" wait_job slow Complete 30
el="$(elapsed "$t0")"
echo "     (duration=4s job took ${el}s)"
check "duration=4s job took >= 4s" awk -v e="$el" 'BEGIN{exit !(e >= 4)}'
p="$(pod_of slow)"
echo "     main ran from $(jq -r '.status.containerStatuses[0].state.terminated.startedAt' <<<"$p") to $(jq -r '.status.containerStatuses[0].state.terminated.finishedAt' <<<"$p")"

# --- 6. duration + exit code
t0=$(date +%s.%N)
job slowfail '{"testenv.jes.dev/duration":"3s","testenv.jes.dev/exit-code":"7"}'
check "duration=3s exit-code=7: job Failed" wait_job slowfail Failed 30
el="$(elapsed "$t0")"
echo "     (took ${el}s)"
check "duration=3s exit-code=7 took >= 3s" awk -v e="$el" 'BEGIN{exit !(e >= 3)}'

# --- 7. activeDeadlineSeconds
t0=$(date +%s.%N)
job deadline '{"testenv.jes.dev/duration":"60s"}' '{"activeDeadlineSeconds":5}'
check "activeDeadlineSeconds=5 + duration=60s: job Failed" wait_job deadline Failed 40
echo "     (took $(elapsed "$t0")s; reason $(job_cond deadline Failed))"
check "reason is DeadlineExceeded" test "$(job_cond deadline Failed)" = DeadlineExceeded
check "deadline pod deleted" bash -c "for i in \$(seq 1 50); do [[ -z \"\$(kubectl -n '$NS' get pods -l job-name=deadline -o name)\" ]] && exit 0; sleep 0.2; done; exit 1"

# --- 8. suspend
job susp '{}' '{"suspend":true}'
sleep 3
check "suspended job has no pods after 3s" bash -c "[[ -z \"\$(kubectl -n '$NS' get pods -l job-name=susp -o name)\" ]]"
K patch job susp --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
check "unsuspended job Complete" wait_job susp Complete 30

# --- 9. pod deletion of a running pod
jq -n '{apiVersion:"v1",kind:"Pod",metadata:{name:"naked",finalizers:["testenv.jes.dev/block"]},spec:{containers:[{name:"main",image:"x"}]}}' | K apply -f - >/dev/null
check "naked pod Running (not Job-owned: stays Running)" \
  bash -c "for i in \$(seq 1 50); do [[ \$(kubectl -n '$NS' get pod naked -o jsonpath='{.status.phase}') == Running ]] && exit 0; sleep 0.2; done; exit 1"
K delete pod naked --wait=false >/dev/null
check "deleted pod with a finalizer disappears" \
  bash -c "for i in \$(seq 1 75); do kubectl -n '$NS' get pod naked >/dev/null 2>&1 || exit 0; sleep 0.2; done; exit 1"

# --- 10. ServiceAccount token + RBAC
K create serviceaccount robot >/dev/null
TOKEN="$(K create token robot --duration=10m)"
# A kubeconfig with only the token: with the admin client cert present the
# apiserver would authenticate the request by the certificate instead.
TOKCFG="$(mktemp)"
kubectl config view --raw -o json | jq --arg t "$TOKEN" '.users = [{name: "kwok-admin", user: {token: $t}}]' >"$TOKCFG"
KT() { kubectl --kubeconfig "$TOKCFG" "$@"; }
check "kubectl create token returns a JWT" bash -c "[[ '$TOKEN' == ey* ]]"
who="$(KT auth whoami -o jsonpath='{.status.userInfo.username}' 2>&1)"
check "token authenticates as system:serviceaccount:$NS:robot (got '$who')" bash -c "[[ '$who' == 'system:serviceaccount:$NS:robot' ]]"
out="$(KT -n "$NS" get pods 2>&1)"
echo "     $out"
check "RBAC denies list pods for the SA token" bash -c "grep -q 'Forbidden' <<<'$out' && grep -q 'system:serviceaccount:$NS:robot' <<<'$out'"
check "can-i --as SA list pods: no" bash -c "[[ \$(kubectl auth can-i --as='system:serviceaccount:$NS:robot' -n '$NS' list pods 2>/dev/null) == no ]]"
K create role pod-reader --verb=get,list,watch --resource=pods >/dev/null
K create rolebinding robot-pod-reader --role=pod-reader --serviceaccount="$NS:robot" >/dev/null
check "can-i --as SA list pods after RoleBinding: yes" bash -c "[[ \$(kubectl auth can-i --as='system:serviceaccount:$NS:robot' -n '$NS' list pods 2>/dev/null) == yes ]]"
check "token lists pods after RoleBinding" bash -c "kubectl --kubeconfig '$TOKCFG' -n '$NS' get pods >/dev/null"
check "can-i --as SA create jobs: no" bash -c "[[ \$(kubectl auth can-i --as='system:serviceaccount:$NS:robot' -n '$NS' create jobs 2>/dev/null) == no ]]"
check "token cannot list pods in kube-system" bash -c "kubectl --kubeconfig '$TOKCFG' -n kube-system get pods 2>&1 | grep -q Forbidden"

# --- 11. ttl-after-finished + garbage collection
job ttl '{}' '{"ttlSecondsAfterFinished":1}'
check "ttlSecondsAfterFinished=1: job and its pod are deleted" \
  bash -c "for i in \$(seq 1 100); do kubectl -n '$NS' get job ttl >/dev/null 2>&1 || { [[ -z \"\$(kubectl -n '$NS' get pods -l job-name=ttl -o name)\" ]] && exit 0; }; sleep 0.2; done; exit 1"

echo "verify: ${PASS} passed, ${FAIL} failed"
(( FAIL == 0 ))
