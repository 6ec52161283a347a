/*
 * resolve_impl.h: what resolve.c (the public calls: checks, the numeric
 * fast path, copies) asks of a resolver backend: resolve_ares.c (c-ares
 * on the loop's poller, when built with CORIO_HAVE_CARES) or
 * resolve_thread.c (the C library's getaddrinfo on another thread).
 *
 * Both take the running task t and may suspend it; both are cancellable
 * (-ECANCELED, nothing kept) and return 0 or a negative corio code
 * (corio__gai_error maps EAI_* codes; c-ares codes are mapped in
 * resolve_ares.c). Results come back as lists made by corio__ai_push
 * (freed by corio_freeaddrinfo).
 */
#ifndef CORIO_NET_RESOLVE_IMPL_H
#define CORIO_NET_RESOLVE_IMPL_H

#include <corio/net.h>
#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>

/* Map getaddrinfo/getnameinfo's EAI_* code (err: errno for EAI_SYSTEM). */
int corio__gai_error(int eai, int err);

/* Append a copy of one address to the list at *tail (advanced). 0 or
 * -ENOMEM. canon may be NULL. */
int corio__ai_push(struct addrinfo ***tail, int flags, int family,
                   int socktype, int protocol, const struct sockaddr *sa,
                   socklen_t salen, const char *canon);

/* Copy a C-library list into ours. 0 or -ENOMEM (*out untouched). */
int corio__ai_copy(const struct addrinfo *src, struct addrinfo **out);

int corio__resolve_thread_gai(const char *host, const char *serv,
                              const struct addrinfo *hints,
                              struct addrinfo **res);
int corio__resolve_thread_gni(const struct sockaddr *sa, socklen_t salen,
                              char *host, size_t hostlen, char *serv,
                              size_t servlen, int flags);

#ifdef CORIO_HAVE_CARES
int corio__resolve_ares_gai(const char *host, const char *serv,
                            const struct addrinfo *hints,
                            struct addrinfo **res);
int corio__resolve_ares_gni(const struct sockaddr *sa, socklen_t salen,
                            char *host, size_t hostlen, char *serv,
                            size_t servlen, int flags);
#endif

#endif /* CORIO_NET_RESOLVE_IMPL_H */
