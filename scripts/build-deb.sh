#!/usr/bin/env bash
# Builds the Debian package out/deb/vault-docker-login_<version>_<arch>.deb with dpkg-deb:
#   /usr/bin/vault-docker-login        the single executable (out/executable/, built when absent)
#   /usr/bin/docker-credential-vault, vault-credential-provider, vault-swarm-secrets: links to it
#   /etc/vault-docker-login/           0700, with example configurations (packaging/etc/, no secret)
#   /lib/systemd/system/vault-swarm-secrets.service
#                                      the unit of docs/swarm-driver.md, started from /usr/bin
# No maintainer scripts: nothing is started or enabled at install. `npm run build:deb`.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
exe=out/executable/vault-docker-login
[ -x "$exe" ] || node scripts/build-executables.mjs

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
  "$root/usr/share/doc/vault-docker-login"
install -m 0755 "$exe" "$root/usr/bin/vault-docker-login"
for bin in docker-credential-vault vault-credential-provider vault-swarm-secrets; do
  ln -s vault-docker-login "$root/usr/bin/$bin"
done
install -d -m 0700 "$root/etc/vault-docker-login"
install -m 0600 packaging/etc/config.yml.example \
  packaging/etc/swarm-driver.yml.example \
  "$root/etc/vault-docker-login/"
install -m 0644 LICENSE "$root/usr/share/doc/vault-docker-login/copyright"

# The unit as docs/swarm-driver.md shows it, with the executable in place of node and the bundle.
unit="$root/lib/systemd/system/vault-swarm-secrets.service"
awk '
  /^### A systemd unit/ { section = 1 }
  section && /^```ini$/ { on = 1; next }
  on && /^```$/ { exit }
  on && /^ExecStart=/ { print "ExecStart=/usr/bin/vault-swarm-secrets --config /etc/vault-docker-login/swarm-driver.yml"; next }
  on { print }
' docs/swarm-driver.md > "$unit"
chmod 0644 "$unit"
grep -q '^ExecStart=/usr/bin/vault-swarm-secrets ' "$unit" || {
  echo "No systemd unit found under '### A systemd unit' in docs/swarm-driver.md" >&2
  exit 1
}

printf '/etc/vault-docker-login/%s\n' config.yml.example swarm-driver.yml.example \
  > "$root/DEBIAN/conffiles"
size_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: vault-docker-login
Version: ${version}
Architecture: ${arch}
Maintainer: vault-docker-login maintainers
Installed-Size: ${size_kb}
Depends: libc6 (>= 2.28), libstdc++6, libgcc-s1
Section: admin
Priority: optional
Homepage: https://github.com/vault-docker-login/vault-docker-login
Description: short-lived registry credentials from HashiCorp Vault / OpenBao
 One executable, with Node.js inside, for the CLI (vault-docker-login), the Docker credential
 helper (docker-credential-vault), the kubelet credential provider (vault-credential-provider)
 and the Docker Swarm secrets driver (vault-swarm-secrets). No Node.js needed on the host.
CONTROL

mkdir -p out/deb
deb="out/deb/vault-docker-login_${version}_${arch}.deb"
# gzip: xz takes minutes on the 100 MB executable, and zstd is unknown to older dpkg.
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb: $(du -h "$deb" | cut -f1)"
