#!/usr/bin/env bash
# Builds the Swarm secrets driver as a Docker managed plugin into out/plugin/: config.json
# (packaging/swarm-plugin/config.json: interface docker.secretprovider/1.0, host network, the
# configuration and state directories as settable mounts) and rootfs/ holding only the single
# executable (out/executable/, built when absent), its vault-swarm-secrets link and the libraries
# ldd lists.
# `npm run build:plugin`, then `docker plugin create <name> out/plugin` (docs/swarm-driver.md).
set -euo pipefail
cd "$(dirname "$0")/.."

exe=out/executable/vault-docker-login
[ -x "$exe" ] || node scripts/build-executables.mjs

out=out/plugin
rm -rf "$out"
rootfs="$out/rootfs"
# Mount points the daemon binds over (the socket directory, configuration, state, /proc, /dev...).
install -d "$rootfs/usr/bin" "$rootfs/etc/vault-docker-login" "$rootfs/run/docker/plugins" \
  "$rootfs/var/lib/vault-docker-login" \
  "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
install -m 0755 "$exe" "$rootfs/usr/bin/vault-docker-login"
ln -s vault-docker-login "$rootfs/usr/bin/vault-swarm-secrets"
# The dynamic loader and every library the executable links, at the paths ldd names.
ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
  while read -r lib; do
    install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done
: > "$rootfs/etc/resolv.conf"
: > "$rootfs/etc/hosts"
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
cp packaging/swarm-plugin/config.json "$out/config.json"
echo "$out: $(du -sh "$rootfs" | cut -f1) rootfs ($(find "$rootfs" -type f | wc -l) files)"
