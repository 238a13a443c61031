#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# login: CircleCI OIDC token -> one Vault JWT login -> for each registry, its credential (leased
# or static) -> docker login. 1 + N Vault requests. The state for `logout` goes to a 0600 file
# before anything can leak, and each lease is recorded the moment it exists.
set -euo pipefail
umask 077
eval "$SCRIPT_UTILS"
eval "$SCRIPT_JSON"
eval "$SCRIPT_VALIDATE"
eval "$SCRIPT_HTTP"
eval "$SCRIPT_OIDC"
eval "$SCRIPT_HINTS"
eval "$SCRIPT_TLS"
eval "$SCRIPT_ENTRIES"
eval "$SCRIPT_FIELDS"
eval "$SCRIPT_HELPER_SETUP"

command -v curl >/dev/null 2>&1 || vdl_fail "$VDL_NO_CURL."
for VDL_P in URL NAMESPACE AUTH_NAMESPACE AUTH_MOUNT ROLE AUDIENCE ENGINE_MOUNT ACCOUNT SECRET_PATH \
  SECRET_METHOD SECRET_BODY USERNAME_FIELD PASSWORD_FIELD REGISTRIES LABEL REGISTRY CA_CERTIFICATE \
  CLIENT_CERTIFICATE CLIENT_KEY; do
  vdl_param "PARAM_$VDL_P"
done
VDL_WORK=$(mktemp -d)
trap 'rm -rf "$VDL_WORK"' EXIT

vdl_check_int timeout "${PARAM_TIMEOUT:-60}" 1 3600
vdl_check_int retries "${PARAM_RETRIES:-2}" 0 10
VDL_DEADLINE=$((SECONDS + ${PARAM_TIMEOUT:-60}))
VDL_RETRIES=${PARAM_RETRIES:-2}

VDL_ADDR=${PARAM_URL:-${VAULT_ADDR:-}}
vdl_check_url url "$VDL_ADDR"
VDL_ADDR=${VDL_ADDR%/}
VDL_NAMESPACE=${PARAM_NAMESPACE:-${VAULT_NAMESPACE:-}}
VDL_AUTH_NAMESPACE=${PARAM_AUTH_NAMESPACE:-$VDL_NAMESPACE}
[ -z "$VDL_NAMESPACE" ] || vdl_check_path namespace "$VDL_NAMESPACE"
[ -z "$VDL_AUTH_NAMESPACE" ] || vdl_check_path auth_namespace "$VDL_AUTH_NAMESPACE"
VDL_AUTH_MOUNT=${PARAM_AUTH_MOUNT:-jwt}
vdl_check_path auth_mount "$VDL_AUTH_MOUNT"
VDL_ROLE=${PARAM_ROLE:-}
vdl_check_name role "$VDL_ROLE"
VDL_ENGINE_MOUNT=${PARAM_ENGINE_MOUNT:-dockerhub}
VDL_ACCOUNT=${PARAM_ACCOUNT:-}
VDL_SCOPE=${PARAM_SCOPE:-read}
VDL_LABEL=${PARAM_LABEL:-vault-docker-login ${CIRCLE_PROJECT_REPONAME:-circleci} build ${CIRCLE_BUILD_NUM:-0}}
vdl_check_label label "$VDL_LABEL"
VDL_LABEL=${VDL_LABEL:0:100}
vdl_plan_entries

[ "${PARAM_CREDENTIAL_HELPER:-false}" != true ] || vdl_helper_once
vdl_make_state_dir VDL_STATE_DIR
VDL_STATE=$(mktemp "$VDL_STATE_DIR/session.XXXXXX")
vdl_tls_setup "$VDL_STATE"
VDL_DOCKER_CONFIG=${DOCKER_CONFIG:-$HOME/.docker}
vdl_state_set "$VDL_STATE" vault_addr "$VDL_ADDR"
vdl_state_set "$VDL_STATE" namespace "$VDL_NAMESPACE"
vdl_state_set "$VDL_STATE" auth_namespace "$VDL_AUTH_NAMESPACE"
vdl_state_set "$VDL_STATE" docker_config "$VDL_DOCKER_CONFIG"

# credential_helper: the helper's directory exists (and is recorded for logout) before Vault is
# asked anything; where the mode cannot work, docker login below, with a warning.
VDL_HELPER=false
VDL_HELPER_WHY=""
if [ "${PARAM_CREDENTIAL_HELPER:-false}" = true ]; then
  vdl_helper_preflight
  if [ -z "$VDL_HELPER_WHY" ]; then
    VDL_HELPER=true
    vdl_helper_make_dir
  fi
fi

# 1. Identity.
vdl_oidc_token VDL_JWT "${PARAM_AUDIENCE:-}"

