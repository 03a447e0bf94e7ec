#!/usr/bin/env bash
# tests/check-paths.sh — every repository path that the documentation and the
# comments cite exists (make check-paths; the first step of make check).
#
# Where it looks: README.md, docs/*.md and every README.md under tests/ (all of
# their text, code blocks included), and the comments of the tracked *.c, *.h,
# *.S, *.sh, *.py files, the Makefile and .ci/run (C comments, # comments,
# Python docstrings; not code or C string literals).
#
# What is a path (the rules, in order):
#   1. A word is a run of [A-Za-z0-9_.*?{}/+~-] (so "lib/log.c," gives
#      lib/log.c; a trailing "." ends a sentence and is dropped; "./" in front
#      is dropped).
#   2. It is a repository path when it has a "/" and its first component is a
#      top-level folder of the repository (from git ls-files: .ci, devices,
#      docs, ...). A word starting with "/" is a host path (/usr/share/...,
#      /sys/..., /lib/modules/..., and URLs, whose run starts at "//") and is
#      not ours; neither is "$VAR/x" or "../x" (first component not a folder).
#   3. In Markdown, a link [text](target) that is not a URL or an #anchor is
#      resolved relative to the file that holds it, as a Markdown viewer does.
#   4. A pattern — a glob (*, ?, {}), "..." or an ALL-CAPS placeholder word
#      such as NAME, NN or BDF (not one that occurs in a tracked path, like
#      README) — is checked up to the folder before its first wild component:
#      tests/nested/cases/4x-*.sh needs tests/nested/cases/.
#   5. A path exists if git tracks it, or a file under it, or it is a new file
#      git would track (untracked, not ignored).
#   6. A path that does not exist but that a .gitignore ignores is a generated
#      file (a build output: tests/guest/*.bin, tests/fuzz/build/, *.o,
#      tests/unit/test_*, /minivmm): counted as generated, not as missing.
#      Only .gitignore decides, so a new build output that the docs name must
#      be ignored there too — which it has to be anyway.
#
# Prints "FILE:LINE: cites PATH, which does not exist" for each missing one,
# then "check-paths: N paths checked, M missing"; exits 1 when M > 0.
#   -v    also print every path with what it was found to be
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VERBOSE=0
[[ ${1:-} == -v ]] && VERBOSE=1

# What git would track: the index plus new files that are not ignored, less
# files deleted from the work tree. Both the files scanned and the paths they
# may cite come from this list.
declare -A TRACKED=() DIRS=() DELETED=() CAPS=()
DOCS=() SRCS=()
while IFS= read -r f; do DELETED[$f]=1; done < <(git ls-files -d)
while IFS= read -r f; do
    [[ -n ${DELETED[$f]:-} ]] && continue
    TRACKED[$f]=1
    d=$f
    while [[ $d == */* ]]; do d=${d%/*}; DIRS[$d]=1; done
    case $f in
        README.md|docs/*.md|tests/README.md|tests/*/README.md) DOCS+=("$f") ;;
        *.c|*.h|*.S|*.sh|*.py|Makefile|.ci/run) SRCS+=("$f") ;;
    esac
done < <(git ls-files -co --exclude-standard)
TOPS=$(printf '%s\n' "${!DIRS[@]}" | grep -v / | sort | tr '\n' ' ')
# ALL-CAPS words that are real names (README), not placeholders.
while read -r w; do CAPS[$w]=1; done < <(printf '%s\n' "${!TRACKED[@]}" | grep -oE '[A-Z][A-Z]+' | sort -u)

