#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# The logins one step performs: `registries` (a JSON array) or the single-registry parameters,
# validated and completed (method, body) before anything talks to Vault. One record per line
# in $VDL_WORK/entries, fields joined by the unit separator (not whitespace, so an empty field
# survives `read`): registry, path, method, username_field, password_field, body.

VDL_SEP=$'\x1f'
VDL_SINGLE_PARAMS="registry account secret_path secret_method secret_body username_field password_field"

# vdl_registries_records: the `registries` JSON array on stdin -> records on stdout, or one line
# `!<problem>` naming the entry and key at fault.
vdl_registries_records() {
  if [ "$VDL_JSON" = jq ]; then
    VDL_JQ_SEP=$VDL_SEP jq -r '
      def str($i; $k): if .[$k] == null then ""
        elif (.[$k] | type) != "string" then error("entry \($i): \($k) is not a string")
        elif (.[$k] | test("[[:cntrl:]]")) then error("entry \($i): \($k) contains a control character")
        else .[$k] end;
      try (
        if type != "array" or length == 0 then error("it is not a non-empty JSON array") else . end
        | to_entries[] | .key as $i | .value
        | if type != "object" then error("entry \($i) is not an object") else . end
        | (keys - ["registry", "secret_path", "method", "body", "username_field", "password_field"]) as $extra
        | if ($extra | length) > 0 then error("entry \($i): unknown keys \($extra | join(", "))") else . end
        | if (.secret_path // "") == "" then error("entry \($i): secret_path is missing") else . end
        | if .body != null and (.body | type) != "object" then error("entry \($i): body is not a JSON object") else . end
        | [str($i; "registry"), str($i; "secret_path"), str($i; "method"), str($i; "username_field"),
           str($i; "password_field"), (if .body == null then "" else (.body | tojson) end)]
        | join(env.VDL_JQ_SEP)
      ) catch "!\(.)"' 2>/dev/null || printf '!it is not valid JSON\n'
  else
    VDL_JQ_SEP=$VDL_SEP python3 -c '
import json, os, re, sys
KEYS = ["registry", "secret_path", "method", "username_field", "password_field"]
def main():
    try:
        doc = json.load(sys.stdin)
    except ValueError:
        return ["!it is not valid JSON"]
    if not isinstance(doc, list) or not doc:
        return ["!it is not a non-empty JSON array"]
    out = []
    for i, e in enumerate(doc):
        if not isinstance(e, dict):
            return ["!entry %d is not an object" % i]
        extra = sorted(set(e) - set(KEYS) - {"body"})
        if extra:
            return ["!entry %d: unknown keys %s" % (i, ", ".join(extra))]
        if not e.get("secret_path"):
            return ["!entry %d: secret_path is missing" % i]
        if e.get("body") is not None and not isinstance(e["body"], dict):
            return ["!entry %d: body is not a JSON object" % i]
        row = []
        for k in KEYS:
            v = e.get(k)
            if v is None:
                v = ""
            if not isinstance(v, str):
                return ["!entry %d: %s is not a string" % (i, k)]
            if re.search("[\x00-\x1f\x7f]", v):
                return ["!entry %d: %s contains a control character" % (i, k)]
            row.append(v)
        body = e.get("body")
        row.append("" if body is None else json.dumps(body, separators=(",", ":")))
        out.append(os.environ["VDL_JQ_SEP"].join(row))
    return out
print("\n".join(main()))
'
  fi
}

# vdl_json_object_compact: the JSON object on stdin, compacted onto one line, or nothing.
vdl_json_object_compact() {
  if [ "$VDL_JSON" = jq ]; then
    jq -c 'if type == "object" then . else empty end' 2>/dev/null || true
  else
    python3 -c '
import json, sys
try:
    doc = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
if isinstance(doc, dict):
    print(json.dumps(doc, separators=(",", ":")))
'
  fi
}

# vdl_add_entry PREFIX REGISTRY PATH METHOD USERNAME_FIELD PASSWORD_FIELD BODY: validates one login
# (PREFIX names it in messages: empty for the single-registry parameters, else `registries[i].`).
vdl_add_entry() {
  local p=$1 registry=$2 path=$3 method=$4 ufield=$5 pfield=$6 body=$7 m_name=secret_method b_name=secret_body key
  [ -z "$p" ] || m_name=${p}method b_name=${p}body
  vdl_check_registry "${p}registry" "$registry"
  vdl_check_path "${p}secret_path" "$path"
  vdl_check_method "$m_name" "$method"
  vdl_check_field "${p}username_field" "$ufield"
  vdl_check_field "${p}password_field" "$pfield"
  key=${registry:-docker.io}
  if [[ $'\n'$VDL_SEEN_REGISTRIES == *$'\n'$key$'\n'* ]]; then
    vdl_fail "parameter '${p}registry' is invalid: '$key' appears twice; docker keeps one credential per registry. Accepted: each registry once."
  fi
  VDL_SEEN_REGISTRIES+=$key$'\n'
  # The Docker Hub engine only issues tokens on write; everything else is read unless told.
  if [ -z "$method" ]; then
    method="read"
    [[ $path != "$VDL_ENGINE_MOUNT"/token/* ]] || method="write"
  fi
  if [ -n "$body" ]; then
    [ "$method" = write ] || vdl_fail "parameter '$b_name' is invalid: a body is only sent with method write. Accepted: empty, or set '$m_name' to write."
    body=$(printf '%s' "$body" | vdl_json_object_compact)
    [ -n "$body" ] || vdl_fail "parameter '$b_name' is invalid: it is not a JSON object. Accepted: a JSON object such as {\"ttl\": \"1h\"}."
  elif [ "$method" = write ]; then
    body={}
    [[ $path != "$VDL_ENGINE_MOUNT"/token/* ]] || body=$(vdl_json_obj label VDL_LABEL)
  fi
  printf '%s\n' "$registry$VDL_SEP$path$VDL_SEP$method$VDL_SEP$ufield$VDL_SEP$pfield$VDL_SEP$body" >>"$VDL_WORK/entries"
}

# vdl_plan_entries: fills $VDL_WORK/entries from PARAM_REGISTRIES or the single-registry parameters.
vdl_plan_entries() {
  local name var set="" i=0 reg path method ufield pfield body
  VDL_SEEN_REGISTRIES=""
  : >"$VDL_WORK/entries"
  if [ -z "${PARAM_REGISTRIES:-}" ]; then
    path=${PARAM_SECRET_PATH:-}
    if [ -z "$path" ]; then
      vdl_check_path engine_mount "$VDL_ENGINE_MOUNT"
      [ -n "$VDL_ACCOUNT" ] || vdl_fail "parameter 'account' is empty. Accepted: the Docker Hub account configured at $VDL_ENGINE_MOUNT/config/<account>, or set 'secret_path' (or 'registries') instead."
      vdl_check_name account "$VDL_ACCOUNT"
      vdl_check_scope scope "$VDL_SCOPE"
      path=$VDL_ENGINE_MOUNT/token/$VDL_ACCOUNT/$VDL_SCOPE
    fi
    vdl_add_entry "" "${PARAM_REGISTRY:-}" "$path" "${PARAM_SECRET_METHOD:-}" \
      "${PARAM_USERNAME_FIELD:-}" "${PARAM_PASSWORD_FIELD:-}" "${PARAM_SECRET_BODY:-}"
    return 0
  fi
  for name in $VDL_SINGLE_PARAMS; do
    var=PARAM_${name^^}
    [ -z "${!var:-}" ] || set+=" '$name'"
  done
  [ -z "$set" ] || vdl_fail "parameter 'registries' is invalid: it replaces$set, which are set too. Accepted: 'registries' alone, with those keys in its entries (registry, secret_path, method, body, username_field, password_field)."
  vdl_check_path engine_mount "$VDL_ENGINE_MOUNT"
  printf '%s' "$PARAM_REGISTRIES" | vdl_registries_records >"$VDL_WORK/registries"
  while IFS=$VDL_SEP read -r reg path method ufield pfield body; do
    if [[ $reg == !* ]]; then
      vdl_fail "parameter 'registries' is invalid: ${reg#!}. Accepted: a JSON array of {\"registry\", \"secret_path\", optional \"method\" (read|write), \"body\" (object), \"username_field\", \"password_field\"}."
    fi
    vdl_add_entry "registries[$i]." "$reg" "$path" "$method" "$ufield" "$pfield" "$body"
    i=$((i + 1))
  done <"$VDL_WORK/registries"
  [ "$i" -gt 0 ] || vdl_fail "parameter 'registries' is invalid: it is empty. Accepted: a non-empty JSON array."
}
