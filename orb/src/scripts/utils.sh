#!/usr/bin/env bash
# Shared helpers: messages, tool checks, JSON through jq or python3, private state.
# Secrets reach jq/python3 only through the environment or stdin, never argv.

vdl_note() { printf 'vault-docker-login: %s\n' "$*"; }
vdl_warn() { printf 'vault-docker-login: WARNING: %s\n' "$*" >&2; }
vdl_fail() {
  printf 'vault-docker-login: ERROR: %s\n' "$*" >&2
  exit 1
}

# vdl_param VALUE: a value written as $NAME or ${NAME} reads that environment variable, because
# CircleCI passes parameters literally (project and context variables are not expanded).
vdl_param() {
  if [[ $1 =~ ^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$ ]]; then
    printf '%s' "${!BASH_REMATCH[1]:-}"
  else
    printf '%s' "$1"
  fi
}

# Picks the JSON tool once: jq, else python3.
vdl_require_tools() {
  command -v curl >/dev/null 2>&1 ||
    vdl_fail "curl is not installed: use an image with curl (cimg/base has it) or install it before this step."
  if command -v jq >/dev/null 2>&1; then
    VDL_JSON=jq
  elif command -v python3 >/dev/null 2>&1; then
    VDL_JSON=python3
  else
    vdl_fail "neither jq nor python3 is installed: install one of them (cimg/base has both) before this step."
  fi
}

# vdl_json_get PATH...: prints the first non-empty value at a dotted path of the JSON on stdin.
vdl_json_get() {
  if [ "$VDL_JSON" = jq ]; then
    jq -r '. as $doc | first($ARGS.positional[] | (split(".") as $p | try ($doc | getpath($p)) catch null)
      | select(. != null and . != "") | if type == "string" then . else tojson end) // empty' \
      --args "$@" 2>/dev/null || true
  else
    python3 -c '
import json, sys
try:
    doc = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for path in sys.argv[1:]:
    v = doc
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    if v is not None and v != "":
        print(v if isinstance(v, str) else json.dumps(v))
        break
' "$@" 2>/dev/null || true
  fi
}

# Prints the Vault `errors` of the JSON on stdin, joined by "; ", with whitespace squeezed.
vdl_json_errors() {
  if [ "$VDL_JSON" = jq ]; then
    jq -r '(.errors // []) | map(tostring) | join("; ")' 2>/dev/null | tr -s '\n\t ' '   ' || true
  else
    python3 -c '
import json, sys
try:
    print("; ".join(str(e) for e in (json.load(sys.stdin).get("errors") or [])))
except (ValueError, AttributeError):
    pass
' 2>/dev/null | tr -s '\n\t ' '   ' || true
  fi
}

# vdl_json_obj KEY VARNAME...: prints a JSON object of string values read from the named variables.
vdl_json_obj() {
  (
    i=0
    keys=()
    while [ "$#" -ge 2 ]; do
      keys+=("$1")
      export "VDL_JV_$i=${!2}"
      i=$((i + 1))
      shift 2
    done
    if [ "$VDL_JSON" = jq ]; then
      jq -nc '[$ARGS.positional | to_entries[] | {key: .value, value: env["VDL_JV_\(.key)"]}] | from_entries' \
        --args "${keys[@]}"
    else
      python3 -c '
import json, os, sys
print(json.dumps({k: os.environ["VDL_JV_%d" % i] for i, k in enumerate(sys.argv[1:])}, separators=(",", ":")))
' "${keys[@]}"
    fi
  )
}

# The per-job state directory (0700, ours, not a symlink); override with VAULT_DOCKER_LOGIN_STATE_DIR.
vdl_state_dir() {
  printf '%s' "${VAULT_DOCKER_LOGIN_STATE_DIR:-${TMPDIR:-/tmp}/vault-docker-login-${CIRCLE_WORKFLOW_JOB_ID:-${CIRCLE_BUILD_NUM:-$(id -u)}}}"
}

vdl_make_state_dir() {
  local dir
  dir=$(vdl_state_dir)
  mkdir -m 700 "$dir" 2>/dev/null || true
  if [ -L "$dir" ] || [ ! -d "$dir" ] || [ ! -O "$dir" ]; then
    vdl_fail "state directory $dir is not a directory owned by this user: remove it or set VAULT_DOCKER_LOGIN_STATE_DIR."
  fi
  chmod 700 "$dir"
  printf '%s' "$dir"
}

# vdl_state_set FILE KEY VALUE: appends a line; the last value of a key wins.
vdl_state_set() {
  case "$3" in *$'\n'*) vdl_fail "internal: state value for $2 contains a newline." ;; esac
  printf '%s=%s\n' "$2" "$3" >>"$1"
}

# vdl_state_get FILE KEY
vdl_state_get() {
  local k v out=""
  while IFS='=' read -r k v; do
    [ "$k" = "$2" ] && out=$v
  done <"$1"
  printf '%s' "$out"
}

# vdl_state_all FILE KEY: every value of a repeated key, one per line, in order.
vdl_state_all() {
  local k v
  while IFS='=' read -r k v; do
    [ "$k" != "$2" ] || printf '%s\n' "$v"
  done <"$1"
}

# Formats an epoch second as UTC ISO 8601 with GNU or BSD date.
vdl_iso_time() {
  date -u -d "@$1" '+%Y-%m-%dT%H:%M:%SZ' 2>/dev/null || date -u -r "$1" '+%Y-%m-%dT%H:%M:%SZ'
}
