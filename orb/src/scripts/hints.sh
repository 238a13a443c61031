#!/usr/bin/env bash
# What to fix, for the Vault answers a misconfigured login or engine gives.

# vdl_login_hint: after a failed JWT login; uses VDL_STATUS, VDL_RESPONSE and the PARAM_* names.
vdl_login_hint() {
  local errors
  errors=$(vdl_json_errors <"$VDL_RESPONSE")
  case "$VDL_STATUS:$errors" in
    000:*) printf "check 'url' and that this job can reach Vault (proxy, firewall, TLS: 'ca_certificate' or VAULT_CACERT); 'timeout' bounds the wait." ;;
    400:*"could not be found"*) printf "create role '%s' on auth/%s, or fix the 'role' parameter." "$VDL_ROLE" "$VDL_AUTH_MOUNT" ;;
    400:*"no audiences bound"*) printf "the token has an audience but role '%s' binds none: set bound_audiences on the role, or leave 'audience' empty." "$VDL_ROLE" ;;
    400:*"invalid audience"* | 400:*"aud"*) printf "set the 'audience' parameter to one of the bound_audiences of role '%s' (empty 'audience' sends the organization id)." "$VDL_ROLE" ;;
    400:*"expired"* | 400:*"exp"*) printf "the OIDC token expired (CircleCI tokens live one hour from job start): pass 'audience' to mint a fresh one." ;;
    400:*"signature"* | 400:*"issuer"* | 400:*"iss"*) printf "auth/%s does not trust this token: set its oidc_discovery_url or bound_issuer to https://oidc.circleci.com/org/<org-id> for this organization." "$VDL_AUTH_MOUNT" ;;
    400:*"bound claim"* | 400:*"claim"*) printf "this job's token does not match the bound_claims of role '%s' (project id, vcs ref, context ids): fix the role or run from the allowed project/branch." "$VDL_ROLE" ;;
    403:*) printf "the auth mount refused the login: check 'auth_mount', 'auth_namespace' and the role's bound claims." ;;
    404:* | 405:*) printf "there is no JWT auth method at auth/%s: fix 'auth_mount' (and 'auth_namespace' when it lives in a namespace)." "$VDL_AUTH_MOUNT" ;;
    *) printf "check the Vault server's health and the auth method configuration." ;;
  esac
}

# vdl_issue_hint PATH METHOD: after a failed credential request.
vdl_issue_hint() {
  local errors caps='["create", "update"]'
  [ "${2:-write}" = write ] || caps='["read"]'
  errors=$(vdl_json_errors <"$VDL_RESPONSE")
  case "$VDL_STATUS:$errors" in
    000:*) printf "Vault did not answer in time: retry, or raise 'timeout'." ;;
    403:*) printf "the policy of role '%s' needs capabilities %s on %s (and 'namespace' must be where the secret is mounted); Docker Hub engine paths are written, other secrets read unless 'secret_method' says otherwise." "$VDL_ROLE" "$caps" "$1" ;;
    404:*) printf "nothing at %s: check 'engine_mount', 'account' and 'scope' (or 'secret_path') and 'namespace'." "$1" ;;
    405:*) printf "%s does not accept this operation: Docker Hub engine paths are written (account + scope); 'secret_path' is read." "$1" ;;
    *"not permitted"*) printf "the engine configuration for account '%s' does not allow scope '%s': use an allowed 'scope' or change %s/config/%s." "$VDL_ACCOUNT" "$VDL_SCOPE" "$VDL_ENGINE_MOUNT" "$VDL_ACCOUNT" ;;
    *"no config"* | *"not configured"* | *"not found"*) printf "account '%s' is not configured: write %s/config/%s first, or fix 'account'." "$VDL_ACCOUNT" "$VDL_ENGINE_MOUNT" "$VDL_ACCOUNT" ;;
    *) printf "check the secrets engine at %s and its Docker Hub configuration." "$1" ;;
  esac
}
