#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# The logins one step performs: `registries` (a JSON array) or the single-registry parameters,
# validated and completed (method, body) before anything talks to Vault. One record per line
# in $VDL_WORK/entries, fields joined by the unit separator (not whitespace, so an empty field
# survives `read`): registry, path, method, username_field, password_field, body.

VDL_SEP=$'\x1f'
VDL_SINGLE_PARAMS="registry account secret_path secret_method secret_body username_field password_field"

VDL_ENTRY_KEYS="registry secret_path method username_field password_field"

# vdl_registries_records JSON: one record per entry of the `registries` array in
# $VDL_WORK/registries (the fields of $VDL_WORK/entries, the body compact), or returns 1 with
# VDL_PROBLEM_AT naming the document, entry or key at fault (registries[1].method) and VDL_PROBLEM
# saying what is wrong. Keys may be spelled as the Action spells them (secret-path).
vdl_registries_records() {
  local i n j nk e k t v row extra at body
  local -A key_of
  : >"$VDL_WORK/registries"
  VDL_PROBLEM_AT=registries
  if ! vdl_json_parse "$1"; then
    VDL_PROBLEM="it is not valid JSON ($VDL_JSON_ERROR)"
    return 1
  fi
  if [ "${VDL_JT[.]}" != array ] || [ "${VDL_JN[.]}" -eq 0 ]; then
    VDL_PROBLEM="it is not a non-empty JSON array"
    return 1
  fi
  n=${VDL_JN[.]}
  for ((i = 0; i < n; i++)); do
    e="[$i]"
    VDL_PROBLEM_AT="registries[$i]"
    VDL_PROBLEM="it is not an object"
    [ "${VDL_JT[$e]}" = object ] || return 1
    extra=()
    key_of=()
    nk=${VDL_JN[$e]}
    for ((j = 0; j < nk; j++)); do
      k=${VDL_JK[$j:$e]}
      if [[ " $VDL_ENTRY_KEYS body " == *" ${k//-/_} "* ]]; then
        key_of[${k//-/_}]=$k
      else
        extra+=("$k")
      fi
    done
    if [ "${#extra[@]}" -gt 0 ]; then
      vdl_sort_words extra
      VDL_PROBLEM_AT="registries[$i].${extra[0]}"
      VDL_PROBLEM="it is not a known key"
      [ "${#extra[@]}" -eq 1 ] || printf -v VDL_PROBLEM '%s (nor are %s)' "$VDL_PROBLEM" "${extra[*]:1}"
      return 1
    fi
    # As jq's `.secret_path // ""`: absent, null, false and "" are all missing.
    at=$e.${key_of[secret_path]:-secret_path}
    VDL_PROBLEM_AT="registries[$i].secret_path"
    VDL_PROBLEM="it is missing"
    [[ ${VDL_JT[$at]:-null} != null && ${VDL_JV[$at]} != false && -n ${VDL_JV[$at]} ]] || return 1
    at=$e.${key_of[body]:-body}
    t=${VDL_JT[$at]:-null}
    VDL_PROBLEM_AT="registries[$i].body"
    VDL_PROBLEM="it is not a JSON object"
    [ "$t" = null ] || [ "$t" = object ] || return 1
    [ "$t" = null ] || body=${VDL_JV[$at]}
    row=""
    for k in $VDL_ENTRY_KEYS; do
      at=$e.${key_of[$k]:-$k}
      v=${VDL_JV[$at]:-}
      VDL_PROBLEM_AT="registries[$i].$k"
      case ${VDL_JT[$at]:-null} in
        null) ;;
        string)
          VDL_PROBLEM="it contains a control character"
          [[ $v != *[[:cntrl:]]* ]] || return 1
          ;;
        *)
          VDL_PROBLEM="it is not a string"
          return 1
          ;;
      esac
      row+=$v$VDL_SEP
    done
    [ "$t" = null ] || row+=$body
    printf '%s\n' "$row" >>"$VDL_WORK/registries"
  done
}

# vdl_sort_words ARRAY_NAME: sorts the named array in place, by bytes (code points), as jq's keys.
vdl_sort_words() {
  local LC_ALL=C
  local -n _sw=$1
  local i j w
  for ((i = 1; i < ${#_sw[@]}; i++)); do
    w=${_sw[i]}
    for ((j = i - 1; j >= 0; j--)); do
      [[ ${_sw[j]} > $w ]] || break
      _sw[j + 1]=${_sw[j]}
    done
    _sw[j + 1]=$w
  done
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
  vdl_registry_key key "$registry"
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
    if ! vdl_json_parse "$body" || [ "${VDL_JT[.]}" != object ]; then
      vdl_fail "parameter '$b_name' is invalid: it is not a JSON object${VDL_JSON_ERROR:+ ($VDL_JSON_ERROR)}. Accepted: a JSON object such as {\"ttl\": \"1h\"}."
    fi
    body=${VDL_JV[.]}
  elif [ "$method" = write ]; then
    body={}
    [[ $path != "$VDL_ENGINE_MOUNT"/token/* ]] || vdl_json_obj body label VDL_LABEL
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
    if [ -n "$path" ] && [ -n "$VDL_ACCOUNT" ]; then
      vdl_fail "parameter 'secret_path' is invalid: it replaces 'account', which is set too. Accepted: 'account' (the Docker Hub engine path) or 'secret_path', not both."
    fi
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
  if ! vdl_registries_records "$PARAM_REGISTRIES"; then
    vdl_fail "parameter '$VDL_PROBLEM_AT' is invalid: $VDL_PROBLEM. Accepted: a JSON array of {\"registry\", \"secret_path\", optional \"method\" (read|write), \"body\" (object), \"username_field\", \"password_field\"}."
  fi
  while IFS=$VDL_SEP read -r reg path method ufield pfield body; do
    vdl_add_entry "registries[$i]." "$reg" "$path" "$method" "$ufield" "$pfield" "$body"
    i=$((i + 1))
  done <"$VDL_WORK/registries"
}
