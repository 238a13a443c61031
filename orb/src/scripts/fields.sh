#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# Mapping a Vault answer to a username and secret: field names given, or detected (KV v2's
# data.data; username; token, password, secret, access_token in that order). Errors list the
# field names present, never a value.

VDL_SECRET_FIELDS="token password secret access_token"

# vdl_answer_fields: the Vault answer on stdin -> three lines: where the fields are (data, or
# KV v2's data.data), every field name (", "), and the names holding non-empty strings (",").
vdl_answer_fields() {
  if [ "$VDL_JSON" = jq ]; then
    jq -r '(.data | if type == "object" then . else {} end) as $d
      | (if ($d.data | type) == "object" and ($d | has("metadata")) then "data.data" else "data" end) as $at
      | (if $at == "data.data" then $d.data else $d end) as $f
      | $at, ($f | keys_unsorted | join(", ")),
        ([$f | to_entries[] | select((.value | type) == "string" and .value != "") | .key] | join(","))' \
      2>/dev/null || printf 'data\n\n\n'
  else
    python3 -c '
import json, sys
try:
    doc = json.load(sys.stdin)
except ValueError:
    doc = {}
d = doc.get("data") if isinstance(doc, dict) else None
d = d if isinstance(d, dict) else {}
kv2 = isinstance(d.get("data"), dict) and "metadata" in d
f = d["data"] if kv2 else d
print("data.data" if kv2 else "data")
print(", ".join(f))
print(",".join(k for k, v in f.items() if isinstance(v, str) and v))
'
  fi
}

# vdl_credential ANSWER_FILE PATH USERNAME_FIELD PASSWORD_FIELD: sets VDL_USERNAME and VDL_SECRET.
vdl_credential() {
  local answer=$1 path=$2 ufield=$3 pfield=$4 at names strings candidate
  {
    read -r at
    read -r names
    read -r strings
  } < <(vdl_answer_fields <"$answer")
  names=${names:-(none)}
  if [ -z "$pfield" ]; then
    for candidate in $VDL_SECRET_FIELDS; do
      if [[ ,$strings, == *",$candidate,"* ]]; then
        pfield=$candidate
        break
      fi
    done
    [ -n "$pfield" ] || vdl_fail "the answer at $path ($at) has no token, password, secret or access_token field; fields present: $names. Set 'password_field' to the field holding the secret."
  elif [[ ,$strings, != *",$pfield,"* ]]; then
    vdl_fail "the answer at $path ($at) has no non-empty text field '$pfield' (password_field); fields present: $names."
  fi
  ufield=${ufield:-username}
  if [[ ,$strings, != *",$ufield,"* ]]; then
    vdl_fail "the answer at $path ($at) has no non-empty text field '$ufield' for the username; fields present: $names. Set 'username_field' to the field holding the user name."
  fi
  VDL_USERNAME=$(vdl_json_get "$at.$ufield" <"$answer")
  VDL_SECRET=$(vdl_json_get "$at.$pfield" <"$answer")
}
