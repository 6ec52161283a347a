/*
 * tls.c: TLS streams through OpenSSL 3 (contract in corio/tls.h), or, in
 * a build without OpenSSL (no CORIO_HAVE_OPENSSL), the same calls
 * answering CORIO_ENOTBUILT.
 *
 * OpenSSL does no I/O of its own here: its BIO is ours (send with
 * MSG_NOSIGNAL, so a closed peer is -EPIPE and never SIGPIPE; recv), and
 * a call that would block comes back to stream.c as
 * CORIO__TLS_WANT_READ/_WRITE, which waits on the descriptor through
 * corio and calls again: a task waits, the thread never blocks. SSL_write
 * is always retried with the same pending bytes (the write buffer), and
 * partial writes and moving buffers are allowed, so a cancelled drain
 * leaves TLS consistent. Unexpected EOF (no close_notify) is an error
 * (CORIO_ETLS), since it may be a truncation attack.
 */
#include "alloc.h"
#include "io/io_impl.h"
#include "net/stream_impl.h"

#include <corio/io.h>
#include <corio/task.h>
#include <corio/tls.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CORIO_HAVE_OPENSSL

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <sys/socket.h>

struct corio_tls_ctx {
    SSL_CTX *ctx;
    int server;
    unsigned char alpn[256]; /* wire format: length-prefixed names */
    size_t alpn_len;
};

struct corio__tls {
    SSL *ssl;
    char alpn[256]; /* what ALPN chose, "" for nothing */
};

/* ---- the BIO: send/recv on the stream's descriptor ---------------------- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_write(BIO *b, const char *buf, int len)
{
    int fd = (int)(intptr_t)BIO_get_data(b);
    ssize_t n;
    BIO_clear_retry_flags(b);
    do
        n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_write(b);
    return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    int fd = (int)(intptr_t)BIO_get_data(b);
    ssize_t n;
    BIO_clear_retry_flags(b);
    do
        n = recv(fd, buf, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        BIO_set_retry_read(b);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                                 "corio socket");
    if (!m)
        return;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    bio_method = m;
}

/* ---- errors ------------------------------------------------------------- */

/* After a failed SSL call: the code, and the reason into s->tls_err. */
static int fail(corio_stream *s, int ret, int saved_errno)
{
    SSL *ssl = s->tls->ssl;
    int e = SSL_get_error(ssl, ret);
    unsigned long q;
    long v;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return CORIO__TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return CORIO__TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        break;
    }
    v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) {
        snprintf(s->tls_err, sizeof s->tls_err, "%s",
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
        return CORIO_ECERT;
    }
    q = ERR_peek_error();
    if (q) {
        ERR_error_string_n(q, s->tls_err, sizeof s->tls_err);
        ERR_clear_error();
        return CORIO_ETLS;
    }
    if (e == SSL_ERROR_SYSCALL && saved_errno) {
        snprintf(s->tls_err, sizeof s->tls_err, "%s", strerror(saved_errno));
        return -saved_errno;
    }
    snprintf(s->tls_err, sizeof s->tls_err, "%s",
             "connection closed without close_notify");
    return CORIO_ETLS;
}

/* ---- contexts ------------------------------------------------------------ */

int corio_tls_available(void)
{
    return 1;
}

static int parse_alpn(const char *list, unsigned char *out, size_t *len)
{
    size_t n = 0;
    const char *p = list, *e;
    while (*p) {
        size_t l;
        e = strchr(p, ',');
        l = e ? (size_t)(e - p) : strlen(p);
        if (l == 0 || l > 255 || n + 1 + l > 256)
            return -EINVAL;
        out[n++] = (unsigned char)l;
        memcpy(out + n, p, l);
        n += l;
        p += l + (e ? 1 : 0);
        if (e && !*p)
            return -EINVAL;
    }
    if (n == 0)
        return -EINVAL;
    *len = n;
    return 0;
}

static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
    corio_tls_ctx *c = arg;
    unsigned char *o;
    (void)ssl;
    if (SSL_select_next_proto(&o, outlen, c->alpn, (unsigned)c->alpn_len,
                              in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

int corio_tls_ctx_new(const corio_tls_opts *opts, corio_tls_ctx **out)
{
    static const corio_tls_opts none;
    const corio_tls_opts *o = opts ? opts : &none;
    corio_tls_ctx *c;
    int rc = CORIO_ETLS;
    if (!out)
        return -EINVAL;
    if (o->server && (!o->cert_file || !o->key_file))
        return -EINVAL;
    if ((o->cert_file == NULL) != (o->key_file == NULL))
        return -EINVAL;
    c = corio__calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    if (o->alpn && parse_alpn(o->alpn, c->alpn, &c->alpn_len) != 0) {
        corio__free(c);
        return -EINVAL;
    }
    c->server = o->server ? 1 : 0;
    c->ctx = SSL_CTX_new(c->server ? TLS_server_method() : TLS_client_method());
    if (!c->ctx) {
        corio__free(c);
        return -ENOMEM;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (o->cert_file &&
        (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert_file) != 1 ||
         SSL_CTX_use_PrivateKey_file(c->ctx, o->key_file, SSL_FILETYPE_PEM) !=
             1 ||
         SSL_CTX_check_private_key(c->ctx) != 1))
        goto fail;
    if (!c->server) {
        if (o->ca_file) {
            if (SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1)
                goto fail;
        } else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
            goto fail;
        }
        SSL_CTX_set_verify(c->ctx,
                           o->no_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                           NULL);
        if (c->alpn_len &&
            SSL_CTX_set_alpn_protos(c->ctx, c->alpn, (unsigned)c->alpn_len))
            goto fail;
    } else if (c->alpn_len) {
        SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select, c);
    }
    ERR_clear_error();
    *out = c;
    return 0;
fail:
    ERR_clear_error();
    SSL_CTX_free(c->ctx);
    corio__free(c);
    return rc;
}

