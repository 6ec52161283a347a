/*
 * resolve.c: corio_getaddrinfo / corio_getnameinfo (contract in
 * corio/net.h): argument checks, the numeric fast path, the error
 * mapping, and our own copy of every result list.
 *
 * Results are ours, not the C library's or c-ares's: each node is one
 * allocation holding the addrinfo and its address (the canonical name is
 * a second one), so corio_freeaddrinfo frees lists of either backend.
 *
 * Backend: c-ares when built in (CORIO_HAVE_CARES), the thread otherwise;
 * CORIO_RESOLVER=thread in the environment picks the thread even when
 * c-ares is there (tests run both).
 */
#include "alloc.h"
#include "net/resolve_impl.h"
#include "task/task_impl.h"

#include <corio/net.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int corio__gai_error(int eai, int err)
{
    switch (eai) {
    case 0:
        return 0;
    case EAI_NONAME:
        return CORIO_ENOTFOUND;
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
        return CORIO_ENOADDRESS;
    case EAI_AGAIN:
        return CORIO_ETRYAGAIN;
    case EAI_FAIL:
        return CORIO_ERESOLVE;
    case EAI_SERVICE:
        return CORIO_ESERVICE;
    case EAI_FAMILY:
        return -EAFNOSUPPORT;
    case EAI_SOCKTYPE:
    case EAI_BADFLAGS:
        return -EINVAL;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_OVERFLOW:
        return -ENOSPC;
    case EAI_SYSTEM:
        return err > 0 ? -err : CORIO_ERESOLVE;
    default:
        return CORIO_ERESOLVE;
    }
}

int corio__ai_push(struct addrinfo ***tail, int flags, int family,
                   int socktype, int protocol, const struct sockaddr *sa,
                   socklen_t salen, const char *canon)
{
    struct addrinfo *a;
    if (salen > sizeof(struct sockaddr_storage))
        salen = sizeof(struct sockaddr_storage);
    a = corio__calloc(1, sizeof *a + sizeof(struct sockaddr_storage));
    if (!a)
        return -ENOMEM;
    a->ai_flags = flags;
    a->ai_family = family;
    a->ai_socktype = socktype;
    a->ai_protocol = protocol;
    a->ai_addrlen = salen;
    a->ai_addr = (struct sockaddr *)(a + 1);
    memcpy(a->ai_addr, sa, salen);
    if (canon && !(a->ai_canonname = corio__strdup(canon))) {
        corio__free(a);
        return -ENOMEM;
    }
    **tail = a;
    *tail = &a->ai_next;
    return 0;
}

int corio__ai_copy(const struct addrinfo *src, struct addrinfo **out)
{
    struct addrinfo *list = NULL, **tail = &list;
    int rc;
    for (; src; src = src->ai_next) {
        rc = corio__ai_push(&tail, src->ai_flags, src->ai_family,
                            src->ai_socktype, src->ai_protocol, src->ai_addr,
                            src->ai_addrlen, src->ai_canonname);
        if (rc) {
            corio_freeaddrinfo(list);
            return rc;
        }
    }
    *out = list;
    return 0;
}

void corio_freeaddrinfo(struct addrinfo *res)
{
    while (res) {
        struct addrinfo *next = res->ai_next;
        corio__free(res->ai_canonname);
        corio__free(res);
        res = next;
    }
}

static int use_thread(void)
{
#ifdef CORIO_HAVE_CARES
    const char *e = getenv("CORIO_RESOLVER");
    return e && strcmp(e, "thread") == 0;
#else
    return 1;
#endif
}

const char *corio_resolver(void)
{
    return use_thread() ? "thread" : "c-ares";
}

/* A host that needs no lookup: NULL, or an IPv4/IPv6 literal (with an
 * optional %scope for IPv6). */
static int numeric_host(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    char tmp[INET6_ADDRSTRLEN + 1];
    const char *pct;
    if (!host)
        return 1;
    if (inet_pton(AF_INET, host, buf) == 1)
        return 1;
    pct = strchr(host, '%');
    if (pct) {
        if ((size_t)(pct - host) >= sizeof tmp)
            return 0;
        memcpy(tmp, host, (size_t)(pct - host));
        tmp[pct - host] = 0;
        host = tmp;
    }
    return inet_pton(AF_INET6, host, buf) == 1;
}

static int numeric_serv(const char *serv)
{
    char *end;
    if (!serv)
        return 1;
    if (!*serv)
        return 0;
    (void)strtoul(serv, &end, 10);
    return *end == 0;
}

int corio_getaddrinfo(const char *host, const char *service,
                      const struct addrinfo *hints, struct addrinfo **res)
{
    struct addrinfo *r = NULL, h;
    int rc, e;
    if (!res || (!host && !service))
        return -EINVAL;
    if ((host && !*host) || (service && !*service))
        return -EINVAL; /* an empty name is no name */
    if (!corio__task_running())
        return CORIO_ENOTASK;
    if (hints && (hints->ai_addrlen || hints->ai_addr ||
                  hints->ai_canonname || hints->ai_next))
        return -EINVAL;
    if (numeric_host(host) && numeric_serv(service)) {
        /* No lookup to wait for: answer now (the cancel rule). */
        memset(&h, 0, sizeof h);
        if (hints)
            h = *hints;
        h.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
        e = getaddrinfo(host, service, &h, &r);
        if (e)
            return corio__gai_error(e, errno);
        rc = corio__ai_copy(r, res);
        freeaddrinfo(r);
        return rc;
    }
    if (hints && (hints->ai_flags & AI_NUMERICHOST) && !numeric_host(host))
        return CORIO_ENOTFOUND; /* as getaddrinfo says EAI_NONAME */
#ifdef CORIO_HAVE_CARES
    if (!use_thread())
        return corio__resolve_ares_gai(host, service, hints, res);
#endif
    return corio__resolve_thread_gai(host, service, hints, res);
}

int corio_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
                      size_t hostlen, char *serv, size_t servlen, int flags)
{
    int e;
    if (!sa || (!host && !serv) || (host && !hostlen) || (serv && !servlen))
        return -EINVAL;
    if ((sa->sa_family == AF_INET && salen < sizeof(struct sockaddr_in)) ||
        (sa->sa_family == AF_INET6 && salen < sizeof(struct sockaddr_in6)))
        return -EINVAL;
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
        return -EAFNOSUPPORT;
    if (!corio__task_running())
        return CORIO_ENOTASK;
    if ((!host || (flags & NI_NUMERICHOST)) &&
        (!serv || (flags & NI_NUMERICSERV))) {
        e = getnameinfo(sa, salen, host, host ? (socklen_t)hostlen : 0, serv,
                        serv ? (socklen_t)servlen : 0, flags);
        return e ? corio__gai_error(e, errno) : 0;
    }
#ifdef CORIO_HAVE_CARES
    if (!use_thread())
        return corio__resolve_ares_gni(sa, salen, host, hostlen, serv,
                                       servlen, flags);
#endif
    return corio__resolve_thread_gni(sa, salen, host, hostlen, serv, servlen,
                                     flags);
}
