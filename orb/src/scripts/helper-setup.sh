#!/usr/bin/env bash
# shellcheck disable=SC2034,SC2153 # globals shared with the eval-ed helper scripts
# credential_helper: true. Instead of one docker login whose lease ends mid-job, login gives the
# job a private docker config directory (0700, in the job's state directory under $TMPDIR, never
# the working directory) whose credHelpers send each configured registry to docker-credential-vault,
# the bash helper in its bin/: it leases on first use, serves from a cache, re-leases before the
# lease ends and renews the Vault token. DOCKER_CONFIG and PATH reach later steps through
# $BASH_ENV; the token and credentials stay in 0600 files of that directory.

VDL_HUB_KEYS="https://index.docker.io/v1/ index.docker.io docker.io registry-1.docker.io"

# vdl_helper_preflight: VDL_HELPER_WHY says why the mode cannot work here (empty when it can).
# vdl_helper_once: refuses a second helper in one job (it would shadow the first one's
# registries on PATH), before anything is created.
vdl_helper_once() {
  local dir
  vdl_state_dir dir
  if [[ ${DOCKER_CONFIG:-} == "$dir"/helper.* ]]; then
    vdl_fail "parameter 'credential_helper' is invalid here: an earlier login step of this job already set up the credential helper ($DOCKER_CONFIG). Accepted: one login step with credential_helper per job; list several registries in its 'registries'."
  fi
}

vdl_helper_preflight() {
  VDL_HELPER_WHY=""
  local src=$VDL_DOCKER_CONFIG/config.json
  if [ -z "${BASH_ENV:-}" ]; then
    VDL_HELPER_WHY="\$BASH_ENV is not set (a step shell other than bash, or not CircleCI), so later steps could not be given DOCKER_CONFIG and the helper's PATH"
  elif [ -f "$src" ] && { ! vdl_json_parse_file "$src" || [ "${VDL_JT[.]}" != object ]; }; then
    VDL_HELPER_WHY="$src is not a JSON object${VDL_JSON_ERROR:+ ($VDL_JSON_ERROR)}, so the logins it holds could not be carried over"
  fi
}

