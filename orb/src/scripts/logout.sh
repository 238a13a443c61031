#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# logout: for every login session of this job, docker logout, revoke the lease, revoke the
# Vault token (which also kills its leases), and remove the state. Never fails the job.
set -uo pipefail
umask 077
eval "$SCRIPT_UTILS"
eval "$SCRIPT_JSON"
eval "$SCRIPT_HTTP"

vdl_state_dir VDL_STATE_DIR
shopt -s nullglob
VDL_SESSIONS=("$VDL_STATE_DIR"/session.??????)
if [ "${#VDL_SESSIONS[@]}" -eq 0 ]; then
  vdl_note "nothing to clean up (no login state in $VDL_STATE_DIR)."
  exit 0
fi
if [ -L "$VDL_STATE_DIR" ] || [ ! -O "$VDL_STATE_DIR" ]; then
  vdl_warn "state directory $VDL_STATE_DIR is not owned by this user; not trusting it. Leases expire on their own."
  exit 0
fi
VDL_RETRIES=${PARAM_RETRIES:-2}
[[ $VDL_RETRIES =~ ^[0-9]+$ ]] || VDL_RETRIES=2
VDL_TIMEOUT=${PARAM_TIMEOUT:-30}
[[ $VDL_TIMEOUT =~ ^[0-9]+$ ]] || VDL_TIMEOUT=30
VDL_DEADLINE=$((SECONDS + VDL_TIMEOUT))
VDL_WORK=$(mktemp -d)
trap 'rm -rf "$VDL_WORK"' EXIT

