#!/usr/bin/env bash
# Input validation, the same rules as the GitHub Action: every rejection names the parameter
# and the accepted form, before anything talks to Vault.

VDL_PATH_FORM="a Vault path such as my-name or team/my-name (no '..' or '.' segments, no leading or trailing '/', no '?', '#', whitespace or control characters)"

# vdl_check_path PARAM VALUE: mounts, role, account and paths.
vdl_check_path() {
  local name=$1 value=$2 why=""
  if [ -z "$value" ]; then
    why="it is empty"
  elif [[ /$value/ == */../* ]]; then
    # Only a '..' segment is traversal: my..name is a name (OpenBao mounts j..wt/).
    why="it has a '..' segment"
  elif [[ $value == /* ]]; then
    why="it starts with '/'"
  elif [[ $value == *[?#]* ]]; then
    why="it contains '?' or '#'"
  elif [[ $value =~ [[:space:][:cntrl:]] ]]; then
    why="it contains whitespace or a control character"
  elif [[ /$value/ == */./* || $value == */ || $value == *//* ]]; then
    why="it has an empty or '.' segment"
  fi
  [ -z "$why" ] || vdl_fail "parameter '$name' is invalid: $why. Accepted: $VDL_PATH_FORM."
}

# vdl_check_name PARAM VALUE: role and account, a single path segment.
vdl_check_name() {
  vdl_check_path "$1" "$2"
  if [[ $2 == */* ]]; then
    vdl_fail "parameter '$1' is invalid: it contains '/'. Accepted: a single name such as my-name (no '/', '?', '#', whitespace or control characters)."
  fi
}

vdl_check_url() {
  local name=$1 value=$2
  [ -n "$value" ] || vdl_fail "parameter '$name' is empty and VAULT_ADDR is not set. Accepted: an http(s) URL such as https://vault.example.com:8200."
  if ! [[ $value =~ ^https?://[^/?#@[:space:][:cntrl:]]+(/[^?#[:space:][:cntrl:]]*)?$ ]]; then
    vdl_fail "parameter '$name' is invalid: '$value' is not an http(s) URL. Accepted: an http(s) URL such as https://vault.example.com:8200, without credentials, query or fragment."
  fi
}

vdl_check_scope() {
  case "$2" in
    read | write | admin | public_read) ;;
    *) vdl_fail "parameter '$1' is invalid: '$2'. Accepted: one of read, write, admin, public_read." ;;
  esac
}

vdl_check_label() {
  if [ "${#2}" -gt 100 ]; then
    vdl_fail "parameter '$1' is invalid: it is ${#2} characters long. Accepted: at most 100 characters."
  fi
  if [[ $2 =~ [[:cntrl:]] ]]; then
    vdl_fail "parameter '$1' is invalid: it contains a control character. Accepted: printable text, at most 100 characters."
  fi
}

# vdl_check_int PARAM VALUE MIN MAX
vdl_check_int() {
  if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
    vdl_fail "parameter '$1' is invalid: '$2'. Accepted: a whole number from $3 to $4."
  fi
}

# vdl_check_registry PARAM VALUE: a host (no '_', as in DNS names and image references), an
# optional port and path segments; trailing slashes are ignored.
vdl_check_registry() {
  if [ -n "$2" ] && ! [[ $2 =~ ^(https?://)?[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._-]+)*/*$ ]]; then
    vdl_fail "parameter '$1' is invalid: '$2'. Accepted: a registry host such as registry.example.com or 127.0.0.1:5000, or empty for Docker Hub."
  fi
}

# vdl_registry_key VAR REGISTRY: the name docker keeps one credential under: no scheme or trailing
# '/', and Docker Hub (empty or any of its host names) as docker.io.
vdl_registry_key() {
  local _rk=${2#http://}
  _rk=${_rk#https://}
  while [[ $_rk == */ ]]; do _rk=${_rk%/}; done
  case "${_rk,,}" in
    "" | docker.io | index.docker.io | registry-1.docker.io) _rk=docker.io ;;
  esac
  printf -v "$1" '%s' "$_rk"
}

# vdl_check_field PARAM VALUE: a field name of the Vault answer (empty = auto-detect).
vdl_check_field() {
  if [ -n "$2" ] && ! [[ $2 =~ ^[A-Za-z0-9_-]+$ ]]; then
    vdl_fail "parameter '$1' is invalid: '$2'. Accepted: a field name of the secret such as username or access_token (letters, digits, '_' and '-'), or empty to detect it."
  fi
}

vdl_check_method() {
  case "$2" in
    "" | read | write) ;;
    *) vdl_fail "parameter '$1' is invalid: '$2'. Accepted: read, write, or empty (write for <engine_mount>/token/ paths, read otherwise)." ;;
  esac
}
