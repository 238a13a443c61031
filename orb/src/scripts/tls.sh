#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# TLS to Vault: a CA (parameter or VAULT_CACERT), a client certificate and key for mTLS
# (parameters or VAULT_CLIENT_CERT / VAULT_CLIENT_KEY), and skip-verify with a loud warning.
# PEM parameters go to 0600 files next to the state, so logout talks to Vault the same way
# and no key is ever in argv.

# vdl_pem_param PARAM VALUE FILE WHAT: writes PEM text, or the PEM its base64 decodes to, to FILE.
vdl_pem_param() {
  if [[ $2 == *"-----BEGIN"* ]]; then
    printf '%s\n' "$2" >"$3"
  elif ! printf '%s' "$2" | base64 -d >"$3" 2>/dev/null || ! grep -q -- '-----BEGIN' "$3"; then
    rm -f "$3"
    vdl_fail "parameter '$1' is invalid: it is neither PEM nor base64 of PEM. Accepted: $4 in PEM (-----BEGIN ...-----) or its base64."
  fi
}

# vdl_tls_setup STATE_FILE: sets VDL_CA_FILE, VDL_CLIENT_CERT, VDL_CLIENT_KEY, VDL_SKIP_VERIFY.
vdl_tls_setup() {
  local state=$1
  VDL_CA_FILE=${VAULT_CACERT:-}
  if [ -n "${PARAM_CA_CERTIFICATE:-}" ]; then
    VDL_CA_FILE=$state.ca.pem
    vdl_pem_param ca_certificate "$PARAM_CA_CERTIFICATE" "$VDL_CA_FILE" "a CA certificate"
  fi
  [ -z "$VDL_CA_FILE" ] || [ -r "$VDL_CA_FILE" ] ||
    vdl_fail "VAULT_CACERT '$VDL_CA_FILE' is not a readable file: point it at a PEM CA certificate."

  VDL_CLIENT_CERT=${VAULT_CLIENT_CERT:-}
  VDL_CLIENT_KEY=${VAULT_CLIENT_KEY:-}
  if [ -n "${PARAM_CLIENT_CERTIFICATE:-}${PARAM_CLIENT_KEY:-}" ]; then
    if [ -z "${PARAM_CLIENT_CERTIFICATE:-}" ] || [ -z "${PARAM_CLIENT_KEY:-}" ]; then
      vdl_fail "parameters 'client_certificate' and 'client_key' go together: set both (PEM or base64 of PEM) or neither."
    fi
    VDL_CLIENT_CERT=$state.cert.pem
    VDL_CLIENT_KEY=$state.key.pem
    vdl_pem_param client_certificate "$PARAM_CLIENT_CERTIFICATE" "$VDL_CLIENT_CERT" "a client certificate"
    vdl_pem_param client_key "$PARAM_CLIENT_KEY" "$VDL_CLIENT_KEY" "a private key"
    # Keep the key out of every child process's environment.
    unset PARAM_CLIENT_KEY
  elif [ -n "$VDL_CLIENT_CERT$VDL_CLIENT_KEY" ]; then
    if [ ! -r "$VDL_CLIENT_CERT" ] || [ ! -r "$VDL_CLIENT_KEY" ]; then
      vdl_fail "VAULT_CLIENT_CERT and VAULT_CLIENT_KEY must both name readable PEM files (mTLS), or both be unset."
    fi
  fi

  VDL_SKIP_VERIFY=false
  case "${VAULT_SKIP_VERIFY:-}" in "" | 0 | false | False | FALSE) ;; *) PARAM_TLS_SKIP_VERIFY=true ;; esac
  if [ "${PARAM_TLS_SKIP_VERIFY:-false}" = true ]; then
    VDL_SKIP_VERIFY=true
    vdl_warn "TLS VERIFICATION OF VAULT IS OFF (tls_skip_verify / VAULT_SKIP_VERIFY): anyone on the path can read the credential. Use 'ca_certificate' instead."
  fi
  vdl_state_set "$state" ca_file "$VDL_CA_FILE"
  vdl_state_set "$state" client_cert "$VDL_CLIENT_CERT"
  vdl_state_set "$state" client_key "$VDL_CLIENT_KEY"
  vdl_state_set "$state" skip_verify "$VDL_SKIP_VERIFY"
}
