#!/usr/bin/env bash
# What to fix, for the Vault answers a misconfigured login or engine gives.

# Statuses that mean Vault is unavailable now (sealed, rate-limited, a standby behind), never that
# the request is wrong: http.sh retried them until 'retries' or 'timeout' ran out.
VDL_UNAVAILABLE="Vault is unavailable (sealed, rate-limited or a standby behind): raise 'retries' or 'timeout' if this is passing, or check Vault's health."

# vdl_login_hint: after a failed JWT login; uses VDL_STATUS, VDL_RESPONSE and the PARAM_* names.
vdl_login_hint() {
  local errors
  vdl_json_errors errors "$VDL_RESPONSE"
  if [ -n "${VDL_PLAIN_HTTP:-}" ]; then
    printf "use http:// in 'url' (or VAULT_ADDR), or enable TLS on Vault's listener."
    return 0
  fi
  case "$VDL_STATUS:$errors" in
    000:*) printf "check 'url' and that this job can reach Vault (proxy, firewall, TLS: 'ca_certificate' or VAULT_CACERT); 'timeout' bounds the wait." ;;
    412:* | 429:* | 502:* | 503:* | 504:*) printf '%s' "$VDL_UNAVAILABLE" ;;
    400:*"could not be found"*) printf "create role '%s' on auth/%s, or fix the 'role' parameter." "$VDL_ROLE" "$VDL_AUTH_MOUNT" ;;
    400:*"no audiences bound"*) printf "the token has an audience but role '%s' binds none: set bound_audiences on the role, or leave 'audience' empty." "$VDL_ROLE" ;;
    400:*"invalid audience"* | 400:*"aud"*) printf "set the 'audience' parameter to one of the bound_audiences of role '%s' (empty 'audience' sends the organization id)." "$VDL_ROLE" ;;
    400:*"expired"* | 400:*"exp"*) printf "the OIDC token expired (CircleCI tokens live one hour from job start): pass 'audience' to mint a fresh one." ;;
    400:*"signature"* | 400:*"issuer"*) printf "auth/%s does not trust this token: set its oidc_discovery_url or bound_issuer to https://oidc.circleci.com/org/<org-id> for this organization." "$VDL_AUTH_MOUNT" ;;
    400:*"bound claim"* | 400:*"claim"*) printf "this job's token does not match the bound_claims of role '%s' (project id, vcs ref, context ids): fix the role or run from the allowed project/branch." "$VDL_ROLE" ;;
    403:*)
      if [[ $VDL_ADDR == */v1 ]]; then
        printf "the Vault address ends in /v1, so the login went to /v1/v1/auth/%s/login: set 'url' (or VAULT_ADDR) to the address without /v1." "$VDL_AUTH_MOUNT"
      else
        printf "no JWT auth method answers at auth/%s: set 'auth_mount' to the path where it is enabled (default jwt; 'vault auth list' shows the paths) and 'auth_namespace' if it lives in a namespace. An address ending in /v1 gives the same 403: 'url' must not include /v1." "$VDL_AUTH_MOUNT"
      fi
      ;;
    404:* | 405:*) printf "there is no JWT auth method at auth/%s: fix 'auth_mount' (and 'auth_namespace' when it lives in a namespace)." "$VDL_AUTH_MOUNT" ;;
    *) printf "check the Vault server's health and the auth method configuration." ;;
  esac
}

# vdl_kv_hint PATH: for a refused read, the /data/ segment a KV v2 path and its policy need.
vdl_kv_hint() {
  if [[ $1 == */data/* ]]; then
    printf " A KV v2 policy names the API path with /data/ (%s), not the path 'vault kv get' shows (%s)." "$1" "${1/\/data\//\/}"
  else
    printf " If %s/ is a KV v2 mount, the path needs /data/ after the mount: %s/data/%s (in 'secret_path' and in the policy)." "${1%%/*}" "${1%%/*}" "${1#*/}"
  fi
}

# vdl_issue_hint PATH METHOD: after a failed credential request.
vdl_issue_hint() {
  local errors caps='["create", "update"]' kv=""
  if [ "${2:-write}" != write ]; then
    caps='["read"]'
    kv=$(vdl_kv_hint "$1")
  fi
  vdl_json_errors errors "$VDL_RESPONSE"
  case "$VDL_STATUS:$errors" in
    000:*) printf "Vault did not answer in time: retry, or raise 'timeout'." ;;
    412:* | 429:* | 502:* | 503:* | 504:*) printf '%s' "$VDL_UNAVAILABLE" ;;
    403:*) printf "the policy of role '%s' needs capabilities %s on %s (and 'namespace' must be where the secret is mounted); Docker Hub engine paths are written, other secrets read unless 'secret_method' says otherwise.%s" "$VDL_ROLE" "$caps" "$1" "$kv" ;;
    404:*) printf "nothing at %s: check 'engine_mount', 'account' and 'scope' (or 'secret_path') and 'namespace'.%s" "$1" "$kv" ;;
    405:*) printf "%s does not accept this operation: Docker Hub engine paths are written (account + scope); 'secret_path' is read." "$1" ;;
    *"not permitted"*) printf "the engine configuration for account '%s' does not allow scope '%s': use an allowed 'scope' or change %s/config/%s." "$VDL_ACCOUNT" "$VDL_SCOPE" "$VDL_ENGINE_MOUNT" "$VDL_ACCOUNT" ;;
    *"finde configuration"* | *"find configuration"* | *"not configured"* | *"not found"*) printf "account '%s' is not configured: write %s/config/%s first, or fix 'account'." "$VDL_ACCOUNT" "$VDL_ENGINE_MOUNT" "$VDL_ACCOUNT" ;;
    *) printf "check the secrets engine at %s and its Docker Hub configuration." "$1" ;;
  esac
}
