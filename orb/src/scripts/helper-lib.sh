#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153,SC2154 # globals shared with helper.sh and the scripts login copies beside this one
# The credential helper's slow path, sourced by docker-credential-vault after utils.sh, json.sh,
# http.sh, fields.sh and hints.sh (login writes them into lib.sh together): under the job's lock,
# renew the Vault token when half its TTL has passed, lease the registry's credential with the
# same paths and field detection as login, record the lease for logout, and cache the credential.
# Files in $VDL_DIR (0700): settings, entries, registries, token (the X-Vault-Token header),
# token.state, leases, cache/<entry>, lock. Everything is checked for owner, mode and symlinks.

# docker shows a helper's stdout; stderr carries the retry notes.
vdl_note() { printf 'vault-docker-login: %s\n' "$*" >&2; }
vdl_warn() { printf 'vault-docker-login: WARNING: %s\n' "$*" >&2; }
# docker pull goes on anonymously after a helper error and shows neither its stdout nor its
# stderr, so a failure is also appended to docker's own stderr (the log of the step that ran it)
# where that can be opened again: a pipe, a pty or a file.
vdl_fail() {
  printf 'vault-docker-login: ERROR: %s\n' "$*"
  if [ -w "/proc/$PPID/fd/2" ]; then
    printf 'vault-docker-login: ERROR: %s\n' "$*" 2>/dev/null >>"/proc/$PPID/fd/2" || true
  fi
  exit 1
}

# vdl_helper_trust FILE: a regular file of this user, not a symlink, readable by nobody else.
vdl_helper_trust() {
  local mode
  if [ -L "$1" ] || [ ! -f "$1" ] || [ ! -O "$1" ]; then
    vdl_fail "$1 is not a regular file owned by this user; not trusting it. Run the orb's login (credential_helper: true) again."
  fi
  mode=$(ls -ld -- "$1")
  [[ $mode == -rw-------* || $mode == -r--------* ]] ||
    vdl_fail "$1 is readable or writable by others (${mode%% *}); not trusting it. Run the orb's login (credential_helper: true) again."
}

# vdl_helper_load: settings (shell assignments written by login) and this get's scratch directory.
vdl_helper_load() {
  local f mode
  # The get that served from the cache checked the directory's owner; its mode takes a fork.
  mode=$(ls -ld -- "$VDL_DIR")
  [[ $mode == drwx------* ]] ||
    vdl_fail "$VDL_DIR is open to others (${mode%% *}); not trusting it. Run the orb's login (credential_helper: true) again."
  for f in settings entries registries token token.state; do vdl_helper_trust "$VDL_DIR/$f"; done
  # shellcheck source=/dev/null
  . "$VDL_DIR/settings"
  VDL_TOKEN_HEADER=$VDL_DIR/token
  VDL_DEADLINE=$((SECONDS + VDL_TIMEOUT))
  VDL_WORK=$(mktemp -d "$VDL_DIR/work.XXXXXX") || vdl_fail "cannot create a scratch directory in $VDL_DIR."
  trap 'vdl_helper_exit' EXIT
}

vdl_helper_exit() {
  rm -rf "$VDL_WORK"
  if [ -n "${VDL_LOCK_DIR:-}" ]; then rm -rf "$VDL_LOCK_DIR"; fi
}

# vdl_helper_lock: one get at a time leases for the job. flock (util-linux) when present, else
# a lock directory holding its owner's pid, broken when that process is gone.
vdl_helper_lock() {
  local lock=$VDL_DIR/lock pid again
  if command -v flock >/dev/null 2>&1; then
    [ ! -L "$lock" ] || vdl_fail "$lock is a symlink; not trusting it."
    exec 9>>"$lock"
    flock -w "$VDL_TIMEOUT" 9 ||
      vdl_fail "gave up after ${VDL_TIMEOUT}s waiting for another docker-credential-vault of this job to lease (lock $lock): raise the login's 'timeout', or stop the process that hangs."
    return 0
  fi
  while ! mkdir "$lock.d" 2>/dev/null; do
    [ ! -L "$lock.d" ] || vdl_fail "$lock.d is a symlink; not trusting it."
    pid=""
    read -r pid <"$lock.d/pid" 2>/dev/null || true
    if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && mkdir "$lock.break" 2>/dev/null; then
      # Its holder died. One waiter at a time breaks it, and only if it is still that holder's:
      # lock.d never disappears while another process may be taking it.
      read -r again <"$lock.d/pid" 2>/dev/null || again=""
      [ "$again" != "$pid" ] || rm -rf "$lock.d"
      rmdir "$lock.break"
      continue
    fi
    [ "$SECONDS" -lt "$VDL_DEADLINE" ] ||
      vdl_fail "gave up after ${VDL_TIMEOUT}s waiting for another docker-credential-vault of this job (pid ${pid:-?}, lock $lock.d) to lease: raise the login's 'timeout', or stop the process that hangs (and remove $lock.break if it is left over)."
    sleep 0.05
  done
  VDL_LOCK_DIR=$lock.d
  printf '%s\n' "$$" >"$lock.d/pid"
}

