#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# login: CircleCI OIDC token -> Vault JWT login -> leased registry credential -> docker login.
# Two Vault requests. The state for `logout` goes to a 0600 file before anything can leak.
set -euo pipefail
umask 077
eval "$SCRIPT_UTILS"
eval "$SCRIPT_VALIDATE"
eval "$SCRIPT_HTTP"
eval "$SCRIPT_OIDC"
eval "$SCRIPT_HINTS"

vdl_require_tools
for VDL_P in URL NAMESPACE AUTH_NAMESPACE AUTH_MOUNT ROLE AUDIENCE ENGINE_MOUNT ACCOUNT SECRET_PATH LABEL REGISTRY CA_CERTIFICATE; do
  VDL_V=PARAM_$VDL_P
  printf -v "$VDL_V" '%s' "$(vdl_param "${!VDL_V:-}")"
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
VDL_AUTH_MOUNT=${PARAM_AUTH_MOUNT:-circleci}
vdl_check_path auth_mount "$VDL_AUTH_MOUNT"
VDL_ROLE=${PARAM_ROLE:-}
vdl_check_name role "$VDL_ROLE"
VDL_ENGINE_MOUNT=${PARAM_ENGINE_MOUNT:-dockerhub}
VDL_ACCOUNT=${PARAM_ACCOUNT:-}
VDL_SCOPE=${PARAM_SCOPE:-read}
VDL_SECRET_PATH=${PARAM_SECRET_PATH:-}
if [ -n "$VDL_SECRET_PATH" ]; then
  vdl_check_path secret_path "$VDL_SECRET_PATH"
  VDL_PATH=$VDL_SECRET_PATH
else
  vdl_check_path engine_mount "$VDL_ENGINE_MOUNT"
  [ -n "$VDL_ACCOUNT" ] || vdl_fail "parameter 'account' is empty. Accepted: the Docker Hub account configured at $VDL_ENGINE_MOUNT/config/<account>, or set 'secret_path' instead."
  vdl_check_name account "$VDL_ACCOUNT"
  vdl_check_scope scope "$VDL_SCOPE"
  VDL_PATH=$VDL_ENGINE_MOUNT/token/$VDL_ACCOUNT/$VDL_SCOPE
fi
VDL_LABEL=${PARAM_LABEL:-vault-docker-login ${CIRCLE_PROJECT_REPONAME:-circleci} build ${CIRCLE_BUILD_NUM:-0}}
vdl_check_label label "$VDL_LABEL"
VDL_LABEL=${VDL_LABEL:0:100}
VDL_REGISTRY=${PARAM_REGISTRY:-}
vdl_check_registry registry "$VDL_REGISTRY"

# TLS: the CA lives with the state so logout trusts the same server.
VDL_STATE_DIR=$(vdl_make_state_dir)
VDL_STATE=$(mktemp "$VDL_STATE_DIR/session.XXXXXX")
VDL_CA_FILE=${VAULT_CACERT:-}
if [ -n "${PARAM_CA_CERTIFICATE:-}" ]; then
  VDL_CA_FILE=$VDL_STATE.ca.pem
  if [[ $PARAM_CA_CERTIFICATE == *"-----BEGIN"* ]]; then
    printf '%s\n' "$PARAM_CA_CERTIFICATE" >"$VDL_CA_FILE"
  elif ! printf '%s' "$PARAM_CA_CERTIFICATE" | base64 -d >"$VDL_CA_FILE" 2>/dev/null ||
    ! grep -q -- '-----BEGIN' "$VDL_CA_FILE"; then
    vdl_fail "parameter 'ca_certificate' is invalid: it is neither PEM nor base64 of PEM. Accepted: a PEM CA certificate (-----BEGIN CERTIFICATE-----...) or its base64."
  fi
fi
[ -z "$VDL_CA_FILE" ] || [ -r "$VDL_CA_FILE" ] || vdl_fail "VAULT_CACERT '$VDL_CA_FILE' is not a readable file: point it at a PEM CA certificate."
VDL_SKIP_VERIFY=false
case "${VAULT_SKIP_VERIFY:-}" in "" | 0 | false | False | FALSE) ;; *) PARAM_TLS_SKIP_VERIFY=true ;; esac
if [ "${PARAM_TLS_SKIP_VERIFY:-false}" = true ]; then
  VDL_SKIP_VERIFY=true
  vdl_warn "TLS VERIFICATION OF VAULT IS OFF (tls_skip_verify / VAULT_SKIP_VERIFY): anyone on the path can read the credential. Use 'ca_certificate' instead."
fi
vdl_state_set "$VDL_STATE" vault_addr "$VDL_ADDR"
vdl_state_set "$VDL_STATE" namespace "$VDL_NAMESPACE"
vdl_state_set "$VDL_STATE" auth_namespace "$VDL_AUTH_NAMESPACE"
vdl_state_set "$VDL_STATE" ca_file "$VDL_CA_FILE"
vdl_state_set "$VDL_STATE" skip_verify "$VDL_SKIP_VERIFY"

# 1. Identity.
VDL_JWT=$(vdl_oidc_token "${PARAM_AUDIENCE:-}")

