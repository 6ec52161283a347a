/*
 * parser.c: an HTTP/1.1 request parser written as straight-line code, fed
 * by hand with chunks of input; no event loop.
 *
 * Input from a socket arrives in pieces that split lines, even the "\r\n"
 * that ends one, anywhere. A parser called back with each piece has to
 * remember where it was in a state machine (in the request line? in a
 * header? how much body is still due?). Run as a coroutine, it remembers
 * that the way any function does, in its own code and local variables:
 * next_line() and read_body() simply suspend when the buffered input holds
 * too little, and continue when main resumes them with the next chunk.
 * This is Python's generator-based parser (data = yield), driven by send.
 *
 * The protocol between main (the driver) and the parser coroutine:
 *   resume(co, NULL)    first: runs the parser up to its first request for
 *                       input (a just-created coroutine takes no value)
 *   resume(co, &chunk)  a chunk of input; a chunk of length 0 is the end
 *   the parser yields   NULL: "give me more input", or a finished request
 *                       (valid until the next resume), after which main
 *                       resumes it with NULL to go on
 *   the parser returns  at the end of input, with the number of requests;
 *                       -EPROTO or -EMSGSIZE for bad input, with a message
 *
 * Output: the requests found in two pipelined requests fed 7 bytes at a
 * time, then proof that every chunk size gives the same requests, then
 * what the parser says about a malformed request and a truncated one.
 */
#include <corio.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS 8

struct chunk {
    const char *data;
    size_t len;
};

struct request {
    char method[16], target[64];
    int nheaders;
    struct {
        char name[32], value[64];
    } header[MAX_HEADERS];
    size_t body_len;
    char body[64];
};

struct parser {
    char buf[512];     /* input received and not yet parsed */
    size_t len;
    unsigned line;     /* lines read, for error messages */
    char error[96];
    struct request req; /* the request being parsed, then yielded */
};

/* Fails the parse with err and a message for main to print. */
static int fail(struct parser *p, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, sizeof p->error, fmt, ap);
    va_end(ap);
    return err;
}

/* Asks the driver for more input: yields NULL and appends the chunk it
 * sends back. 0, CORIO_END at the end of input, or an error. */
static int need_input(struct parser *p)
{
    void *sent;
    const struct chunk *c;
    int rc = corio_yield(NULL, &sent); /* suspends until main resumes us */
    if (rc)
        return rc; /* thrown in, or closed (CORIO_EEXIT) */
    c = sent;
    if (!c || c->len == 0)
        return CORIO_END;
    if (c->len > sizeof p->buf - p->len)
        return fail(p, -EMSGSIZE, "more than %zu bytes unparsed", sizeof p->buf);
    memcpy(p->buf + p->len, c->data, c->len);
    p->len += c->len;
    return 0;
}

static void consume(struct parser *p, size_t n)
{
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
}

/* The next line, without its "\r\n" (or "\n"), into line[cap]. */
static int next_line(struct parser *p, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->len);
        if (nl) {
            size_t n = (size_t)(nl - p->buf), m = n;
            if (m > 0 && p->buf[m - 1] == '\r')
                m--;
            if (m >= cap)
                return fail(p, -EMSGSIZE, "line %u: too long", p->line + 1);
            memcpy(line, p->buf, m);
            line[m] = '\0';
            consume(p, n + 1);
            p->line++;
            return 0;
        }
        int rc = need_input(p);
        if (rc)
            return rc;
    }
}

/* Exactly n bytes of body into dst. */
static int read_body(struct parser *p, char *dst, size_t n)
{
    while (p->len < n) {
        int rc = need_input(p);
        if (rc)
            return rc;
    }
    memcpy(dst, p->buf, n);
    consume(p, n);
    return 0;
}

static int same_name(const char *a, const char *b)
{
    while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b))
        a++, b++;
    return *a == *b;
}

/* One header line, "Name: value", into r. */
static int parse_header(struct parser *p, struct request *r, char *line)
{
    char *colon = strchr(line, ':'), *value;
    if (!colon || colon == line)
        return fail(p, -EPROTO, "line %u: a header needs 'Name: value': \"%s\"",
                    p->line, line);
    if (r->nheaders == MAX_HEADERS)
        return fail(p, -EPROTO, "line %u: more than %d headers", p->line,
                    MAX_HEADERS);
    *colon = '\0';
    for (value = colon + 1; *value == ' ' || *value == '\t'; value++)
        ;
    if (strlen(line) >= sizeof r->header[0].name ||
        strlen(value) >= sizeof r->header[0].value)
        return fail(p, -EMSGSIZE, "line %u: header too long", p->line);
    memcpy(r->header[r->nheaders].name, line, strlen(line) + 1);
    memcpy(r->header[r->nheaders].value, value, strlen(value) + 1);
    r->nheaders++;
    if (same_name(line, "Content-Length")) {
        char *end;
        unsigned long n = strtoul(value, &end, 10);
        if (end == value || *end || n >= sizeof r->body)
            return fail(p, -EPROTO, "line %u: bad Content-Length \"%s\"",
                        p->line, value);
        r->body_len = n;
    }
    return 0;
}

