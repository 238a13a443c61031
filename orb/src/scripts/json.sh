#!/usr/bin/env bash
# shellcheck disable=SC2034 # globals shared with the eval-ed helper scripts
# JSON in pure bash, so the orb needs no jq or python3 (each costs ~25 ms to start, several per
# login). The writer escapes any string; the reader parses a document once into associative
# arrays keyed by path, so lookups fork nothing. Values stay in shell variables: never in argv.
#
# Paths: the root is `.`; an object member is <parent>.<key>, an array element <parent>[<i>],
# with the root's prefix empty (.auth.client_token, [0].registry). A key is written as is unless
# it is empty (\0) or holds `\`, `.` or `[` (escaped as \\, \. and \[), so paths never collide.
#   VDL_JT[path]  type: object, array, string, number, boolean or null
#   VDL_JV[path]  string: its text; number, true, false: as written; null: empty;
#                 object, array: compact JSON (the tokens as written, without whitespace)
#   VDL_JN[path]  member count of an object or array
#   VDL_JK[i:path] the i-th key of the object at path (first occurrence order, as jq keeps it)
declare -gA VDL_JT=() VDL_JV=() VDL_JN=() VDL_JK=()
VDL_JSON_ERROR=""

VDL_JSON_WS=$' \t\n\r'
# A string character needing no escape: anything but ", \ and U+0000..U+001F (bytes, LC_ALL=C).
VDL_JSON_PLAIN="[^\"\\"$'\x01-\x1f'"]"
VDL_JSON_STRING='^"'$VDL_JSON_PLAIN'*"'
VDL_JSON_NUMBER='^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?'
VDL_JSON_SPACE='^['$VDL_JSON_WS']+'
VDL_JSON_CHUNK='^('$VDL_JSON_PLAIN'*)(["\])'
VDL_JSON_U='^u([0-9a-fA-F]{4})'
VDL_JSON_LOW='^[\]u([dD][c-fC-F][0-9a-fA-F]{2})'