# Prints FILE<TAB>LINE<TAB>PATH for every candidate (rules 1-3).
extract() {
    awk -v tops="$TOPS" '
    BEGIN { n = split(tops, t, " "); for (i = 1; i <= n; i++) top[t[i]] = 1 }
    FNR == 1 {
        kind = FILENAME ~ /\.md$/ ? "md" : FILENAME ~ /\.(c|h|S)$/ ? "c" : FILENAME ~ /\.py$/ ? "py" : "sh"
        inblock = 0; indoc = 0
        dir = FILENAME; if (!sub(/\/[^\/]*$/, "", dir)) dir = ""
    }
    # rules 1 and 2
    function scan(text,   w) {
        while (match(text, /[A-Za-z0-9_.*?{}+~-]*\/[A-Za-z0-9_.*?{}\/+~-]*/)) {
            w = substr(text, RSTART, RLENGTH)
            text = substr(text, RSTART + RLENGTH)
            sub(/^(\.\/)+/, "", w)
            if (w !~ /\.\.\.$/) sub(/\.+$/, "", w)
            if (w ~ /^\// || !(substr(w, 1, index(w, "/") - 1) in top)) continue
            print FILENAME "\t" FNR "\t" w
        }
    }
    # rule 3: a relative Markdown link, resolved against the file'"'"'s folder
    function links(text,   l, n, i, out, c) {
        while (match(text, /\]\([^) \t]+\)/)) {
            l = substr(text, RSTART + 2, RLENGTH - 3)
            text = substr(text, RSTART + RLENGTH)
            sub(/#.*/, "", l)
            if (l == "" || l ~ /^[A-Za-z][A-Za-z0-9+.-]*:/ || l ~ /^\//) continue
            n = split((dir == "" ? "" : dir "/") l, c, "/"); out = ""
            for (i = 1; i <= n; i++) {
                if (c[i] == "." || (c[i] == "" && i < n)) continue
                if (c[i] == ".." && out != "" && out !~ /(^|\/)\.\.$/) { sub(/\/?[^\/]*$/, "", out); continue }
                out = out == "" ? c[i] : out "/" c[i]
            }
            print FILENAME "\t" FNR "\t" out
        }
    }
    # The comment text of a C line; string and character literals are skipped.
    function ccomment(s,   out, q, c, i) {
        out = ""
        while (s != "") {
            if (inblock) {
                if (i = index(s, "*/")) { out = out " " substr(s, 1, i - 1); s = substr(s, i + 2); inblock = 0 }
                else { out = out " " s; s = "" }
                continue
            }
            if (!match(s, /"|\047|\/\*|\/\//)) break
            c = substr(s, RSTART, 2)
            if (c == "/*") { inblock = 1; s = substr(s, RSTART + 2); continue }
            if (c == "//") { out = out " " substr(s, RSTART + 2); break }
            q = substr(s, RSTART, 1); s = substr(s, RSTART + 1)
            for (;;) {  # to the closing quote, past backslash escapes
                if (!(q == "\"" ? match(s, /[\\"]/) : match(s, /[\\\047]/))) { s = ""; break }
                if (substr(s, RSTART, 1) == "\\") { s = substr(s, RSTART + 2); continue }
                s = substr(s, RSTART + 1); break
            }
        }
        return out
    }
    # A # comment: from a # at the start of the line or after a blank.
    function hcomment(s) { return match(s, /(^|[ \t])#/) ? substr(s, RSTART + RLENGTH) : "" }
    # Python: # comments and the text of triple-quoted strings (docstrings).
    function pycomment(s,   out, i) {
        out = ""
        for (;;) {
            i = index(s, "\"\"\"")
            if (indoc) {
                if (!i) return out " " s
                out = out " " substr(s, 1, i - 1); s = substr(s, i + 3); indoc = 0
            } else {
                if (!i) return out " " hcomment(s)
                out = out " " hcomment(substr(s, 1, i - 1)); s = substr(s, i + 3); indoc = 1
            }
        }
    }
    kind == "md" { scan($0); links($0); next }
    kind == "c"  { scan(ccomment($0)); next }
    kind == "py" { scan(pycomment($0)); next }
                 { scan(hcomment($0)) }
    ' "$@"
}

# Rule 4: prints the part of pattern $1 before its first wild component (up to
# and with a "/"), or nothing when $1 is not a pattern.
pattern_folder() {
    local w=$1 cut=${#1} word rest
    [[ $w =~ ^[^*?{}]*[*?{}] ]] && cut=$(( ${#BASH_REMATCH[0]} - 1 ))
    [[ $w == *...* ]] && { rest=${w%%...*}; (( ${#rest} < cut )) && cut=${#rest}; }
    rest=$w
    while [[ $rest =~ [A-Z][A-Z]+ ]]; do
        word=${BASH_REMATCH[0]}
        if [[ -z ${CAPS[$word]:-} ]]; then
            rest=${w%%"$word"*}
            (( ${#rest} < cut )) && cut=${#rest}
            break
        fi
        rest=${rest#*"$word"}
    done
    (( cut < ${#w} )) || return 0
    rest=${w:0:cut}
    echo "${rest%/*}/"
}

exists() {  # rule 5
    local p=${1%/}
    [[ -n ${TRACKED[$p]:-} || -n ${DIRS[$p]:-} ]]
}

# Candidates, each citation (file, line, path) once.
declare -A SEEN=()
CITES=() CHECK=()
while IFS=$'\t' read -r file line path; do
    [[ -n ${SEEN[$file:$line:$path]:-} ]] && continue
    SEEN[$file:$line:$path]=1
    check=$path
    if [[ $path =~ [*?{}A-Z]|\.\.\. ]]; then
        folder=$(pattern_folder "$path")
        check=${folder:-$path}
    fi
    CITES+=("$file:$line:$path")
    CHECK+=("$check")
done < <(extract "${DOCS[@]}" "${SRCS[@]}")

# Rule 6, one git call for every path that does not exist: is it ignored?
# (Asked as PATH and PATH/: a directory pattern such as build/ matches a
# missing folder only when git is told it is one.)
declare -A IGNORED=()
mapfile -t ASK < <(for c in "${CHECK[@]}"; do exists "$c" || { echo "${c%/}"; echo "${c%/}/"; }; done | sort -u)
if (( ${#ASK[@]} )); then
    while IFS=$'\t' read -r pattern p; do
        [[ -n $pattern && $pattern != ::* && ${pattern#*:*:} != '!'* ]] && IGNORED[${p%/}]=1
    done < <(printf '%s\n' "${ASK[@]}" | git check-ignore --no-index -v -n --stdin || true)
fi

checked=0 missing=0 generated=0 patterns=0
for i in "${!CITES[@]}"; do
    cite=${CITES[$i]} c=${CHECK[$i]}
    path=${cite#*:*:}
    checked=$((checked + 1))
    [[ $c != "$path" ]] && patterns=$((patterns + 1))
    if exists "$c"; then
        what=exists
    elif [[ -n ${IGNORED[${c%/}]:-} ]]; then
        what=generated; generated=$((generated + 1))
    else
        echo "${cite%:"$path"}: cites $path, which does not exist"
        missing=$((missing + 1))
        continue
    fi
    if (( VERBOSE )); then
        [[ $c == "$path" ]] || what+=" (a pattern: checked as $c)"
        echo "${cite%:"$path"}: $path: $what"
    fi
done
(( VERBOSE )) && echo "check-paths: of those, $generated generated (.gitignore), $patterns patterns"
echo "check-paths: $checked paths checked, $missing missing"
(( missing == 0 ))
