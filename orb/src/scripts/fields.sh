#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# Mapping a Vault answer to a username and secret: field names given, or detected (KV v2's
# data.data; username; token, password, secret, access_token in that order). Errors list the
# field names present, never a value.

VDL_SECRET_FIELDS="token password secret access_token"

# vdl_credential PATH USERNAME_FIELD PASSWORD_FIELD: from the answer vdl_json_parse read last,
# sets VDL_USERNAME and VDL_SECRET.
vdl_credential() {
  local path=$1 ufield=$2 pfield=$3 at=data f=.data names="" strings="," candidate i n key
  # KV v2 nests the secret in data.data, beside data.metadata.
  if [ "${VDL_JT[.data.data]:-}" = object ] && [ -n "${VDL_JT[.data.metadata]+set}" ]; then
    at=data.data f=.data.data
  fi
  if [ "${VDL_JT[$f]:-}" = object ]; then
    n=${VDL_JN[$f]}
    for ((i = 0; i < n; i++)); do
      key=${VDL_JK[$i:$f]}
      names+=${names:+, }$key
      # Field parameters are plain names: a key that its path escapes can never be one.
      if [[ $key != *[.\\[]* && ${VDL_JT[$f.$key]:-} == string && -n ${VDL_JV[$f.$key]} ]]; then
        strings+=$key,
      fi
    done
  fi
  names=${names:-(none)}
  if [ -z "$pfield" ]; then
    for candidate in $VDL_SECRET_FIELDS; do
      if [[ $strings == *",$candidate,"* ]]; then
        pfield=$candidate
        break
      fi
    done
    [ -n "$pfield" ] || vdl_fail "the answer at $path ($at) has no token, password, secret or access_token field; fields present: $names. Set 'password_field' to the field holding the secret."
  elif [[ $strings != *",$pfield,"* ]]; then
    vdl_fail "the answer at $path ($at) has no non-empty text field '$pfield' (password_field); fields present: $names."
  fi
  ufield=${ufield:-username}
  if [[ $strings != *",$ufield,"* ]]; then
    vdl_fail "the answer at $path ($at) has no non-empty text field '$ufield' for the username; fields present: $names. Set 'username_field' to the field holding the user name."
  fi
  VDL_USERNAME=${VDL_JV[$f.$ufield]}
  VDL_SECRET=${VDL_JV[$f.$pfield]}
}
