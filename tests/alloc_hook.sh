#!/bin/sh
# Every heap allocation in corio goes through the allocator hook
# (src/alloc.c, corio_set_allocator): no object of the static library but
# alloc.o may call libc's allocator itself. A new malloc/calloc/realloc/
# free/strdup in src/ must be corio__malloc/calloc/realloc/free/strdup
# (src/alloc.h) instead, or the out-of-memory sweeps cannot fail it and a
# program's own allocator never sees it.
# Usage: alloc_hook.sh NM LIBCORIO.a
set -eu
nm=$1 lib=$2
bad=$("$nm" -u -A "$lib" 2>/dev/null |
      grep -E '[: ](malloc|calloc|realloc|reallocarray|free|strdup|strndup|aligned_alloc|posix_memalign|memalign|valloc|asprintf|vasprintf|getline|getdelim|open_memstream)(@.*)?$' |
      grep -v -E '(^|[/:])alloc\.c\.o:' || true)
if [ -n "$bad" ]; then
    echo "alloc_hook: these objects allocate without the hook (use src/alloc.h):"
    printf '%s\n' "$bad" | sed 's/^/  /'
    exit 1
fi
echo "alloc_hook: only alloc.o calls libc's allocator"