# vdl_helper_token_state: VDL_TOKEN_SINCE (ms), VDL_TOKEN_TTL (s, 0 = no expiry), VDL_TOKEN_RENEWABLE.
vdl_helper_token_state() {
  read -r VDL_TOKEN_SINCE VDL_TOKEN_TTL VDL_TOKEN_RENEWABLE <"$VDL_DIR/token.state" || true
  [[ ${VDL_TOKEN_SINCE:-} =~ ^[0-9]+$ && ${VDL_TOKEN_TTL:-} =~ ^[0-9]+$ ]] ||
    vdl_fail "$VDL_DIR/token.state is damaged: run the orb's login (credential_helper: true) again."
}

# vdl_helper_token_save NOW_MS: the token and its TTL from the last login or renew answer.
vdl_helper_token_save() {
  local ttl=${VDL_JV[.auth.lease_duration]:-0} renewable=${VDL_JV[.auth.renewable]:-false}
  [[ $ttl =~ ^[0-9]+$ ]] || ttl=0
  printf '%s %s %s\n' "$1" "$ttl" "$renewable" >"$VDL_DIR/token.state.$$"
  mv -f "$VDL_DIR/token.state.$$" "$VDL_DIR/token.state"
  VDL_TOKEN_SINCE=$1 VDL_TOKEN_TTL=$ttl VDL_TOKEN_RENEWABLE=$renewable
}

# vdl_helper_relogin NOW_MS: the token is gone (its TTL passed between two docker commands, or
# renewing failed): log in again with this step's CircleCI OIDC token, as login did. Logout
# revokes the token in $VDL_DIR/token, so the new one dies with the job too.
vdl_helper_relogin() {
  local jwt token
  vdl_oidc_token jwt "$VDL_AUDIENCE"
  VDL_ROLE_VALUE=$VDL_ROLE
  vdl_json_obj VDL_BODY role VDL_ROLE_VALUE jwt jwt
  printf '%s' "$VDL_BODY" >"$VDL_WORK/login.json"
  unset jwt VDL_BODY
  local header=$VDL_TOKEN_HEADER
  VDL_TOKEN_HEADER=""
  vdl_vault POST "auth/$VDL_AUTH_MOUNT/login" "$VDL_AUTH_NAMESPACE" "$VDL_WORK/login.json"
  VDL_TOKEN_HEADER=$header
  : >"$VDL_WORK/login.json"
  if [ "$VDL_STATUS" != 200 ]; then
    : >"$VDL_RESPONSE"
    vdl_fail "no credential for $VDL_KEY: this job's Vault token expired, and logging in again at auth/$VDL_AUTH_MOUNT (role '$VDL_ROLE') failed: $(vdl_vault_problem). Raise the role's token_ttl above the longest stretch of the job without docker commands."
  fi
  vdl_json_parse_file "$VDL_RESPONSE" || true
  : >"$VDL_RESPONSE"
  token=${VDL_JV[.auth.client_token]:-}
  [ -n "$token" ] || vdl_fail "no credential for $VDL_KEY: logging in again at auth/$VDL_AUTH_MOUNT answered without auth.client_token."
  printf 'X-Vault-Token: %s\n' "$token" >"$VDL_DIR/token.$$"
  unset token
  mv -f "$VDL_DIR/token.$$" "$VDL_DIR/token"
  vdl_helper_token_save "$1"
  VDL_JV=()
  vdl_note "logged in to Vault again (role '$VDL_ROLE'): the job's token had expired."
}

# vdl_helper_renew NOW_MS: renew-self once half the token's TTL has passed (Vault caps it at the
# role's max TTL); a token that is gone (expired between two docker commands, or refused) is
# replaced by a new login. A token that cannot be renewed is used until it ends.
vdl_helper_renew() {
  local now=$1 ends
  vdl_helper_token_state
  [ "$VDL_TOKEN_TTL" -gt 0 ] || return 0
  ends=$((VDL_TOKEN_SINCE + VDL_TOKEN_TTL * 1000))
  [ "$now" -ge $((VDL_TOKEN_SINCE + VDL_TOKEN_TTL * 500)) ] || return 0
  if [ "$now" -lt "$ends" ]; then
    [ "$VDL_TOKEN_RENEWABLE" = true ] || return 0
    vdl_vault POST auth/token/renew-self "$VDL_AUTH_NAMESPACE"
    if [ "$VDL_STATUS" = 200 ]; then
      vdl_json_parse_file "$VDL_RESPONSE" || true
      : >"$VDL_RESPONSE"
      vdl_helper_token_save "$now"
      VDL_JV=()
      return 0
    fi
    : >"$VDL_RESPONSE"
    if [ "$VDL_STATUS" != 403 ]; then
      vdl_warn "renewing this job's Vault token failed: $(vdl_vault_problem); it still works until its TTL ends."
      return 0
    fi
  fi
  vdl_helper_relogin "$now"
}

