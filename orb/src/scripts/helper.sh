#!/usr/bin/env bash
# shellcheck disable=SC2154 # VDL_DIR is the first line login writes above this text
# docker-credential-vault, the orb's bash credential helper (credential_helper: true): the docker
# credential-helper protocol for the registries this job's login configured. A `get` answered
# from the cache forks nothing; a missing or ending credential is leased by helper-lib.sh under
# a lock. Secrets stay in 0600 files in the job's private directory and in this shell: never in
# argv, never in the environment of a child.
set -uo pipefail
umask 077

vdl_helper_say() {
  printf '%s\n' "$*"
  exit 1
}

# vdl_helper_dir_ok: the job's directory is a real directory of this user (mode checked by login).
vdl_helper_dir_ok() {
  if [ ! -d "$VDL_DIR" ] || [ -L "$VDL_DIR" ] || [ ! -O "$VDL_DIR" ]; then
    vdl_helper_say "vault-docker-login: the credential helper's directory $VDL_DIR is missing or not owned by this user: the logout command ran already, or run the orb's login (credential_helper: true) again."
  fi
}

# vdl_helper_entry URL: VDL_KEY (host[:port]) and VDL_INDEX (the login entry) for a server URL,
# or returns 1 for a registry this job did not configure.
vdl_helper_entry() {
  local url=$1 key index
  [[ $url != *[[:cntrl:]]* ]] || return 1
  url=${url#https://}
  url=${url#http://}
  url=${url%%/*}
  VDL_KEY=${url,,}
  [ -n "$VDL_KEY" ] || return 1
  while read -r key index; do
    if [ "$key" = "$VDL_KEY" ]; then
      VDL_INDEX=$index
      return 0
    fi
  done <"$VDL_DIR/registries"
  return 1
}

# vdl_now_ms VAR: the wall clock in milliseconds, without a fork.
vdl_now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t=${EPOCHREALTIME/[.,]/}
    printf -v "$1" '%s' "${t:0:${#t}-3}"
  else
    local s
    printf -v s '%(%s)T' -1
    printf -v "$1" '%s' "$((s * 1000))"
  fi
}

# vdl_helper_cached: prints the answer from the cache file of VDL_INDEX when it is still to be
# used; returns 1 otherwise. The file: use-until (ms), then username and secret as JSON strings.
vdl_helper_cached() {
  local file=$VDL_DIR/cache/$VDL_INDEX until user secret now url
  [ -f "$file" ] && [ ! -L "$file" ] && [ -O "$file" ] || return 1
  { read -r until && read -r user && read -r secret; } <"$file" || return 1
  [[ $until =~ ^[0-9]+$ ]] || return 1
  vdl_now_ms now
  [ "$now" -lt "$until" ] || return 1
  url=${VDL_URL//\\/\\\\}
  url=${url//\"/\\\"}
  printf '{"ServerURL":"%s","Username":%s,"Secret":%s}\n' "$url" "$user" "$secret"
}

case "${1:-}" in
  get)
    vdl_helper_dir_ok
    VDL_URL=""
    IFS= read -r -d '' VDL_URL || true
    VDL_URL=${VDL_URL#"${VDL_URL%%[![:space:]]*}"}
    VDL_URL=${VDL_URL%"${VDL_URL##*[![:space:]]}"}
    vdl_helper_entry "$VDL_URL" || vdl_helper_say "credentials not found in native keychain"
    vdl_helper_cached && exit 0
    # The slow path: lease (and renew the Vault token when due) under the job's lock.
    # shellcheck source=/dev/null
    . "$VDL_DIR/lib.sh"
    vdl_helper_get
    ;;
  list)
    vdl_helper_dir_ok
    # shellcheck source=/dev/null
    . "$VDL_DIR/lib.sh"
    vdl_helper_list
    ;;
  store)
    vdl_helper_say "vault-docker-login: this job's credentials for the registries of its login come from Vault (credential_helper: true); docker login is not needed for them, and is not stored."
    ;;
  erase)
    # docker logout: forget the cached credential; the orb's logout revokes every lease.
    vdl_helper_dir_ok
    VDL_URL=""
    IFS= read -r -d '' VDL_URL || true
    VDL_URL=${VDL_URL//[[:space:]]/}
    if vdl_helper_entry "$VDL_URL"; then
      [ -L "$VDL_DIR/cache/$VDL_INDEX" ] || [ ! -O "$VDL_DIR/cache/$VDL_INDEX" ] || : >"$VDL_DIR/cache/$VDL_INDEX"
    fi
    exit 0
    ;;
  version)
    printf 'docker-credential-vault (vault-docker-login orb, bash)\n'
    ;;
  *)
    vdl_helper_say "vault-docker-login: unknown action '${1:-}': docker-credential-vault takes get, list, store, erase or version."
    ;;
esac
