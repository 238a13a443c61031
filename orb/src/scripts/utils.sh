#!/usr/bin/env bash
# shellcheck disable=SC2034 # globals shared with the eval-ed helper scripts
# Shared helpers: messages, parameters, private state, time. Functions that produce a value set
# a variable (printf -v) rather than print it, so the hot path forks no subshells.

vdl_note() { printf 'vault-docker-login: %s\n' "$*"; }
vdl_warn() { printf 'vault-docker-login: WARNING: %s\n' "$*" >&2; }
vdl_fail() {
  printf 'vault-docker-login: ERROR: %s\n' "$*" >&2
  exit 1
}

# Associative arrays, namerefs and empty arrays under set -u need bash 4.4 (macOS ships 3.2).
if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 404)); then
  vdl_fail "the orb needs bash 4.4 or later; this is bash $BASH_VERSION. On macOS: brew install bash, and put it first on PATH."
fi

# vdl_param NAME: a value written as $NAME or ${NAME} is replaced by that environment variable's,
# because CircleCI passes parameters literally (project and context variables are not expanded).
vdl_param() {
  if [[ ${!1:-} =~ ^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$ ]]; then
    printf -v "$1" '%s' "${!BASH_REMATCH[1]:-}"
  fi
}

VDL_NO_CURL="curl is not installed: use an image with curl (cimg/base has it) or install it before this step"

# vdl_state_dir VAR: the per-job state directory; override with VAULT_DOCKER_LOGIN_STATE_DIR.
vdl_state_dir() {
  printf -v "$1" '%s' "${VAULT_DOCKER_LOGIN_STATE_DIR:-${TMPDIR:-/tmp}/vault-docker-login-${CIRCLE_WORKFLOW_JOB_ID:-${CIRCLE_BUILD_NUM:-$UID}}}"
}

# vdl_make_state_dir VAR: creates the state directory (0700, ours, not a symlink) and names it.
vdl_make_state_dir() {
  local _sd
  vdl_state_dir _sd
  if ! mkdir -m 700 "$_sd" 2>/dev/null; then
    if [ -L "$_sd" ] || [ ! -d "$_sd" ] || [ ! -O "$_sd" ]; then
      vdl_fail "state directory $_sd is not a directory owned by this user: remove it or set VAULT_DOCKER_LOGIN_STATE_DIR."
    fi
    chmod 700 "$_sd"
  fi
  printf -v "$1" '%s' "$_sd"
}

# vdl_state_set FILE KEY VALUE: appends a line; the last value of a key wins.
vdl_state_set() {
  case "$3" in *$'\n'*) vdl_fail "internal: state value for $2 contains a newline." ;; esac
  printf '%s=%s\n' "$2" "$3" >>"$1"
}

# vdl_state_load FILE: VDL_STATE_KV[key] = the key's last value; VDL_STATE_LOGINS = every
# `login` value, in order.
declare -gA VDL_STATE_KV=()
VDL_STATE_LOGINS=()
vdl_state_load() {
  local k v
  VDL_STATE_KV=()
  VDL_STATE_LOGINS=()
  while IFS='=' read -r k v; do
    [ -n "$k" ] || continue
    VDL_STATE_KV[$k]=$v
    [ "$k" != login ] || VDL_STATE_LOGINS+=("$v")
  done <"$1"
}

# vdl_iso_time VAR EPOCH: sets VAR to EPOCH as UTC ISO 8601 (bash's own strftime: no date(1)).
vdl_iso_time() {
  local TZ=UTC0
  printf -v "$1" '%(%Y-%m-%dT%H:%M:%SZ)T' "$2"
}
