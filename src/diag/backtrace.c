/*
 * backtrace.c: backtraces of tasks from their saved stacks, and symbols
 * (see diag_impl.h for the method and its limits).
 *
 * Limits: frames of code built without frame pointers are skipped or end
 * the walk (corio's own build adds -fno-omit-frame-pointer; programs that
 * want whole backtraces should too). Return addresses are masked to 48
 * bits (AArch64 pointer authentication codes live above them). The
 * ucontext backend's saved context is inside swapcontext, so its first
 * frames are the C library's.
 */
#include "alloc.h"
#include "diag/diag_impl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef CORIO_HAVE_LIBDW
#include <elfutils/libdwfl.h>
#endif

#define PC_MASK ((uintptr_t)0x0000FFFFFFFFFFFFull)

/* ---- walking ------------------------------------------------------------------ */

/* The word at a in a stack [lo, hi), through a lean coroutine's copy when
 * its frames are not on the shared stack. 0 with *ok = 0 outside. */
static uintptr_t read_word(uintptr_t a, uintptr_t lo, uintptr_t hi,
                           const struct corio_coro *co, int *ok)
{
    uintptr_t v;
    *ok = 0;
    if (a < lo || a + sizeof v > hi || (a & (sizeof v - 1)))
        return 0;
    if (co && co->lean && co->lean->occupant != co) {
        uintptr_t base = hi - co->save_len;
        if (!co->save || a < base)
            return 0;
        memcpy(&v, (const char *)co->save + (a - base), sizeof v);
    } else {
        memcpy(&v, (const void *)a, sizeof v);
    }
    *ok = 1;
    return v;
}

size_t corio__bt_walk(void *pc, void *fp, uintptr_t lo, uintptr_t hi,
                      const struct corio_coro *co, void **pcs, size_t cap)
{
    uintptr_t f = (uintptr_t)fp;
    size_t n = 0;
    int ok;
    if (pc && n < cap)
        pcs[n++] = (void *)((uintptr_t)pc & PC_MASK);
    while (n < cap && f) {
        uintptr_t next = read_word(f, lo, hi, co, &ok);
        uintptr_t ret;
        if (!ok)
            break;
        ret = read_word(f + sizeof(void *), lo, hi, co, &ok);
        if (!ok || ret == 0)
            break;
        pcs[n++] = (void *)(ret & PC_MASK);
        if (next <= f) /* frames grow upward as the walk goes outward */
            break;
        f = next;
    }
    return n;
}

size_t corio__bt_task(const corio_task *t, void **pcs, size_t cap)
{
    const struct corio_coro *co = &t->coro;
    uintptr_t lo, hi;
    void *pc, *fp;
    if (!co->stack || co->state == CORIO_CORO_CREATED ||
        co->state == CORIO_CORO_CLOSED)
        return 0;
    lo = (uintptr_t)co->stack->lo;
    hi = lo + co->stack->size;
    if (co->state == CORIO_CORO_SUSPENDED) {
        if (co->lean && co->lean->occupant != co && !co->save)
            return 0;
        /* The saved frame itself may be in a lean copy: read it there. */
        if (co->lean && co->lean->occupant != co) {
            uintptr_t sp = (uintptr_t)co->ctx.sp;
            int ok1 = 0, ok2 = 0;
            uintptr_t p = 0, f = 0;
#ifdef CORIO__CTX_PC_SLOT
            f = read_word(sp + CORIO__CTX_FP_SLOT, lo, hi, co, &ok1);
            p = read_word(sp + CORIO__CTX_PC_SLOT, lo, hi, co, &ok2);
#endif
            if (!ok1 || !ok2)
                return 0;
            return corio__bt_walk((void *)p, (void *)f, lo, hi, co, pcs, cap);
        }
        if (!corio__ctx_saved_frame(&co->ctx, &pc, &fp))
            return 0;
        return corio__bt_walk(pc, fp, lo, hi, NULL, pcs, cap);
    }
    /* Running (or resuming another coroutine): from here, if here is its
     * stack. */
    fp = __builtin_frame_address(0);
    if ((uintptr_t)fp < lo || (uintptr_t)fp >= hi)
        return 0;
    return corio__bt_walk(NULL, fp, lo, hi, NULL, pcs, cap);
}

/* ---- symbols ------------------------------------------------------------------ */

