#!/usr/bin/env bash
# Vault HTTP calls through curl with retries (connection errors, 412, 429, 5xx except 501),
# jittered exponential backoff, Retry-After, and a total deadline. The Vault token goes in a
# header file (-H @file) and bodies come from 0600 files, so no secret is in curl's argv.
# Uses: VDL_ADDR, VDL_WORK, VDL_DEADLINE (in $SECONDS), VDL_RETRIES, VDL_CA_FILE, VDL_CLIENT_CERT,
# VDL_CLIENT_KEY, VDL_SKIP_VERIFY, VDL_TOKEN_HEADER. Sets: VDL_STATUS (000 = no answer), VDL_RESPONSE, VDL_CURL_ERROR.

# The Docker Hub engine's errors that repeat on every attempt (its own spelling: "finde").
VDL_ENGINE_FINAL='unable to finde? configuration for|requested scope .* is not permitted|invalid slice provided'

vdl_retryable() {
  case "$1" in
    000 | 412 | 429) return 0 ;;
    501) return 1 ;;
    5??) return 0 ;;
    *) return 1 ;;
  esac
}

# A standby while the cluster elects a leader: 307 with a Location naming the old (often dead)
# active node, never followed, or 500 "active cluster node not found".
vdl_electing() {
  [ "$VDL_STATUS" = 307 ] && return 0
  [ "$VDL_STATUS" = 500 ] && grep -q 'active cluster node not found' "$VDL_WORK/response"
}

# vdl_sleep_before_retry ATTEMPT: Retry-After when given, else 1s, 2s, 4s... plus up to 0.5s jitter.
vdl_sleep_before_retry() {
  local ms after
  after=$(tr -d '\r' <"$VDL_WORK/headers" 2>/dev/null | awk 'tolower($1) == "retry-after:" { print $2 }' | tail -n 1)
  if [[ $after =~ ^[0-9]+$ ]]; then
    ms=$((after * 1000))
  else
    ms=$((1000 * 2 ** ($1 - 1) + RANDOM % 500))
  fi
  [ $((ms / 1000)) -lt $((VDL_DEADLINE - SECONDS)) ] || return 1
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

# vdl_vault METHOD PATH NAMESPACE [BODY_FILE]
vdl_vault() {
  local method=$1 path=$2 namespace=$3 body=${4:-} attempt=0 left
  local -a args=(-sS -o "$VDL_WORK/response" -D "$VDL_WORK/headers" -w '%{http_code}'
    -X "$method" -H 'X-Vault-Request: true')
  [ -z "$namespace" ] || args+=(-H "X-Vault-Namespace: $namespace")
  [ -z "${VDL_TOKEN_HEADER:-}" ] || args+=(-H "@$VDL_TOKEN_HEADER")
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' --data-binary "@$body")
  [ -z "${VDL_CA_FILE:-}" ] || args+=(--cacert "$VDL_CA_FILE")
  [ -z "${VDL_CLIENT_CERT:-}" ] || args+=(--cert "$VDL_CLIENT_CERT" --key "$VDL_CLIENT_KEY")
  [ "${VDL_SKIP_VERIFY:-false}" != true ] || args+=(-k)
  # curl reads only lower-case http_proxy for http:// URLs; honour HTTP_PROXY as users expect.
  if [ -z "${http_proxy:-}" ] && [ -n "${HTTP_PROXY:-}" ]; then
    export http_proxy=$HTTP_PROXY
  fi
  VDL_RESPONSE=$VDL_WORK/response
  while :; do
    attempt=$((attempt + 1))
    left=$((VDL_DEADLINE - SECONDS))
    if [ "$left" -le 0 ]; then
      VDL_STATUS=000
      VDL_CURL_ERROR="gave up: the '${VDL_TIMEOUT_NAME:-timeout}' budget ran out"
      return 0
    fi
    : >"$VDL_WORK/response"
    : >"$VDL_WORK/headers"
    VDL_STATUS=$(curl "${args[@]}" --connect-timeout "$((left < 10 ? left : 10))" --max-time "$left" \
      "$VDL_ADDR/v1/$path" 2>"$VDL_WORK/curl.err") || true
    VDL_STATUS=${VDL_STATUS:-000}
    VDL_CURL_ERROR=""
    IFS= read -r -d '' VDL_CURL_ERROR <"$VDL_WORK/curl.err" || true
    VDL_CURL_ERROR=${VDL_CURL_ERROR//$'\n'/ }
    # A TLS handshake answered in plain HTTP, or an engine error every attempt repeats: final.
    if [ "$VDL_STATUS" = 000 ] && [[ $VDL_CURL_ERROR == *"wrong version number"* ]]; then
      VDL_PLAIN_HTTP=1
      return 0
    fi
    if [ "$VDL_STATUS" = 500 ] && grep -qE "$VDL_ENGINE_FINAL" "$VDL_WORK/response"; then
      return 0
    fi
    # An election is waited out until the deadline, 1 s at a time, without using up the retries.
    if vdl_electing; then
      [ $((VDL_DEADLINE - SECONDS)) -gt 1 ] || return 0
      vdl_note "$method /v1/$path answered $VDL_STATUS: Vault has no active node (a leader election); retrying."
      attempt=$((attempt - 1))
      sleep 1
      continue
    fi
    vdl_retryable "$VDL_STATUS" || return 0
    [ "$attempt" -le "$VDL_RETRIES" ] || return 0
    vdl_note "$method /v1/$path answered ${VDL_STATUS/#000/no answer (${VDL_CURL_ERROR% })}; retrying ($attempt of $VDL_RETRIES)."
    vdl_sleep_before_retry "$attempt" || return 0
  done
}

# vdl_vault_issue PATH METHOD BODY: one credential request, a write (with BODY) or a read, on the
# secrets' namespace; answered in VDL_STATUS and VDL_RESPONSE as vdl_vault answers.
vdl_vault_issue() {
  if [ "$2" = write ]; then
    printf '%s' "$3" >"$VDL_WORK/issue.json"
    vdl_vault POST "$1" "$VDL_NAMESPACE" "$VDL_WORK/issue.json"
  else
    vdl_vault GET "$1" "$VDL_NAMESPACE"
  fi
}

# A one-line description of the last failed call for error messages.
vdl_vault_problem() {
  local errors
  if [ -n "${VDL_PLAIN_HTTP:-}" ]; then
    printf '%s answers plain HTTP, not HTTPS' "$VDL_ADDR"
  elif [ "$VDL_STATUS" = 000 ]; then
    printf 'no answer from %s (%s)' "$VDL_ADDR" "${VDL_CURL_ERROR% }"
  elif vdl_electing; then
    printf 'HTTP %s: %s is a standby that found no active node until the timeout (check the cluster: a quorum of nodes must be up)' "$VDL_STATUS" "$VDL_ADDR"
  else
    vdl_json_errors errors "$VDL_RESPONSE"
    printf 'HTTP %s%s' "$VDL_STATUS" "${errors:+: ${errors% }}"
  fi
}