# vdl_helper_key REGISTRY VAR: the host[:port] docker asks the helper with (lower case).
vdl_helper_key() {
  local k=${1#https://}
  k=${k#http://}
  k=${k%%/*}
  printf -v "$2" '%s' "${k,,}"
}

# vdl_json_keypath PREFIX KEY VAR: json.sh's path of member KEY of the object at PREFIX.
vdl_json_keypath() {
  local k=$2
  if [ -z "$k" ]; then
    k='\0'
  else
    k=${k//"\\"/"\\\\"}
    k=${k//'.'/'\.'}
    k=${k//'['/'\['}
  fi
  printf -v "$3" '%s.%s' "$1" "$k"
}

# vdl_helper_config DIR: DIR/config.json with credHelpers for this job's registries, carrying
# over the existing config's auths, credsStore and other registries' credHelpers.
vdl_helper_config() {
  local dir=$1 src=$VDL_DOCKER_CONFIG/config.json out="" helpers="" mine=" " i n k p v key reg
  while IFS=$VDL_SEP read -r reg _; do
    if [ -z "$reg" ]; then
      for key in $VDL_HUB_KEYS; do mine+="$key "; done
    else
      vdl_helper_key "$reg" key
      mine+="$key "
    fi
  done <"$VDL_WORK/entries"
  VDL_JT=() VDL_JV=() VDL_JN=() VDL_JK=()
  [ ! -f "$src" ] || vdl_json_parse_file "$src" || true
  if [ "${VDL_JT[.auths]:-}" = object ]; then out+=',"auths":'${VDL_JV[.auths]}; fi
  if [ "${VDL_JT[.credsStore]:-}" = string ]; then
    vdl_json_str v "${VDL_JV[.credsStore]}"
    out+=',"credsStore":'$v
  fi
  if [ "${VDL_JT[.credHelpers]:-}" = object ]; then
    n=${VDL_JN[.credHelpers]}
    for ((i = 0; i < n; i++)); do
      k=${VDL_JK[$i:.credHelpers]}
      vdl_json_keypath .credHelpers "$k" p
      [[ $mine != *" $k "* && ${VDL_JT[$p]:-} == string ]] || continue
      vdl_json_str k "$k"
      vdl_json_str v "${VDL_JV[$p]}"
      helpers+=,$k:$v
    done
  fi
  for key in $mine; do
    vdl_json_str k "$key"
    helpers+=,$k:'"vault"'
  done
  # Plugins the user installed under the old config directory (buildx, compose) stay found.
  if [ -d "$VDL_DOCKER_CONFIG/cli-plugins" ]; then
    vdl_json_str v "$VDL_DOCKER_CONFIG/cli-plugins"
    out+=',"cliPluginsExtraDirs":['$v']'
  fi
  VDL_JT=() VDL_JV=() VDL_JN=() VDL_JK=()
  printf '{"credHelpers":{%s}%s}\n' "${helpers#,}" "$out" >"$dir/config.json"
}

# vdl_helper_make_dir: creates the job's helper directory and records it for logout at once.
vdl_helper_make_dir() {
  VDL_HELPER_DIR=$(mktemp -d "$VDL_STATE_DIR/helper.XXXXXX") ||
    vdl_fail "cannot create the credential helper's directory in $VDL_STATE_DIR: check that \$TMPDIR is writable."
  chmod 700 "$VDL_HELPER_DIR"
  vdl_state_set "$VDL_STATE" helper_dir "$VDL_HELPER_DIR"
  vdl_state_set "$VDL_STATE" helper_prev_config "${DOCKER_CONFIG:-}"
  mkdir -m 700 "$VDL_HELPER_DIR/bin" "$VDL_HELPER_DIR/cache"
}

# vdl_helper_setup TOKEN_TTL RENEWABLE: everything the helper needs, then DOCKER_CONFIG and PATH
# for later steps. The Vault token header is already in $VDL_HELPER_DIR/token.
vdl_helper_setup() {
  local dir=$VDL_HELPER_DIR reg key i=0 now name
  : >"$dir/registries"
  while IFS=$VDL_SEP read -r reg _; do
    if [ -z "$reg" ]; then
      for key in $VDL_HUB_KEYS; do
        vdl_helper_key "$key" key
        printf '%s %s\n' "$key" "$i" >>"$dir/registries"
      done
    else
      vdl_helper_key "$reg" key
      printf '%s %s\n' "$key" "$i" >>"$dir/registries"
    fi
    i=$((i + 1))
  done <"$VDL_WORK/entries"
  cp "$VDL_WORK/entries" "$dir/entries"
  chmod 600 "$dir/entries"
  : >"$dir/leases"
  printf -v now '%(%s)T' -1
  printf '%s %s %s\n' "$((now * 1000))" "$1" "$2" >"$dir/token.state"
  {
    for name in VDL_ADDR VDL_NAMESPACE VDL_AUTH_NAMESPACE VDL_AUTH_MOUNT VDL_ROLE VDL_ACCOUNT VDL_SCOPE \
      VDL_ENGINE_MOUNT VDL_CA_FILE VDL_CLIENT_CERT VDL_CLIENT_KEY VDL_SKIP_VERIFY VDL_RETRIES VDL_SEP; do
      printf '%s=%q\n' "$name" "${!name}"
    done
    printf 'VDL_TIMEOUT=%q\n' "${PARAM_TIMEOUT:-60}"
    printf 'VDL_AUDIENCE=%q\n' "${PARAM_AUDIENCE:-}"
    printf 'VDL_RENEW_BEFORE=60\nVDL_STATIC_TTL=300\n'
  } >"$dir/settings"
  printf '%s\n' "$SCRIPT_UTILS" "$SCRIPT_JSON" "$SCRIPT_HTTP" "$SCRIPT_OIDC" "$SCRIPT_FIELDS" \
    "$SCRIPT_HINTS" "$SCRIPT_HELPER_LIB" >"$dir/lib.sh"
  printf '#!/usr/bin/env bash\nVDL_DIR=%q\n%s\n' "$dir" "$SCRIPT_HELPER" >"$dir/bin/docker-credential-vault"
  chmod 700 "$dir/bin/docker-credential-vault"
  vdl_helper_config "$dir"
  chmod 600 "$dir"/config.json "$dir"/settings "$dir"/lib.sh "$dir"/registries "$dir"/leases "$dir"/token.state
  "$dir/bin/docker-credential-vault" version >/dev/null 2>&1 ||
    vdl_fail "the credential helper $dir/bin/docker-credential-vault does not run: it needs bash at /usr/bin/env bash."
  {
    printf 'export DOCKER_CONFIG=%q\n' "$dir"
    # shellcheck disable=SC2016 # $PATH is expanded by each later step's shell
    printf 'export PATH=%q:"$PATH"\n' "$dir/bin"
  } >>"$BASH_ENV"
}