void corio_tls_ctx_free(corio_tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ctx); /* reference counted: live SSLs keep it */
    corio__free(ctx);
}

/* ---- streams ------------------------------------------------------------- */

static int set_name(SSL *ssl, const char *name)
{
    unsigned char ip[16];
    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
                   ? 0 : -ENOMEM;
    if (SSL_set_tlsext_host_name(ssl, name) != 1 || SSL_set1_host(ssl, name) != 1)
        return -ENOMEM;
    return 0;
}

int corio_stream_start_tls(corio_stream *s, corio_tls_ctx *ctx,
                           const char *name)
{
    BIO *bio;
    int rc, r;
    if (!s || !ctx)
        return -EINVAL;
    if (s->tls)
        return -EALREADY;
    if (s->rend > s->rstart || s->wend > s->wstart)
        return -EBUSY;
    if (!corio_task_current())
        return CORIO_ENOTASK;
    pthread_once(&bio_once, make_method);
    if (!bio_method || !(s->tls = corio__calloc(1, sizeof *s->tls)))
        return -ENOMEM;
    s->tls_err[0] = 0;
    s->tls->ssl = SSL_new(ctx->ctx);
    bio = BIO_new(bio_method);
    if (!s->tls->ssl || !bio) {
        BIO_free(bio);
        rc = -ENOMEM;
        goto fail;
    }
    BIO_set_data(bio, (void *)(intptr_t)s->fd);
    SSL_set_bio(s->tls->ssl, bio, bio);
    if (ctx->server)
        SSL_set_accept_state(s->tls->ssl);
    else {
        SSL_set_connect_state(s->tls->ssl);
        if (name && (rc = set_name(s->tls->ssl, name)) != 0)
            goto fail;
    }
    for (;;) {
        errno = 0;
        r = SSL_do_handshake(s->tls->ssl);
        if (r == 1) {
            const unsigned char *p;
            unsigned int len;
            SSL_get0_alpn_selected(s->tls->ssl, &p, &len);
            if (len) /* len < 256: a one-byte length */
                memcpy(s->tls->alpn, p, len);
            s->tls->alpn[len] = 0;
            return 0;
        }
        rc = fail(s, r, errno);
        if (rc == 0)
            rc = CORIO_ETLS; /* closed during the handshake */
        if (rc == CORIO__TLS_WANT_READ || rc == CORIO__TLS_WANT_WRITE)
            rc = corio__tls_wait(s, rc);
        if (rc)
            goto fail;
    }
fail:
    corio__tls_free(s);
    return rc;
}

const char *corio_stream_alpn(const corio_stream *s)
{
    if (!s || !s->tls || !s->tls->alpn[0])
        return NULL;
    return s->tls->alpn;
}

ssize_t corio__tls_read(corio_stream *s, void *buf, size_t n)
{
    size_t got = 0;
    int r;
    errno = 0;
    r = SSL_read_ex(s->tls->ssl, buf, n, &got);
    if (r == 1)
        return (ssize_t)got;
    return fail(s, 0, errno);
}

ssize_t corio__tls_write(corio_stream *s, const void *buf, size_t n)
{
    size_t put = 0;
    int r;
    errno = 0;
    r = SSL_write_ex(s->tls->ssl, buf, n, &put);
    if (r == 1)
        return (ssize_t)put;
    r = fail(s, 0, errno);
    return r == 0 ? -EPIPE : r;
}

int corio__tls_shutdown(corio_stream *s)
{
    int r;
    errno = 0;
    r = SSL_shutdown(s->tls->ssl);
    if (r >= 0)
        return 0; /* ours is sent (1: theirs came too) */
    return fail(s, r, errno);
}

void corio__tls_free(corio_stream *s)
{
    if (!s->tls)
        return;
    SSL_free(s->tls->ssl);
    corio__free(s->tls);
    s->tls = NULL;
}

#else /* !CORIO_HAVE_OPENSSL */

int corio_tls_available(void)
{
    return 0;
}

int corio_tls_ctx_new(const corio_tls_opts *opts, corio_tls_ctx **out)
{
    (void)opts;
    return out ? CORIO_ENOTBUILT : -EINVAL;
}

void corio_tls_ctx_free(corio_tls_ctx *ctx)
{
    (void)ctx;
}

int corio_stream_start_tls(corio_stream *s, corio_tls_ctx *ctx,
                           const char *name)
{
    (void)name;
    return s && ctx ? CORIO_ENOTBUILT : -EINVAL;
}

const char *corio_stream_alpn(const corio_stream *s)
{
    (void)s;
    return NULL;
}

ssize_t corio__tls_read(corio_stream *s, void *buf, size_t n)
{
    (void)s;
    (void)buf;
    (void)n;
    return CORIO_ENOTBUILT;
}

ssize_t corio__tls_write(corio_stream *s, const void *buf, size_t n)
{
    (void)s;
    (void)buf;
    (void)n;
    return CORIO_ENOTBUILT;
}

int corio__tls_shutdown(corio_stream *s)
{
    (void)s;
    return CORIO_ENOTBUILT;
}

void corio__tls_free(corio_stream *s)
{
    (void)s;
}

#endif /* CORIO_HAVE_OPENSSL */

const char *corio_stream_tls_error(const corio_stream *s)
{
    return s ? s->tls_err : "";
}
