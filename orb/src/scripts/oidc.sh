#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# The job's CircleCI OIDC token: minted with `circleci run oidc get` when an audience is asked
# for, else $CIRCLE_OIDC_TOKEN_V2 then $CIRCLE_OIDC_TOKEN.

VDL_OIDC_CAUSES="Likely causes: a pull request from a fork while 'Pass secrets to builds from forked pull requests' is off; CircleCI Server without OIDC tokens; or a step running outside CircleCI."

# vdl_oidc_token VAR AUDIENCE: sets VAR to the token.
vdl_oidc_token() {
  local audience=$2 claims token="" attempt=0
  if [ -n "$audience" ]; then
    if command -v circleci >/dev/null 2>&1; then
      VDL_AUD=$audience
      vdl_json_obj claims aud VDL_AUD
      while [ "$attempt" -le "$VDL_RETRIES" ]; do
        attempt=$((attempt + 1))
        token=$(circleci run oidc get --claims "$claims" 2>"$VDL_WORK/oidc.err") || token=""
        token=${token//[[:space:]]/}
        [ -z "$token" ] || break
        if [ "$attempt" -gt "$VDL_RETRIES" ] || [ "$attempt" -ge $((VDL_DEADLINE - SECONDS)) ]; then break; fi
        vdl_note "circleci run oidc get returned no token; retrying ($attempt of $VDL_RETRIES)." >&2
        sleep "$attempt"
      done
      [ -n "$token" ] || vdl_fail "'circleci run oidc get' returned no token for audience '$audience' after $attempt attempts ($(tr '\n' ' ' <"$VDL_WORK/oidc.err")). $VDL_OIDC_CAUSES"
      printf -v "$1" '%s' "$token"
      return 0
    fi
    vdl_warn "the circleci CLI is not on PATH, so no token with audience '$audience' can be minted; using \$CIRCLE_OIDC_TOKEN_V2 / \$CIRCLE_OIDC_TOKEN, whose audience is the organization id."
  fi
  token=${CIRCLE_OIDC_TOKEN_V2:-${CIRCLE_OIDC_TOKEN:-}}
  [ -n "$token" ] || vdl_fail "no CircleCI OIDC token: \$CIRCLE_OIDC_TOKEN_V2 and \$CIRCLE_OIDC_TOKEN are empty. $VDL_OIDC_CAUSES"
  printf -v "$1" '%s' "$token"
}