# vdl_cleanup_session STATE_FILE: prints warnings, never exits.
vdl_cleanup_session() {
  local state=$1 config token ns auth_ns login registry expires lease earliest="" status helper prev_config header=""
  local -a leases=() revoked=()
  vdl_state_load "$state"
  config=${VDL_STATE_KV[docker_config]:-}
  ns=${VDL_STATE_KV[namespace]:-}
  auth_ns=${VDL_STATE_KV[auth_namespace]:-}
  VDL_ADDR=${VDL_STATE_KV[vault_addr]:-}
  VDL_CA_FILE=${VDL_STATE_KV[ca_file]:-}
  VDL_CLIENT_CERT=${VDL_STATE_KV[client_cert]:-}
  VDL_CLIENT_KEY=${VDL_STATE_KV[client_key]:-}
  VDL_SKIP_VERIFY=${VDL_STATE_KV[skip_verify]:-}
  token=${VDL_STATE_KV[vault_token]:-}
  helper=${VDL_STATE_KV[helper_dir]:-}
  prev_config=${VDL_STATE_KV[helper_prev_config]:-}
  VDL_STATE_KV=()

  # credential_helper: every lease its docker-credential-vault made during the job, then the
  # directory goes (it is this job's: recorded in this job's state).
  if [ -n "$helper" ]; then
    if [ -d "$helper" ] && [ ! -L "$helper" ] && [ -O "$helper" ]; then
      if [ -f "$helper/leases" ] && [ ! -L "$helper/leases" ]; then
        while IFS= read -r lease; do
          [ -z "$lease" ] || leases+=("$lease")
        done <"$helper/leases"
      fi
      # The helper logs in again when the job's token expired between two docker commands: the
      # token in its directory is the live one (an earlier one is dead already).
      if [ -f "$helper/token" ] && [ ! -L "$helper/token" ]; then
        IFS= read -r header <"$helper/token" || true
        header=${header#X-Vault-Token: }
        [ -z "$header" ] || token=$header
        header=""
      fi
      rm -rf "$helper"
      vdl_note "Removed the credential helper's directory $helper."
    elif [ -e "$helper" ] || [ -L "$helper" ]; then
      vdl_warn "$helper is not a directory owned by this user; left alone."
    fi
    # Later steps get the docker config they had before login.
    if [ -n "${BASH_ENV:-}" ]; then
      if [ -n "$prev_config" ]; then
        printf 'export DOCKER_CONFIG=%q\n' "$prev_config" >>"$BASH_ENV"
      else
        printf 'unset DOCKER_CONFIG\n' >>"$BASH_ENV"
      fi
    fi
  fi

  # Each login record: registry|expires_at|lease_id (lease empty for a static secret).
  for login in "${VDL_STATE_LOGINS[@]}"; do
    registry=${login%%|*}
    login=${login#*|}
    expires=${login%%|*}
    lease=${login#*|}
    if [ -n "$config" ]; then
      if DOCKER_CONFIG=$config docker logout ${registry:+"$registry"} >"$VDL_WORK/docker.out" 2>&1; then
        vdl_note "Logged out of ${registry:-Docker Hub}."
      else
        vdl_warn "docker logout of ${registry:-Docker Hub} failed: $(tr '\n' ' ' <"$VDL_WORK/docker.out")"
      fi
    fi
    [ -z "$lease" ] || leases+=("$lease")
    if [ -n "$expires" ] && { [ -z "$earliest" ] || [[ $expires < $earliest ]]; }; then earliest=$expires; fi
  done
  local later="the credential stays valid until its lease expires${earliest:+ at $earliest}"
  [ -z "$helper" ] || later="the helper's credentials stay valid until their leases expire (at most one lease TTL)"

  if [ -z "$token" ]; then
    vdl_note "login had not obtained a Vault token; nothing to revoke."
    return 0
  fi
  if ! command -v curl >/dev/null 2>&1; then
    vdl_warn "cannot revoke: $VDL_NO_CURL; $later."
    return 0
  fi
  VDL_TOKEN_HEADER=$VDL_WORK/token.header
  printf 'X-Vault-Token: %s\n' "$token" >"$VDL_TOKEN_HEADER"
  unset token

  # One request per lease. The default policy does not grant it: a 403 is expected and harmless
  # (the rest would be refused too), because revoke-self below revokes every lease the token made.
  for lease in "${leases[@]}"; do
    VDL_LEASE=$lease
    vdl_json_obj VDL_BODY lease_id VDL_LEASE
    printf '%s' "$VDL_BODY" >"$VDL_WORK/revoke.json"
    vdl_vault PUT sys/leases/revoke "$ns" "$VDL_WORK/revoke.json"
    case "$VDL_STATUS" in
      2??) revoked+=("$lease") ;;
      403) break ;;
      *) vdl_warn "revoking lease $lease failed: $(vdl_vault_problem)." ;;
    esac
  done
  # Then the token, which takes its leases with it.
  vdl_vault POST auth/token/revoke-self "$auth_ns"
  status=$VDL_STATUS
  : >"$VDL_TOKEN_HEADER" # the token leaves the disk now; the trap removes the file
  local what="${#leases[@]} leases"
  case "${#leases[@]}" in 0) what="no lease (static secrets)" ;; 1) what="lease ${leases[0]}" ;; esac
  case "$status" in
    2??) vdl_note "Revoked the Vault token and $what." ;;
    403)
      if [ "${#revoked[@]}" -gt 0 ] && [ "${#revoked[@]}" -eq "${#leases[@]}" ]; then
        vdl_note "Revoked $what; the Vault token had already expired or been revoked."
      elif [ "${#leases[@]}" -eq 0 ]; then
        vdl_note "The Vault token had already expired or been revoked; there was no lease to revoke."
      else
        vdl_warn "the Vault token was already invalid (HTTP 403), so its leases could not all be revoked here; $later."
      fi
      ;;
    *) vdl_warn "revoking the Vault token failed: $(vdl_vault_problem); $later." ;;
  esac
}

for VDL_SESSION in "${VDL_SESSIONS[@]}"; do
  vdl_cleanup_session "$VDL_SESSION" || true
  rm -f "$VDL_SESSION" "$VDL_SESSION".*
done
rmdir "$VDL_STATE_DIR" 2>/dev/null || true
exit 0
