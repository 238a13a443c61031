#!/usr/bin/env bash
# The whole flow on this machine against embedded services: OIDC issuer, OpenBao, Docker Hub engine
# stand-in, a real registry, a Docker daemon and the real docker CLI. Prints a timeline; no secret
# is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run -s build
npx tsx scripts/demo.ts "$@"