# 2. Vault login, once for every registry.
VDL_ROLE_VALUE=$VDL_ROLE
vdl_json_obj VDL_BODY role VDL_ROLE_VALUE jwt VDL_JWT
printf '%s' "$VDL_BODY" >"$VDL_WORK/login.json"
unset VDL_JWT VDL_BODY
vdl_vault POST "auth/$VDL_AUTH_MOUNT/login" "$VDL_AUTH_NAMESPACE" "$VDL_WORK/login.json"
: >"$VDL_WORK/login.json"
if [ "$VDL_STATUS" != 200 ]; then
  vdl_fail "Vault login at auth/$VDL_AUTH_MOUNT (role '$VDL_ROLE') failed: $(vdl_vault_problem). $(vdl_login_hint)"
fi
vdl_json_parse_file "$VDL_RESPONSE" || true
: >"$VDL_RESPONSE"
VDL_TOKEN=${VDL_JV[.auth.client_token]:-}
[ -n "$VDL_TOKEN" ] || vdl_fail "Vault login at auth/$VDL_AUTH_MOUNT answered without auth.client_token: check that it is a JWT auth method."
vdl_state_set "$VDL_STATE" vault_token "$VDL_TOKEN"
VDL_TOKEN_HEADER=$VDL_WORK/token.header
[ "$VDL_HELPER" != true ] || VDL_TOKEN_HEADER=$VDL_HELPER_DIR/token
printf 'X-Vault-Token: %s\n' "$VDL_TOKEN" >"$VDL_TOKEN_HEADER"
unset VDL_TOKEN
vdl_note "Logged in to Vault at $VDL_ADDR with role '$VDL_ROLE' (auth/$VDL_AUTH_MOUNT)."

if [ "$VDL_HELPER" = true ]; then
  VDL_TOKEN_TTL=${VDL_JV[.auth.lease_duration]:-0}
  [[ $VDL_TOKEN_TTL =~ ^[0-9]+$ ]] || VDL_TOKEN_TTL=0
  vdl_helper_setup "$VDL_TOKEN_TTL" "${VDL_JV[.auth.renewable]:-false}"
  VDL_JV=()
  VDL_ALL_REGISTRIES=""
  while IFS=$VDL_SEP read -r -u 3 VDL_REGISTRY _; do
    VDL_ALL_REGISTRIES+="${VDL_ALL_REGISTRIES:+ }${VDL_REGISTRY:-docker.io}"
  done 3<"$VDL_WORK/entries"
  {
    printf 'export VAULT_DOCKER_LOGIN_REGISTRY=%q\n' "${VDL_ALL_REGISTRIES%% *}"
    printf 'export VAULT_DOCKER_LOGIN_REGISTRIES=%q\n' "$VDL_ALL_REGISTRIES"
  } >>"$BASH_ENV"
  vdl_note "Credential helper mode: later steps use DOCKER_CONFIG=$VDL_HELPER_DIR, whose docker-credential-vault leases a credential for $VDL_ALL_REGISTRIES on first use and keeps it live for the whole job. Run the logout command (when: always) to revoke every lease and the Vault token."
  exit 0
fi