static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;

#ifdef CORIO_HAVE_LIBDW
/* libdw, loaded on first use; its functions through these pointers. */
static struct {
    int tried, ok;
    Dwfl *dwfl;
    Dwfl *(*begin)(const Dwfl_Callbacks *);
    void (*end)(Dwfl *);
    int (*proc_report)(Dwfl *, pid_t);
    int (*report_end)(Dwfl *, int (*)(Dwfl_Module *, void *, const char *,
                                      Dwarf_Addr, void *),
                      void *);
    Dwfl_Module *(*addrmodule)(Dwfl *, Dwarf_Addr);
    const char *(*addrname)(Dwfl_Module *, GElf_Addr);
    Dwfl_Line *(*getsrc)(Dwfl_Module *, Dwarf_Addr);
    const char *(*lineinfo)(Dwfl_Line *, Dwarf_Addr *, int *, int *,
                            Dwarf_Word *, Dwarf_Word *);
    const char *(*addrsym_off)(Dwfl_Module *, GElf_Addr, GElf_Off *,
                               GElf_Sym *,
                       GElf_Word *, Elf **, Dwarf_Addr *);
    Dwfl_Callbacks cb;
} dw;

#define DW_SYM(field, name)                                                  \
    (*(void **)&dw.field = dlsym(h, name)) != NULL

static int dw_load(void)
{
    void *h;
    if (dw.tried)
        return dw.ok;
    dw.tried = 1;
    if (getenv("CORIO_NO_LIBDW"))
        return 0;
    h = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return 0;
    if (!(DW_SYM(begin, "dwfl_begin") && DW_SYM(end, "dwfl_end") &&
          DW_SYM(proc_report, "dwfl_linux_proc_report") &&
          DW_SYM(report_end, "dwfl_report_end") &&
          DW_SYM(addrmodule, "dwfl_addrmodule") &&
          DW_SYM(addrname, "dwfl_module_addrname") &&
          DW_SYM(getsrc, "dwfl_module_getsrc") &&
          DW_SYM(lineinfo, "dwfl_lineinfo") &&
          DW_SYM(addrsym_off, "dwfl_module_addrinfo") &&
          (*(void **)&dw.cb.find_elf = dlsym(h, "dwfl_linux_proc_find_elf")) &&
          (*(void **)&dw.cb.find_debuginfo =
               dlsym(h, "dwfl_standard_find_debuginfo"))))
        return 0;
    dw.ok = 1;
    return 1;
}

/* (Re)report the process's modules: at first use, and when an address
 * falls in none (a library loaded since). */
static int dw_report(void)
{
    if (dw.dwfl)
        dw.end(dw.dwfl);
    dw.dwfl = dw.begin(&dw.cb);
    if (!dw.dwfl)
        return 0;
    if (dw.proc_report(dw.dwfl, getpid()) != 0 ||
        dw.report_end(dw.dwfl, NULL, NULL) != 0) {
        dw.end(dw.dwfl);
        dw.dwfl = NULL;
        return 0;
    }
    return 1;
}

static void dw_symbolize(uintptr_t a, corio__sym *out)
{
    Dwfl_Module *m;
    Dwfl_Line *l;
    const char *name, *file;
    GElf_Off off = 0;
    GElf_Sym sym;
    int line = 0;
    if (!dw_load() || (!dw.dwfl && !dw_report()))
        return;
    m = dw.addrmodule(dw.dwfl, a);
    if (!m && dw_report())
        m = dw.addrmodule(dw.dwfl, a);
    if (!m)
        return;
    name = dw.addrsym_off(m, a, &off, &sym, NULL, NULL, NULL);
    if (name) {
        snprintf(out->name, sizeof out->name, "%s", name);
        out->offset = (uintptr_t)off;
    }
    if ((l = dw.getsrc(m, a)) != NULL &&
        (file = dw.lineinfo(l, NULL, &line, NULL, NULL, NULL)) != NULL) {
        snprintf(out->file, sizeof out->file, "%s", file);
        out->line = line;
    }
}
#endif

const char *corio__bt_symbolizer(void)
{
#ifdef CORIO_HAVE_LIBDW
    int ok;
    pthread_mutex_lock(&sym_lock);
    ok = dw_load();
    pthread_mutex_unlock(&sym_lock);
    if (ok)
        return "libdw";
#endif
    return "dladdr";
}

