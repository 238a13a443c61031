#!/usr/bin/env bash
# The full test suite: installs what it needs, checks types, lint, that dist/ and the packed orb are
# in sync with their sources, then runs every unit and end-to-end test against real services.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

npm run -s typecheck
npm run -s lint

npm run -s build
npm run -s pack:orb
if [ -n "$(git status --porcelain -- dist orb/dist 2>/dev/null)" ]; then
  git status --short -- dist orb/dist
  echo "dist/ or orb/dist/ is stale: run 'npm run build && npm run pack:orb' and commit the result." >&2
  exit 1
fi

# The single executable, the Debian package and the managed Swarm plugin (git-ignored out/): the
# suite installs and runs them.
npm run -s build:executables
npm run -s build:deb
npm run -s build:plugin

npx vitest run "$@"
