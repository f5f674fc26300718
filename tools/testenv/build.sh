#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, etcd (from
# this Go module) and kwok (via `go install`) into a cache directory outside
# the repository:
#   ${JES_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jes-testenv}/bin/<key>/
# <key> = pinned versions + go version + sha256 of go.sum/go.mod/mains/recipe.
# On a warm cache it only checks the binaries (-x and --version) and exits.
# Progress goes to stderr; the LAST line on stdout is the binary directory.
set -euo pipefail
# shellcheck source=common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

command -v go >/dev/null 2>&1 || die "go is not installed (need Go >= 1.26 for kwok ${KWOK_VERSION})"
export GOTOOLCHAIN=local
GO_VERSION="$(go env GOVERSION)"
case "$GO_VERSION" in
  go1.2[6-9]*|go1.[3-9][0-9]*|go[2-9]*) ;;
  *) die "Go >= 1.26 required (kwok ${KWOK_VERSION} declares go 1.26.0); found ${GO_VERSION}" ;;
esac

src_hash="$(cd "$TESTENV_DIR" && {
  echo "recipe=${BUILD_RECIPE} k8s=${K8S_VERSION} etcd=${ETCD_VERSION} kwok=${KWOK_VERSION}"
  cat go.sum go.mod cmd/*/main.go
} | sha256sum | cut -c1-16)"
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_${GO_VERSION}_${src_hash}"
BIN_DIR="${JES_TESTENV_CACHE}/bin/${KEY}"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok)

# check_bin NAME -> 0 if the binary exists, is executable and reports the pinned version
check_bin() {
  local b="$1/$2" out
  [[ -x "$b" ]] || return 1
  case "$2" in
    etcd) out="$("$b" --version 2>&1)" || return 1
          grep -q "etcd Version: ${ETCD_VERSION#v}" <<<"$out" ;;
    kwok) out="$("$b" --version 2>&1)" || return 1
          grep -q "${KWOK_VERSION}" <<<"$out" ;;
    *)    out="$("$b" --version 2>&1)" || return 1
          grep -q "Kubernetes ${K8S_VERSION}\$" <<<"$out" ;;
  esac
}
all_ok() { local n; for n in "${BINARIES[@]}"; do check_bin "$1" "$n" || return 1; done; }

if all_ok "$BIN_DIR"; then
  log "binaries up to date in ${BIN_DIR}"
  echo "$BIN_DIR"
  exit 0
fi

mkdir -p "${JES_TESTENV_CACHE}/bin"
exec 9>"${JES_TESTENV_CACHE}/bin/.build.lock"
log "waiting for build lock ${JES_TESTENV_CACHE}/bin/.build.lock"
flock 9
# Another process may have built it while we waited.
if all_ok "$BIN_DIR"; then
  log "binaries up to date in ${BIN_DIR}"
  echo "$BIN_DIR"
  exit 0
fi

TMP_DIR="${BIN_DIR}.tmp.$$"
rm -rf "$TMP_DIR"; mkdir -p "$TMP_DIR"
trap 'rm -rf "$TMP_DIR"' EXIT

PAR="${JES_TESTENV_BUILD_PARALLEL:-2}"
export CGO_ENABLED=0
export GOFLAGS="-buildvcs=false"
start=$(date +%s)

BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldx=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldx+=" -X ${pkg}.gitVersion=${K8S_VERSION}"
  ldx+=" -X ${pkg}.gitMajor=$(echo "${K8S_VERSION#v}" | cut -d. -f1)"
  ldx+=" -X ${pkg}.gitMinor=$(echo "${K8S_VERSION#v}" | cut -d. -f2)"
  ldx+=" -X ${pkg}.gitTreeState=clean"
  ldx+=" -X ${pkg}.buildDate=${BUILD_DATE}"
done

log "cold build -> ${BIN_DIR} (go ${GO_VERSION}, -p ${PAR}; about 8-13 min on 2 cores with a cold GOCACHE)"
log "downloading modules for jes.dev/testenv"
(cd "$TESTENV_DIR" && go mod download) >&2
log "building kube-apiserver kube-controller-manager kube-scheduler etcd"
(cd "$TESTENV_DIR" && go build -p "$PAR" -trimpath -ldflags "-s -w${ldx}" -o "$TMP_DIR/" \
  ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler ./cmd/etcd) >&2
log "k8s + etcd built after $(( $(date +%s) - start ))s"

log "building kwok ${KWOK_VERSION} (go install, outside our module)"
(cd "$TMP_DIR" && GOBIN="$TMP_DIR" GOFLAGS="-buildvcs=false" go install -p "$PAR" -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}" \
  "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}") >&2

for n in "${BINARIES[@]}"; do
  check_bin "$TMP_DIR" "$n" || die "built $n but '$n --version' does not report the pinned version: $("$TMP_DIR/$n" --version 2>&1 | head -3)"
done
rm -rf "$BIN_DIR"
mv "$TMP_DIR" "$BIN_DIR"
trap - EXIT
log "build done in $(( $(date +%s) - start ))s -> ${BIN_DIR}"
echo "$BIN_DIR"
