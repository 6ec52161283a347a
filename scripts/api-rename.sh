#!/bin/sh
# api-rename.sh: give a corio tree the public names of issue 9, "One API
# convention" (see docs/design.md, Conventions). Every rename below is a
# whole-word replacement (a name inside a longer identifier is left alone),
# so the script can be run again on code written against the old names,
# for instance after merging a branch that predates it; a second run
# changes nothing.
#
#   old name              new name                 why
#   corio_timeout         corio_scope_timeout      scope constructors are
#   corio_timeout_at      corio_scope_timeout_at   scope calls (a bare verb
#   corio_move_on_after   corio_scope_move_on_after acts on the running
#   corio_shield          corio_scope_shield       task); tells it from
#                                                  corio_future_shield
#   corio_close           corio_fd_close           acts on a descriptor,
#                                                  as corio_fd_nonblock
#   corio_ctx             corio_context            contextvars.Context; ctx
#   corio_ctx_copy        corio_context_copy       is the internal machine
#   corio_ctx_retain      corio_context_retain     context (src/ctx/)
#   corio_ctx_release     corio_context_release
#   corio_ctx_run         corio_context_run
#   corio_ctx_get         corio_context_get
#   corio_ctx_size        corio_context_size
#   CORIO_ENOLOOP         CORIO_ENOTASK            one code for "not inside
#                                                  a task"
#   CORIO_AGEN_END        CORIO_END                one end-of-iteration
#   CORIO_TOPIC_END       CORIO_END                status for every next
#
# It also deletes the lines marked "api-rename: alias" (temporary aliases
# that kept the commits before the rename building).
#
# Usage: scripts/api-rename.sh [ROOT]   (default: this script's checkout)
# Rewrites src/ include/ tests/ examples/ bench/ docs/ and README.md under
# ROOT in place and lists the files it changed. Needs GNU sed and grep.
set -eu

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

renames='
corio_timeout          corio_scope_timeout
corio_timeout_at       corio_scope_timeout_at
corio_move_on_after    corio_scope_move_on_after
corio_shield           corio_scope_shield
corio_close            corio_fd_close
corio_ctx              corio_context
corio_ctx_copy         corio_context_copy
corio_ctx_retain       corio_context_retain
corio_ctx_release      corio_context_release
corio_ctx_run          corio_context_run
corio_ctx_get          corio_context_get
corio_ctx_size         corio_context_size
CORIO_ENOLOOP          CORIO_ENOTASK
CORIO_AGEN_END         CORIO_END
CORIO_TOPIC_END        CORIO_END
'

paths=
for p in src include tests examples bench docs README.md; do
    if [ -e "$p" ]; then paths="$paths $p"; fi
done
[ -n "$paths" ] || { echo "api-rename: no corio tree at $root" >&2; exit 1; }

script=$(mktemp)
trap 'rm -f "$script"' EXIT
# An alias line goes, with the blank line after it if there is one.
printf '%s\n' '/api-rename: alias/{N;/\n$/d;s/^[^\n]*\n//;}' > "$script"
pattern='api-rename: alias'
printf '%s\n' "$renames" | while read -r old new; do
    if [ -n "$old" ]; then printf 's/\\b%s\\b/%s/g\n' "$old" "$new"; fi
done >> "$script"
pattern="$pattern|\\b($(printf '%s\n' "$renames" |
    awk 'NF { printf "%s%s", sep, $1; sep = "|" }'))\\b"

# Only text files that hold an old name are rewritten (-I skips binaries).
# shellcheck disable=SC2086 # paths is a list
files=$(grep -rIlE "$pattern" $paths || true)
for f in $files; do
    sed -E -i -f "$script" "$f"
    echo "$f"
done

# Nothing may be left behind.
# shellcheck disable=SC2086
if left=$(grep -rInwE "$pattern" $paths); then
    echo "api-rename: old names remain:" >&2
    echo "$left" >&2
    exit 1
fi