/* The parser: requests, one after another, until the input ends. */
static int parse(void *arg, void **result)
{
    struct parser *p = arg;
    char line[128];
    intptr_t count = 0;
    int rc;
    for (;;) {
        struct request *r = &p->req;
        int end = 0;
        memset(r, 0, sizeof *r);
        rc = next_line(p, line, sizeof line); /* the request line */
        if (rc == CORIO_END && p->len == 0)
            break; /* the input may end between requests, only there */
        if (rc)
            goto bad;
        sscanf(line, "%15s %63s HTTP/1.1%n", r->method, r->target, &end);
        if (end == 0 || line[end] != '\0')
            return fail(p, -EPROTO, "line %u: not an HTTP/1.1 request line: \"%s\"",
                        p->line, line);
        for (;;) { /* headers, up to an empty line */
            if ((rc = next_line(p, line, sizeof line)) != 0)
                goto bad;
            if (line[0] == '\0')
                break;
            if ((rc = parse_header(p, r, line)) != 0)
                return rc;
        }
        if (r->body_len && (rc = read_body(p, r->body, r->body_len)) != 0)
            goto bad;
        count++;
        if ((rc = corio_yield(r, NULL)) != 0) /* hand the request out */
            return rc;
    }
    *result = (void *)count;
    return 0;
bad:
    if (rc == CORIO_END)
        return fail(p, -EPROTO, "the input ends inside request %ld",
                    (long)count + 1);
    return rc;
}

static void print_request(const struct request *r, unsigned nchunk)
{
    int i;
    printf("  %s %s (complete in chunk %u)\n", r->method, r->target, nchunk);
    for (i = 0; i < r->nheaders; i++)
        printf("    %s = \"%s\"\n", r->header[i].name, r->header[i].value);
    if (r->body_len)
        printf("    body: %zu bytes, \"%.*s\"\n", r->body_len,
               (int)r->body_len, r->body);
}

/* Feeds size bytes of text to a new parser, chunk bytes at a time (the
 * last chunk may be shorter; then a chunk of length 0 ends the input).
 * Returns the number of requests, or the parser's error with its message
 * in error[96]; prints each request if verbose. */
static long feed(const char *text, size_t size, size_t chunk, int verbose,
                 char *error)
{
    static const corio_coro_opts opts = {.name = "http_parser"};
    struct parser *p = calloc(1, sizeof *p);
    corio_coro *co;
    void *out = NULL;
    size_t off = 0;
    unsigned nchunk = 0;
    int rc;
    if (!p)
        return -ENOMEM;
    if ((rc = corio_coro_new(parse, p, &opts, &co)) != 0) {
        free(p);
        return rc;
    }
    rc = corio_coro_resume(co, NULL, &out); /* start it: it asks for input */
    while (rc == CORIO_YIELDED) {
        struct chunk c = {text + off, size - off < chunk ? size - off : chunk};
        off += c.len;
        nchunk++;
        rc = corio_coro_resume(co, &c, &out); /* here is some input */
        while (rc == CORIO_YIELDED && out != NULL) { /* a request */
            if (verbose)
                print_request(out, nchunk);
            rc = corio_coro_resume(co, NULL, &out); /* go on */
        }
    }
    /* rc: CORIO_FINISHED (0), out the count; or the parser's error */
    strcpy(error, p->error);
    corio_coro_free(co);
    free(p);
    return rc == CORIO_FINISHED ? (long)(intptr_t)out : rc;
}

static const char requests[] =
    "GET /status HTTP/1.1\r\n"
    "Host: sensors.example\r\n"
    "Accept: text/plain\r\n"
    "\r\n"
    "POST /readings HTTP/1.1\r\n"
    "Host: sensors.example\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 21\r\n"
    "\r\n"
    "t=21.5 rh=40 p=1013.2";

int main(void)
{
    const size_t size = sizeof requests - 1;
    char error[96];
    long n, got;
    size_t chunk;
    int failures = 0;

    printf("two pipelined requests, %zu bytes, fed 7 bytes at a time; each is "
           "handed out\nas soon as the chunk that completes it arrives:\n", size);
    n = feed(requests, size, 7, 1, error);
    printf("end of input after %zu chunks: the parser returned %ld requests\n\n",
           (size + 6) / 7 + 1, n);
    failures += n != 2;

    /* Whatever the chunks, the same requests: the parser cannot tell. */
    for (chunk = 1; chunk <= size; chunk++)
        if ((got = feed(requests, size, chunk, 0, error)) != n) {
            printf("chunks of %zu bytes: %ld (%s)\n", chunk, got, error);
            failures++;
        }
    printf("every chunk size from 1 to %zu bytes gives the same %ld requests\n\n",
           size, n);

    static const char bad[] = "GET / HTTP/1.1\r\nHost sensors.example\r\n\r\n";
    got = feed(bad, sizeof bad - 1, 5, 0, error);
    printf("a header without ':': %s, %s\n", corio_errname((int)got), error);
    failures += got != -EPROTO;

    got = feed(requests, size - 10, 7, 0, error);
    printf("the same input cut 10 bytes short: %s, %s\n", corio_errname((int)got),
           error);
    failures += got != -EPROTO;

    if (failures)
        printf("%d check(s) failed\n", failures);
    return failures != 0;
}