# 2. Vault login (request 1 of 2).
VDL_ROLE_VALUE=$VDL_ROLE
vdl_json_obj role VDL_ROLE_VALUE jwt VDL_JWT >"$VDL_WORK/login.json"
unset VDL_JWT
vdl_vault POST "auth/$VDL_AUTH_MOUNT/login" "$VDL_AUTH_NAMESPACE" "$VDL_WORK/login.json"
rm -f "$VDL_WORK/login.json"
if [ "$VDL_STATUS" != 200 ]; then
  vdl_fail "Vault login at auth/$VDL_AUTH_MOUNT (role '$VDL_ROLE') failed: $(vdl_vault_problem). $(vdl_login_hint)"
fi
VDL_TOKEN=$(vdl_json_get auth.client_token <"$VDL_RESPONSE")
[ -n "$VDL_TOKEN" ] || vdl_fail "Vault login at auth/$VDL_AUTH_MOUNT answered without auth.client_token: check that it is a JWT auth method."
vdl_state_set "$VDL_STATE" vault_token "$VDL_TOKEN"
VDL_TOKEN_HEADER=$VDL_WORK/token.header
printf 'X-Vault-Token: %s\n' "$VDL_TOKEN" >"$VDL_TOKEN_HEADER"
unset VDL_TOKEN
vdl_note "Logged in to Vault at $VDL_ADDR with role '$VDL_ROLE' (auth/$VDL_AUTH_MOUNT)."

# 3. The credential (request 2 of 2): Docker Hub engine tokens are written, other secrets read.
if [ -n "$VDL_SECRET_PATH" ] && [[ $VDL_SECRET_PATH != "$VDL_ENGINE_MOUNT"/token/* ]]; then
  vdl_vault GET "$VDL_PATH" "$VDL_NAMESPACE"
else
  vdl_json_obj label VDL_LABEL >"$VDL_WORK/issue.json"
  vdl_vault POST "$VDL_PATH" "$VDL_NAMESPACE" "$VDL_WORK/issue.json"
fi
if [ "${VDL_STATUS:0:1}" != 2 ]; then
  vdl_fail "Vault refused the credential at $VDL_PATH: $(vdl_vault_problem). $(vdl_issue_hint "$VDL_PATH") The logout step revokes the Vault token."
fi
VDL_LEASE_ID=$(vdl_json_get lease_id <"$VDL_RESPONSE")
VDL_LEASE_DURATION=$(vdl_json_get lease_duration <"$VDL_RESPONSE")
VDL_USERNAME=$(vdl_json_get data.username data.data.username <"$VDL_RESPONSE")
VDL_USERNAME=${VDL_USERNAME:-$VDL_ACCOUNT}
VDL_SECRET=$(vdl_json_get data.token data.password data.secret data.access_token data.data.password data.data.token <"$VDL_RESPONSE")
: >"$VDL_RESPONSE"
[ -n "$VDL_SECRET" ] || vdl_fail "the answer at $VDL_PATH holds no token, password, secret or access_token: point 'secret_path' at registry credentials."
[ -n "$VDL_USERNAME" ] || vdl_fail "the answer at $VDL_PATH holds no username: set 'account' or store a username next to the password."
[[ $VDL_LEASE_DURATION =~ ^[0-9]+$ ]] || VDL_LEASE_DURATION=0
VDL_EXPIRES_AT=""
[ "$VDL_LEASE_DURATION" -eq 0 ] || VDL_EXPIRES_AT=$(vdl_iso_time "$(($(date +%s) + VDL_LEASE_DURATION))")
vdl_state_set "$VDL_STATE" lease_id "$VDL_LEASE_ID"
vdl_state_set "$VDL_STATE" expires_at "$VDL_EXPIRES_AT"

# 4. docker login, secret on stdin only.
VDL_DOCKER_CONFIG=${DOCKER_CONFIG:-$HOME/.docker}
vdl_state_set "$VDL_STATE" registry "$VDL_REGISTRY"
vdl_state_set "$VDL_STATE" docker_config "$VDL_DOCKER_CONFIG"
VDL_DOCKER_ARGS=(login --username "$VDL_USERNAME" --password-stdin)
[ -z "$VDL_REGISTRY" ] || VDL_DOCKER_ARGS+=("$VDL_REGISTRY")
if ! printf '%s' "$VDL_SECRET" | DOCKER_CONFIG=$VDL_DOCKER_CONFIG docker "${VDL_DOCKER_ARGS[@]}" >"$VDL_WORK/docker.out" 2>&1; then
  vdl_fail "docker login to ${VDL_REGISTRY:-Docker Hub} as '$VDL_USERNAME' failed: $(tr '\n' ' ' <"$VDL_WORK/docker.out"). Check 'registry' and that the docker CLI can reach it."
fi
unset VDL_SECRET
cat "$VDL_WORK/docker.out"
[ ! -f "$VDL_DOCKER_CONFIG/config.json" ] || chmod 600 "$VDL_DOCKER_CONFIG/config.json"

# Non-secret outputs for later steps.
if [ -n "${BASH_ENV:-}" ]; then
  {
    printf 'export VAULT_DOCKER_LOGIN_USERNAME=%q\n' "$VDL_USERNAME"
    printf 'export VAULT_DOCKER_LOGIN_REGISTRY=%q\n' "${VDL_REGISTRY:-docker.io}"
    printf 'export VAULT_DOCKER_LOGIN_EXPIRES_AT=%q\n' "$VDL_EXPIRES_AT"
  } >>"$BASH_ENV"
fi
vdl_note "Logged in to ${VDL_REGISTRY:-Docker Hub} as '$VDL_USERNAME'${VDL_EXPIRES_AT:+; the credential expires at $VDL_EXPIRES_AT}. Run the logout command (when: always) to revoke it."
