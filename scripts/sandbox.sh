#!/usr/bin/env bash
# The embedded services, up until Ctrl-C, to try the CLI and the host entry points by hand: prints the export lines a shell
# needs on stdout (and writes them to a file to source), then stops everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >&2
# exec: Ctrl-C and kill reach node itself, which stops every service it started.
exec node --import tsx scripts/sandbox.ts
