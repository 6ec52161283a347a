/*
 * corio/tls.h: TLS for streams, through OpenSSL 3 when the build found it
 * (libssl-dev). A TLS stream is a stream: after corio_stream_start_tls,
 * every call of stream.h reads and writes plaintext through TLS.
 *
 * Without OpenSSL every call here returns CORIO_ENOTBUILT (or NULL / 0 for
 * the queries); corio_tls_available says which build this is.
 *
 * Client side: the peer's certificate is verified against the system's
 * trust store (or ca_file) and its name checked against the name given to
 * start_tls, which is also sent as SNI; both on by default. Server side: a
 * certificate chain and its key. ALPN on both sides.
 *
 * Errors of the handshake and of later reads and writes: CORIO_ECERT (the
 * certificate was refused: unknown CA, wrong name, expired) and CORIO_ETLS
 * (anything else: a peer that does not speak TLS, a protocol error, a
 * connection cut without close_notify); corio_stream_tls_error gives the
 * reason in words.
 */
#ifndef CORIO_TLS_H
#define CORIO_TLS_H

#include <stddef.h>
#include "error.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_tls_ctx corio_tls_ctx;

/* What a TLS context is for. NULL fields: defaults. */
typedef struct corio_tls_opts {
    int server;            /* 1: accept TLS connections (needs cert, key) */
    const char *cert_file; /* PEM certificate chain (server; client cert) */
    const char *key_file;  /* PEM private key of cert_file */
    const char *ca_file;   /* PEM trust anchors (NULL: the system's) */
    int no_verify;         /* 1: do not verify the peer (tests only!) */
    const char *alpn;      /* protocols, comma-separated, by preference:
                              "h2,http/1.1" */
} corio_tls_opts;

/* corio_tls_available: 1 when TLS is built in, else 0. */
CORIO_API int corio_tls_available(void);

/*
 * corio_tls_ctx_new: a context (certificates, trust, ALPN) shared by any
 * number of streams. Never suspends. Returns 0 with *out set (free with
 * corio_tls_ctx_free once no stream starts TLS with it any more; streams
 * keep what they need), -EINVAL (out NULL, server without cert_file or
 * key_file, an ALPN name longer than 255 bytes or empty), CORIO_ETLS (a
 * file that cannot be loaded, a key that does not match), -ENOMEM,
 * CORIO_ENOTBUILT.
 */
CORIO_API int corio_tls_ctx_new(const corio_tls_opts *opts,
                                corio_tls_ctx **out);

/* corio_tls_ctx_free: free a context (NULL: nothing). */
CORIO_API void corio_tls_ctx_free(corio_tls_ctx *ctx);

/*
 * corio_stream_start_tls: run the TLS handshake on s (client or server
 * as ctx says) and from then on read and write through TLS. name: the
 * server's name for a client (SNI and the certificate check; an IP
 * literal is checked as an address; NULL: no name check, only the
 * chain), ignored for a server. Nothing may be buffered in s yet (-EBUSY
 * otherwise). Suspends during the handshake; runs under the caller's
 * cancel scopes (a deadline cuts it short: -ECANCELED, and s is unusable
 * for TLS). Returns 0, CORIO_ECERT, CORIO_ETLS, the socket's errors,
 * -ECANCELED, -EINVAL (s or ctx NULL), -EALREADY (TLS already started),
 * -ENOMEM, CORIO_ENOTASK, CORIO_ENOTBUILT.
 */
CORIO_API int corio_stream_start_tls(corio_stream *s, corio_tls_ctx *ctx,
                                     const char *name);

/* corio_stream_alpn: the protocol ALPN chose, or NULL (none, no TLS, s
 * NULL). Valid while s lives. */
CORIO_API const char *corio_stream_alpn(const corio_stream *s);

/* corio_stream_tls_error: the reason of s's last TLS failure in words
 * ("certificate has expired", "hostname mismatch", "wrong version
 * number"...), or "" (none, s NULL). Valid until the next call on s. */
CORIO_API const char *corio_stream_tls_error(const corio_stream *s);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_TLS_H */
