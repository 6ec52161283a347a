/*
 * ctxvar_impl.h: the context map behind context variables, as task.c (a
 * task holds one) and the tests (which count its references) see it.
 *
 * A map is an immutable-while-shared sorted array of (variable, value)
 * pairs with a plain reference count; NULL is the empty context. It
 * belongs to one thread (see corio/ctxvar.h). Not part of the public API.
 */
#ifndef CORIO_CTXVAR_IMPL_H
#define CORIO_CTXVAR_IMPL_H

#include <corio/ctxvar.h>

struct corio__ctx_map;

/* Add a reference to m (NULL, the empty context, is returned as is). */
struct corio__ctx_map *corio__ctx_map_retain(struct corio__ctx_map *m);
/* Drop one; the last frees m. NULL: no-op. */
void corio__ctx_map_release(struct corio__ctx_map *m);
/* m's reference count (0 for NULL). */
int corio__ctx_map_refs(const struct corio__ctx_map *m);

#endif /* CORIO_CTXVAR_IMPL_H */