# 3. Per registry: the credential (one request), then docker login with the secret on stdin only.
VDL_FIRST_USERNAME=""
VDL_ALL_REGISTRIES=""
VDL_EARLIEST=""
while IFS=$VDL_SEP read -r -u 3 VDL_REGISTRY VDL_PATH VDL_METHOD VDL_UFIELD VDL_PFIELD VDL_BODY; do
  vdl_vault_issue "$VDL_PATH" "$VDL_METHOD" "$VDL_BODY"
  if [ "${VDL_STATUS:0:1}" != 2 ]; then
    vdl_fail "Vault refused the credential at $VDL_PATH ($VDL_METHOD): $(vdl_vault_problem). $(vdl_issue_hint "$VDL_PATH" "$VDL_METHOD") The logout step revokes the Vault token."
  fi
  # Parsed once, in this shell; the secret leaves the disk at once.
  vdl_json_parse_file "$VDL_RESPONSE" || true
  : >"$VDL_RESPONSE"
  VDL_LEASE_ID=${VDL_JV[.lease_id]:-}
  VDL_LEASE_DURATION=${VDL_JV[.lease_duration]:-}
  [[ $VDL_LEASE_DURATION =~ ^[0-9]+$ ]] || VDL_LEASE_DURATION=0
  VDL_EXPIRES_AT=""
  if [ -n "$VDL_LEASE_ID" ] && [ "$VDL_LEASE_DURATION" -gt 0 ]; then
    printf -v VDL_NOW '%(%s)T' -1
    vdl_iso_time VDL_EXPIRES_AT $((VDL_NOW + VDL_LEASE_DURATION))
  fi
  vdl_state_set "$VDL_STATE" login "$VDL_REGISTRY|$VDL_EXPIRES_AT|$VDL_LEASE_ID"
  VDL_AFTER="docker pulls and pushes to ${VDL_REGISTRY:-Docker Hub} after that fail with 'unauthorized: authentication required'"
  if [ -n "$VDL_HELPER_WHY" ]; then
    VDL_TTL_SAID="a static secret with no lease, so nothing expires mid-job"
    [ -z "$VDL_EXPIRES_AT" ] || VDL_TTL_SAID="the credential's lease TTL is ${VDL_LEASE_DURATION}s (until $VDL_EXPIRES_AT), and $VDL_AFTER"
    vdl_warn "credential_helper cannot work here: $VDL_HELPER_WHY. Logging in with docker login instead: $VDL_TTL_SAID."
  elif [ -n "$VDL_EXPIRES_AT" ]; then
    vdl_note "The credential's lease TTL is ${VDL_LEASE_DURATION}s (until $VDL_EXPIRES_AT): $VDL_AFTER. credential_helper: true keeps a live credential for the whole job."
  fi
  vdl_credential "$VDL_PATH" "$VDL_UFIELD" "$VDL_PFIELD"
  VDL_JV=()

  VDL_DOCKER_ARGS=(login --username "$VDL_USERNAME" --password-stdin)
  [ -z "$VDL_REGISTRY" ] || VDL_DOCKER_ARGS+=("$VDL_REGISTRY")
  if ! printf '%s' "$VDL_SECRET" | DOCKER_CONFIG=$VDL_DOCKER_CONFIG docker "${VDL_DOCKER_ARGS[@]}" >"$VDL_WORK/docker.out" 2>&1; then
    # docker logs each endpoint it tried (level=info), then prints the last error again: once here.
    VDL_SAID=$(grep -v '^time="[^"]*" level=info' "$VDL_WORK/docker.out" | awk 'NF && !seen[$0]++' | tr '\n' ' ')
    if printf '%s' "$VDL_SAID" | grep -qE 'dial tcp|no such host|connection refused|connection reset|i/o timeout|network is unreachable|TLS handshake timeout|Client\.Timeout|context deadline exceeded|HTTP response to HTTPS client'; then
      vdl_fail "could not reach the registry ${VDL_REGISTRY:-Docker Hub} to log in as '$VDL_USERNAME': ${VDL_SAID% }. Check 'registry' (host[:port]) and that this job reaches it: DNS, proxy, firewall, and http or https as the registry serves."
    fi
    vdl_fail "the registry ${VDL_REGISTRY:-Docker Hub} refused the login for '$VDL_USERNAME': ${VDL_SAID% }. Check that 'registry' names the registry this credential is for, and that the account may log in there."
  fi
  unset VDL_SECRET
  VDL_DOCKER_SAID=""
  IFS= read -r -d '' VDL_DOCKER_SAID <"$VDL_WORK/docker.out" || true
  printf '%s' "$VDL_DOCKER_SAID"
  [ ! -f "$VDL_DOCKER_CONFIG/config.json" ] || chmod 600 "$VDL_DOCKER_CONFIG/config.json"
  VDL_WHAT="a static secret, no lease to revoke"
  [ -z "$VDL_LEASE_ID" ] || VDL_WHAT="lease $VDL_LEASE_ID${VDL_EXPIRES_AT:+, expires at $VDL_EXPIRES_AT}"
  vdl_note "Logged in to ${VDL_REGISTRY:-Docker Hub} as '$VDL_USERNAME' with $VDL_PATH ($VDL_WHAT)."
  VDL_FIRST_USERNAME=${VDL_FIRST_USERNAME:-$VDL_USERNAME}
  VDL_ALL_REGISTRIES+="${VDL_ALL_REGISTRIES:+ }${VDL_REGISTRY:-docker.io}"
  if [ -n "$VDL_EXPIRES_AT" ] && { [ -z "$VDL_EARLIEST" ] || [[ $VDL_EXPIRES_AT < $VDL_EARLIEST ]]; }; then
    VDL_EARLIEST=$VDL_EXPIRES_AT
  fi
done 3<"$VDL_WORK/entries"

# Non-secret outputs for later steps.
if [ -n "${BASH_ENV:-}" ]; then
  {
    printf 'export VAULT_DOCKER_LOGIN_USERNAME=%q\n' "$VDL_FIRST_USERNAME"
    printf 'export VAULT_DOCKER_LOGIN_REGISTRY=%q\n' "${VDL_ALL_REGISTRIES%% *}"
    printf 'export VAULT_DOCKER_LOGIN_REGISTRIES=%q\n' "$VDL_ALL_REGISTRIES"
    printf 'export VAULT_DOCKER_LOGIN_EXPIRES_AT=%q\n' "$VDL_EARLIEST"
  } >>"$BASH_ENV"
fi
vdl_note "Run the logout command (when: always) to log out and revoke the Vault token${VDL_EARLIEST:+ and leases (the first expires at $VDL_EARLIEST)}."
