#!/usr/bin/env bash
# Builds the kubelet from k8s.io/kubernetes at a pinned release, once per machine: the binary is kept
# outside the checkout under ${XDG_CACHE_HOME:-$HOME/.cache}/vault-docker-login/kubelet-v<version>/
# and the Go module and build caches (GOMODCACHE, GOCACHE) are reused, so a second run is instant.
# The e2e tests run it standalone against containerd (test/harness/real-kubelet.ts).
set -euo pipefail

KUBERNETES_VERSION=1.36.3
say() { printf '[install] %s\n' "$*"; }

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/vault-docker-login
out="$cache_root/kubelet-v${KUBERNETES_VERSION}"
if [ -x "$out/kubelet" ] && [ ! -L "$out" ] && [ -O "$out" ] &&
  "$out/kubelet" --version 2>/dev/null | grep -qx "Kubernetes v${KUBERNETES_VERSION}"; then
  exit 0
fi
command -v go >/dev/null || { echo "scripts/build/kubelet.sh: go is not on PATH (Go 1.26+ is needed to build the kubelet)" >&2; exit 1; }

say "go build k8s.io/kubernetes/cmd/kubelet@v${KUBERNETES_VERSION} (long the first time; cached in $out)"
mkdir -p "$cache_root"
chmod 700 "$cache_root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# k8s.io/kubernetes requires its staging modules (k8s.io/api, ...) at v0.0.0 and points them at
# ./staging with replace lines, which Go ignores in a module that depends on it: a wrapper module
# pins each one to its published v0.<minor>.<patch> instead.
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
  kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver streaming)
{
  echo "module vault-docker-login.invalid/kubelet-build"
  echo
  echo "go 1.26.0"
  echo
  echo "require k8s.io/kubernetes v${KUBERNETES_VERSION}"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "	k8s.io/$m => k8s.io/$m v0.${KUBERNETES_VERSION#1.}"; done
  echo ")"
} >"$work/go.mod"

minor=${KUBERNETES_VERSION#1.}; minor=${minor%%.*}
ldflags="-s -w"
for kv in "gitVersion=v${KUBERNETES_VERSION}" gitMajor=1 "gitMinor=${minor}" gitTreeState=clean; do
  ldflags+=" -X k8s.io/component-base/version.$kv"
done

cd "$work"
GOFLAGS=-mod=mod go mod download k8s.io/kubernetes
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$work/bin/kubelet" k8s.io/kubernetes/cmd/kubelet
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
mv "$work/bin/kubelet" "$out.tmp/kubelet"
rm -rf "$out"
mv "$out.tmp" "$out"
say "kubelet $("$out/kubelet" --version)"