# vdl_json_str VAR TEXT: sets VAR to TEXT as a JSON string literal.
vdl_json_str() {
  local _js=$2 _jc _jh _ji
  _js=${_js//"\\"/"\\\\"}
  _js=${_js//'"'/'\"'}
  if [[ $_js == *[[:cntrl:]]* ]]; then
    _js=${_js//$'\n'/'\n'}
    _js=${_js//$'\r'/'\r'}
    _js=${_js//$'\t'/'\t'}
    _js=${_js//$'\b'/'\b'}
    _js=${_js//$'\f'/'\f'}
    for ((_ji = 1; _ji < 32; _ji++)); do
      printf -v _jh '%02x' "$_ji"
      printf -v _jc '%b' "\\x$_jh"
      _js=${_js//"$_jc"/"\\u00$_jh"}
    done
  fi
  printf -v "$1" '"%s"' "$_js"
}

# vdl_json_obj VAR KEY VARNAME...: sets VAR to a JSON object of the named variables' values.
vdl_json_obj() {
  local _jo="" _jk _jv _jvar=$1
  shift
  while [ "$#" -ge 2 ]; do
    vdl_json_str _jk "$1"
    vdl_json_str _jv "${!2}"
    _jo+=${_jo:+,}$_jk:$_jv
    shift 2
  done
  printf -v "$_jvar" '{%s}' "$_jo"
}

# vdl_json_fail WHY: the parse error, with the arrays emptied. It names a byte offset, never the
# text (it may be secret).
vdl_json_fail() {
  VDL_JSON_ERROR=$1
  VDL_JT=() VDL_JV=() VDL_JN=() VDL_JK=()
  return 1
}

# vdl_json_forget PATH: drops what an earlier value of a repeated key left at PATH and below.
vdl_json_forget() {
  local k
  for k in "${!VDL_JT[@]}"; do
    [[ $k != "$1" && $k != "$1".* && $k != "$1"\[* ]] || unset -v 'VDL_JT[$k]' 'VDL_JV[$k]' 'VDL_JN[$k]'
  done
  for k in "${!VDL_JK[@]}"; do
    [[ ${k#*:} != "$1" && ${k#*:} != "$1".* && ${k#*:} != "$1"\[* ]] || unset -v 'VDL_JK[$k]'
  done
}

# vdl_json_parse TEXT: fills VDL_JT, VDL_JV, VDL_JN and VDL_JK. Invalid JSON returns 1 with
# VDL_JSON_ERROR set and the arrays empty. Every turn consumes input, so any text ends in a
# result or an error.
vdl_json_parse() {
  local LC_ALL=C
  local s=$1 len tok str key path=. want=value d=0 i cp lo esc ch cur pre what
  local -a cpath=() cpre=() ckind=() cstart=()
  local out=""
  len=${#s}
  VDL_JT=() VDL_JV=() VDL_JN=() VDL_JK=()
  VDL_JSON_ERROR=""
  while :; do
    case ${s:0:1} in
      [][{}:,])
        tok=${s:0:1}
        s=${s:1}
        ;;
      '"')
        tok='"'
        if [[ $s =~ $VDL_JSON_STRING ]]; then tok=${BASH_REMATCH[0]}; fi
        s=${s:${#tok}}
        ;;
      [tfn])
        tok=${s:0:4}
        [ "$tok" != fals ] || tok=${s:0:5}
        [[ $tok == true || $tok == false || $tok == null ]] ||
          vdl_json_fail "unexpected character at byte $((len - ${#s} + 1))" || return 1
        s=${s:${#tok}}
        ;;
      [-0-9])
        [[ $s =~ $VDL_JSON_NUMBER ]] || vdl_json_fail "bad number at byte $((len - ${#s} + 1))" || return 1
        tok=${BASH_REMATCH[0]}
        s=${s:${#tok}}
        ;;
      [$VDL_JSON_WS])
        [[ $s =~ $VDL_JSON_SPACE ]]
        s=${s:${#BASH_REMATCH[0]}}
        continue
        ;;
      '') vdl_json_fail "it ends early (byte $len)" || return 1 ;;
      *) vdl_json_fail "unexpected character at byte $((len - ${#s} + 1))" || return 1 ;;
    esac
    if [ "$tok" = '"' ]; then
      # A string with escapes: a plain run, then one escape, until the closing quote.
      cur=$s str=""
      while :; do
        [[ $s =~ $VDL_JSON_CHUNK ]] ||
          vdl_json_fail "unterminated string or raw control character at byte $((len - ${#s} + 1))" || return 1
        str+=${BASH_REMATCH[1]}
        s=${s:${#BASH_REMATCH[0]}}
        [ "${BASH_REMATCH[2]}" = "\\" ] || break
        case ${s:0:1} in
          '"' | "\\" | /) str+=${s:0:1} ;;
          b) str+=$'\b' ;;
          f) str+=$'\f' ;;
          n) str+=$'\n' ;;
          r) str+=$'\r' ;;
          t) str+=$'\t' ;;
          u)
            [[ $s =~ $VDL_JSON_U ]] || vdl_json_fail "bad \\u escape at byte $((len - ${#s}))" || return 1
            cp=$((16#${BASH_REMATCH[1]}))
            s=${s:4}
            if ((cp >= 0xD800 && cp <= 0xDBFF)) && [[ ${s:1} =~ $VDL_JSON_LOW ]]; then
              lo=$((16#${BASH_REMATCH[1]}))
              s=${s:6}
              cp=$((0x10000 + (cp - 0xD800) * 1024 + lo - 0xDC00))
            elif ((cp >= 0xD800 && cp <= 0xDFFF)); then
              cp=0xFFFD # a lone surrogate becomes U+FFFD, as jq makes it
            fi
            ((cp != 0)) || vdl_json_fail "a string holds \\u0000, which no shell string can (byte $((len - ${#s} - 4)))" || return 1
            if ((cp < 0x80)); then
              printf -v esc '\\x%02x' "$cp"
            elif ((cp < 0x800)); then
              printf -v esc '\\x%02x\\x%02x' $((0xC0 | cp >> 6)) $((0x80 | (cp & 0x3F)))
            elif ((cp < 0x10000)); then
              printf -v esc '\\x%02x\\x%02x\\x%02x' $((0xE0 | cp >> 12)) $((0x80 | (cp >> 6 & 0x3F))) $((0x80 | (cp & 0x3F)))
            else
              printf -v esc '\\x%02x\\x%02x\\x%02x\\x%02x' $((0xF0 | cp >> 18)) $((0x80 | (cp >> 12 & 0x3F))) \
                $((0x80 | (cp >> 6 & 0x3F))) $((0x80 | (cp & 0x3F)))
            fi
            printf -v ch '%b' "$esc"
            str+=$ch
            ;;
          *) vdl_json_fail "bad escape at byte $((len - ${#s}))" || return 1 ;;
        esac
        s=${s:1}
      done
      tok=\"${cur:0:${#cur}-${#s}}
    elif [[ $tok == \"* ]]; then
      str=${tok:1:${#tok}-2}
    fi

    case $want:$tok in
      key*:\"*)
        if [ "${s:0:1}" = : ]; then
          s=${s:1}
        elif [[ $s =~ ^[$VDL_JSON_WS]*: ]]; then
          s=${s:${#BASH_REMATCH[0]}}
        else
          vdl_json_fail "expected ':' at byte $((len - ${#s} + 1))"
          return 1
        fi
        key=$str
        if [ -z "$key" ]; then
          key='\0'
        elif [[ $key == *[.\\[]* ]]; then
          key=${key//"\\"/"\\\\"}
          key=${key//'.'/'\.'}
          key=${key//'['/'\['}
        fi
        pre=${cpath[d]}
        path=${cpre[d]}.$key
        if [ -n "${VDL_JT[$path]+set}" ]; then
          vdl_json_forget "$path" # a repeated key: the last value wins, in the first one's place
        else
          i=${VDL_JN[$pre]}
          VDL_JK[$i:$pre]=$str
          VDL_JN[$pre]=$((i + 1))
        fi
        out+=$tok:
        want=value
        continue
        ;;
      key1:'}' | value1:']' | next:'}' | next:']')
        [ "$tok" = "${ckind[d]}" ] || vdl_json_fail "unexpected '$tok' at byte $((len - ${#s}))" || return 1
        out+=$tok
        path=${cpath[d]}
        VDL_JV[$path]=${out:${cstart[d]}}
        d=$((d - 1))
        ;;
      next:,)
        out+=,
        want=key
        if [ "${ckind[d]}" = ']' ]; then
          pre=${cpath[d]}
          path="${cpre[d]}[${VDL_JN[$pre]}]"
          want=value
        fi
        continue
        ;;
      value*:'{' | value*:'[')
        d=$((d + 1))
        cpath[d]=$path
        cpre[d]=$path
        [ "$path" != . ] || cpre[d]=""
        cstart[d]=${#out}
        out+=$tok
        VDL_JN[$path]=0
        if [ "$tok" = '{' ]; then
          VDL_JT[$path]=object
          ckind[d]='}'
          want=key1
        else
          VDL_JT[$path]=array
          ckind[d]=']'
          path="${cpre[d]}[0]"
          want=value1
        fi
        continue
        ;;
      value*:\"*)
        VDL_JT[$path]=string
        VDL_JV[$path]=$str
        out+=$tok
        ;;
      value*:true | value*:false)
        VDL_JT[$path]=boolean
        VDL_JV[$path]=$tok
        out+=$tok
        ;;
      value*:null)
        VDL_JT[$path]=null
        VDL_JV[$path]=""
        out+=$tok
        ;;
      value*:[-0-9]*)
        VDL_JT[$path]=number
        VDL_JV[$path]=$tok
        out+=$tok
        ;;
      *)
        case $tok in
          \"*) what="a string" ;;
          [-0-9]*) what="a number" ;;
          *) what="'$tok'" ;;
        esac
        vdl_json_fail "unexpected $what at byte $((len - ${#s} - ${#tok} + 1))"
        return 1
        ;;
    esac
    # A value is complete: the document's, or one more member of an array.
    if [ "$d" -eq 0 ]; then
      [[ $s =~ ^[$VDL_JSON_WS]* ]]
      [ "${#BASH_REMATCH[0]}" -eq "${#s}" ] || vdl_json_fail "text after the JSON value at byte $((len - ${#s} + 1))" || return 1
      return 0
    fi
    if [ "${ckind[d]}" = ']' ]; then
      pre=${cpath[d]}
      i=${VDL_JN[$pre]}
      VDL_JN[$pre]=$((i + 1))
    fi
    want=next
  done
}

# vdl_json_parse_file FILE: vdl_json_parse on FILE's content (read without a fork).
vdl_json_parse_file() {
  local text=""
  if IFS= read -r -d '' text <"$1"; then
    vdl_json_fail "it holds a NUL byte"
    return 1
  fi
  vdl_json_parse "$text"
}

# vdl_json_errors VAR FILE: sets VAR to the Vault `errors` in FILE, joined by "; ", with each run
# of whitespace made one space; empty when FILE has none.
vdl_json_errors() {
  local _je="" _ji _jp
  if [ -r "$2" ] && vdl_json_parse_file "$2" && [ "${VDL_JT[.errors]:-}" = array ]; then
    for ((_ji = 0; _ji < VDL_JN[.errors]; _ji++)); do
      _jp=.errors[$_ji]
      [ "$_ji" -eq 0 ] || _je+="; "
      if [ "${VDL_JT[$_jp]}" = null ]; then _je+=null; else _je+=${VDL_JV[$_jp]}; fi
    done
  fi
  _je=${_je//[$'\n\t']/ }
  while [[ $_je == *'  '* ]]; do _je=${_je//'  '/' '}; done
  printf -v "$1" '%s' "$_je"
}