# vdl_helper_entry_line: the login entry VDL_INDEX (registry, path, method, fields, body).
vdl_helper_entry_line() {
  local i=0 reg path method ufield pfield body
  while IFS=$VDL_SEP read -r reg path method ufield pfield body; do
    if [ "$i" = "$VDL_INDEX" ]; then
      VDL_PATH=$path VDL_METHOD=$method VDL_UFIELD=$ufield VDL_PFIELD=$pfield VDL_BODY=$body
      return 0
    fi
    i=$((i + 1))
  done <"$VDL_DIR/entries"
  vdl_fail "$VDL_DIR/entries has no entry $VDL_INDEX for $VDL_KEY: run the orb's login (credential_helper: true) again."
}

# vdl_helper_lease NOW_MS: one credential request; the lease is recorded for logout the moment it
# exists, then the credential goes to the cache with the time it stops being handed out.
vdl_helper_lease() {
  local now=$1 lease duration ends until life margin user secret cache=$VDL_DIR/cache
  vdl_helper_entry_line
  vdl_vault_issue "$VDL_PATH" "$VDL_METHOD" "$VDL_BODY"
  if [ "${VDL_STATUS:0:1}" != 2 ]; then
    vdl_fail "no credential for $VDL_KEY from Vault at $VDL_ADDR: $VDL_PATH ($VDL_METHOD) answered $(vdl_vault_problem). $(vdl_issue_hint "$VDL_PATH" "$VDL_METHOD")"
  fi
  vdl_json_parse_file "$VDL_RESPONSE" || true
  : >"$VDL_RESPONSE"
  lease=${VDL_JV[.lease_id]:-}
  duration=${VDL_JV[.lease_duration]:-0}
  [[ $duration =~ ^[0-9]+$ ]] || duration=0
  if [ -n "$lease" ]; then
    printf '%s\n' "$lease" >>"$VDL_DIR/leases"
  fi
  vdl_credential "$VDL_PATH" "$VDL_UFIELD" "$VDL_PFIELD"
  VDL_JV=()
  if [ -n "$lease" ] && [ "$duration" -gt 0 ]; then
    ends=$((now + duration * 1000))
    # Vault revokes a token's leases with it: the credential ends when the token does, if earlier.
    if [ "$VDL_TOKEN_TTL" -gt 0 ] && [ $((VDL_TOKEN_SINCE + VDL_TOKEN_TTL * 1000)) -lt "$ends" ]; then
      ends=$((VDL_TOKEN_SINCE + VDL_TOKEN_TTL * 1000))
    fi
    life=$((ends - now))
    margin=$((VDL_RENEW_BEFORE * 1000))
    [ "$margin" -le $((life / 2)) ] || margin=$((life / 2))
    until=$((ends - margin))
  else
    until=$((now + VDL_STATIC_TTL * 1000))
  fi
  vdl_json_str user "$VDL_USERNAME"
  vdl_json_str secret "$VDL_SECRET"
  unset VDL_SECRET
  if [ -L "$cache" ] || [ ! -d "$cache" ] || [ ! -O "$cache" ]; then
    vdl_fail "$cache is not a directory owned by this user; not trusting it. Run the orb's login (credential_helper: true) again."
  fi
  printf '%s\n%s\n%s\n' "$until" "$user" "$secret" >"$cache/.$VDL_INDEX.$$"
  mv -f "$cache/.$VDL_INDEX.$$" "$cache/$VDL_INDEX"
}

# vdl_helper_get: the slow path of `get` for VDL_KEY / VDL_INDEX / VDL_URL.
vdl_helper_get() {
  local now
  vdl_helper_load
  vdl_helper_lock
  # Another get may have leased while this one waited.
  vdl_helper_cached && exit 0
  vdl_now_ms now
  vdl_helper_renew "$now"
  vdl_helper_lease "$now"
  vdl_helper_cached || vdl_fail "the credential for $VDL_KEY ($VDL_PATH) is already due for renewal when leased: its lease is too short; raise the engine's TTL to at least a few seconds."
}

# vdl_helper_list: each configured registry with a cached credential -> its username.
vdl_helper_list() {
  local key index user out="" seen=" " k
  while read -r key index; do
    case "$seen" in *" $index "*) continue ;; esac
    user=""
    if [ -f "$VDL_DIR/cache/$index" ] && [ ! -L "$VDL_DIR/cache/$index" ] && [ -O "$VDL_DIR/cache/$index" ]; then
      { read -r _ && read -r user; } <"$VDL_DIR/cache/$index" || user=""
    fi
    [ -n "$user" ] || continue
    seen+="$index "
    vdl_json_str k "$key"
    out+=${out:+,}$k:$user
  done <"$VDL_DIR/registries"
  printf '{%s}\n' "$out"
}