void corio__bt_symbolize_dladdr(void *pc, int is_return, corio__sym *out)
{
    uintptr_t a = (uintptr_t)pc - (is_return && pc ? 1 : 0);
    Dl_info info;
    memset(out, 0, sizeof *out);
    if (!pc)
        return;
    if (dladdr((void *)a, &info)) {
        if (info.dli_fname)
            snprintf(out->object, sizeof out->object, "%s", info.dli_fname);
        out->obj_off = a - (uintptr_t)info.dli_fbase + (is_return ? 1 : 0);
        if (info.dli_sname) {
            snprintf(out->name, sizeof out->name, "%s", info.dli_sname);
            out->offset = (uintptr_t)pc - (uintptr_t)info.dli_saddr;
        }
    }
}

void corio__bt_symbolize(void *pc, int is_return, corio__sym *out)
{
    corio__bt_symbolize_dladdr(pc, is_return, out);
#ifdef CORIO_HAVE_LIBDW
    if (!pc)
        return;
    pthread_mutex_lock(&sym_lock);
    dw_symbolize((uintptr_t)pc - (is_return ? 1 : 0), out);
    if (out->name[0] && is_return)
        out->offset++; /* looked up at pc - 1 */
    pthread_mutex_unlock(&sym_lock);
#endif
}

/* libdw needs far more stack than a task has (dwarf_getsrclines alone
 * takes tens of KiB): symbolize a backtrace on a thread of its own, with
 * a thread's usual stack. */
typedef struct batch {
    void *const *pcs;
    size_t n;
    corio__sym *syms;
} batch;

static void *symbolize_batch(void *arg)
{
    batch *b = arg;
    size_t i;
    for (i = 0; i < b->n; i++)
        corio__bt_symbolize(b->pcs[i], i > 0, &b->syms[i]);
    return NULL;
}

corio__sym *corio__bt_symbolize_all(void *const *pcs, size_t n)
{
    batch b;
    pthread_t th;
    b.pcs = pcs;
    b.n = n;
    b.syms = corio__calloc(n ? n : 1, sizeof *b.syms);
    if (!b.syms)
        return NULL;
    if (pthread_create(&th, NULL, symbolize_batch, &b) == 0)
        pthread_join(th, NULL);
    else /* no thread: names from dladdr only, which needs little stack */
        for (size_t i = 0; i < n; i++)
            corio__bt_symbolize_dladdr(pcs[i], i > 0, &b.syms[i]);
    return b.syms;
}

void corio__bt_print(FILE *out, const char *indent, void *const *pcs,
                     size_t n)
{
    corio__sym *syms = corio__bt_symbolize_all(pcs, n);
    size_t i;
    if (!syms) {
        for (i = 0; i < n; i++)
            fprintf(out, "%s#%zu %p\n", indent, i, pcs[i]);
        return;
    }
    for (i = 0; i < n; i++) {
        corio__sym s = syms[i];
        const char *obj;
        obj = strrchr(s.object, '/');
        obj = obj ? obj + 1 : s.object;
        fprintf(out, "%s#%zu %p ", indent, i, pcs[i]);
        if (s.name[0])
            fprintf(out, "%s+0x%lx", s.name, (unsigned long)s.offset);
        else if (obj[0])
            fprintf(out, "%s+0x%lx", obj, (unsigned long)s.obj_off);
        else /* a static binary without libdw: addr2line -e it the pc */
            fprintf(out, "(no symbols)");
        if (s.file[0])
            fprintf(out, " at %s:%d", s.file, s.line);
        else if (s.name[0] && obj[0])
            fprintf(out, " in %s", obj);
        fputc('\n', out);
    }
    corio__free(syms);
}

void corio__bt_report(const char *header, void *const *pcs, size_t n)
{
    char text[16384];
    FILE *out = fmemopen(text, sizeof text, "w");
    if (!out)
        return;
    fputs(header, out);
    corio__bt_print(out, "    ", pcs, n);
    corio__bt_emit(out, text, sizeof text);
}

void corio__bt_emit(FILE *out, const char *text, size_t cap)
{
    size_t len;
    fflush(out);
    len = (size_t)ftell(out);
    fclose(out);
    if (len > cap)
        len = cap;
    fwrite(text, 1, len, stderr);
    fflush(stderr);
}
