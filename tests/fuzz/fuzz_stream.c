/*
 * fuzz_stream.c: libFuzzer target for the stream parser (read_until /
 * read_line with limits, stream.h), built by `make fuzz` (clang only).
 *
 * The input picks a delimiter (1-3 bytes), a limit and a chunking, then is
 * sent through a socket pair in those chunks by one task while another
 * reads it back with read_until / read_line, falling back to
 * corio_stream_read when a line is over the limit. Checked: every line
 * ends with the delimiter's first occurrence, is no longer than the
 * limit, CORIO_ELIMIT only when no delimiter lies within it, and the bytes
 * read back, in order, are exactly the input. The resumable scan itself is
 * also checked against memmem on every prefix.
 */
#define _GNU_SOURCE
#include <corio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/stream_impl.h"

#define CHECK(c)                                                           \
    do {                                                                   \
        if (!(c))                                                          \
            abort();                                                       \
    } while (0)

struct fz {
    const uint8_t *data;
    size_t size;
    unsigned char delim[3];
    size_t dlen, limit;
    uint32_t seed;
    int wfd;
    corio_stream *s;
    unsigned char *out;
    size_t got;
};

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int writer(void *arg, void **result)
{
    struct fz *f = arg;
    uint32_t seed = f->seed | 1;
    size_t off = 0, n;
    (void)result;
    while (off < f->size) {
        n = 1 + next(&seed) % 64;
        if (n > f->size - off)
            n = f->size - off;
        CHECK(corio_write_all(f->wfd, f->data + off, n, NULL) == 0);
        off += n;
        if (next(&seed) % 2)
            corio_sleep(0);
    }
    corio_fd_close(f->wfd);
    return 0;
}

static int reader(void *arg, void **result)
{
    struct fz *f = arg;
    unsigned char line[80];
    size_t len, cap;
    uint32_t seed = f->seed ^ 0x9e3779b9u;
    ssize_t r;
    int rc;
    (void)result;
    for (;;) {
        cap = f->limit + next(&seed) % 8;
        if (cap > sizeof line)
            cap = sizeof line;
        if (f->dlen == 1 && f->delim[0] == '\n' && next(&seed) % 2)
            rc = corio_stream_read_line(f->s, line, cap, &len);
        else
            rc = corio_stream_read_until(f->s, f->delim, f->dlen, line, cap,
                                         &len);
        if (rc == CORIO_ELIMIT) {
            size_t lim = cap < f->limit ? cap : f->limit;
            const void *p;
            size_t have;
            CHECK(corio_stream_peek(f->s, &p, &have) == 0);
            CHECK(have >= lim);
            CHECK(!memmem(p, lim, f->delim, f->dlen));
            r = corio_stream_read(f->s, line, 1 + next(&seed) % lim);
            CHECK(r > 0);
            memcpy(f->out + f->got, line, (size_t)r);
            f->got += (size_t)r;
            continue;
        }
        CHECK(rc == 0 || rc == CORIO_EINCOMPLETE);
        if (len == 0)
            break;
        {
            size_t lim = cap < f->limit ? cap : f->limit;
            void *first = memmem(line, len, f->delim, f->dlen);
            CHECK(len <= lim);
            if (len >= f->dlen &&
                memcmp(line + len - f->dlen, f->delim, f->dlen) == 0)
                CHECK(first == line + len - f->dlen); /* the first one */
            else
                CHECK(!first && corio_stream_at_eof(f->s)); /* the end */
        }
        memcpy(f->out + f->got, line, len);
        f->got += len;
        if (rc == CORIO_EINCOMPLETE)
            break;
    }
    return 0;
}

static int fz_main(void *arg, void **result)
{
    struct fz *f = arg;
    int sv[2];
    corio_stream_opts o;
    corio_task *w, *r;
    (void)result;
    CHECK(corio_socketpair(SOCK_STREAM, sv) == 0);
    memset(&o, 0, sizeof o);
    o.limit = f->limit;
    CHECK(corio_stream_new(sv[0], &o, &f->s) == 0);
    f->wfd = sv[1];
    CHECK(corio_spawn(writer, f, NULL, &w) == 0);
    CHECK(corio_spawn(reader, f, NULL, &r) == 0);
    CHECK(corio_task_join(w, NULL) == 0);
    CHECK(corio_task_join(r, NULL) == 0);
    corio_task_release(w);
    corio_task_release(r);
    corio_stream_close(f->s);
    return 0;
}

static void check_scan(const uint8_t *d, size_t n, const unsigned char *delim,
                       size_t dlen)
{
    size_t from = 0, len, end;
    for (len = 0; len <= n; len++) {
        const void *want = memmem(d, len, delim, dlen);
        size_t save = from;
        end = corio__stream_scan(d, len, &from, delim, dlen);
        if (want) {
            CHECK(end == (size_t)((const uint8_t *)want - d) + dlen);
            return;
        }
        CHECK(end == 0);
        CHECK(from <= len);
        (void)save;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;
    if (size < 4)
        return 0;
    memset(&f, 0, sizeof f);
    f.dlen = 1 + data[0] % 3;
    memcpy(f.delim, data + 1, 3);
    if (data[0] & 0x80) { /* the common case: a newline */
        f.dlen = 1;
        f.delim[0] = '\n';
    }
    f.limit = 1 + data[0] % 64;
    if (f.limit < f.dlen)
        f.limit = f.dlen;
    f.seed = (uint32_t)size * 2654435761u + data[1];
    f.data = data + 4;
    f.size = size - 4;
    check_scan(f.data, f.size, f.delim, f.dlen);
    f.out = malloc(f.size + 1);
    CHECK(f.out);
    CHECK(corio_run(fz_main, &f, NULL) == 0);
    CHECK(f.got == f.size);
    CHECK(memcmp(f.out, f.data, f.size) == 0);
    free(f.out);
    return 0;
}
