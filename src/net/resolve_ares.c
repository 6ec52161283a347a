/*
 * resolve_ares.c: name resolution through c-ares, on the calling task
 * (built when configure found c-ares: CORIO_HAVE_CARES).
 *
 * Each lookup has its own channel (so /etc/resolv.conf and /etc/hosts
 * are read as they are now) and its own mux (mux.h): c-ares tells us
 * which sockets to watch (sock_state_cb) and when to come back
 * (ares_timeout); the task waits on the mux, then lets c-ares process
 * what is ready (ares_process_fd). No thread is involved. Numeric
 * addresses and /etc/hosts answers come back inside ares_getaddrinfo
 * itself, so such a lookup never waits (and succeeds with a cancel
 * standing). A cancelled wait destroys the channel, which ends the
 * query (its callback sees ARES_EDESTRUCTION) and closes its sockets.
 */
#ifdef CORIO_HAVE_CARES

#include "net/mux.h"
#include "net/resolve_impl.h"

#include <ares.h>
#include <corio/error.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>

struct lookup {
    corio__mux mux;
    int done;
    int status; /* ARES_* */
    int rc;     /* corio code once done */
    struct addrinfo *res;
    char *host, *serv;
    size_t hostlen, servlen;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status;

static void library_init(void)
{
    init_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static int ares_error(int status)
{
    switch (status) {
    case ARES_SUCCESS:
        return 0;
    case ARES_ENOTFOUND:
    case ARES_ENONAME:
    case ARES_EBADNAME:
        return CORIO_ENOTFOUND;
    case ARES_ENODATA:
        return CORIO_ENOADDRESS;
    case ARES_ETIMEOUT:
    case ARES_ESERVFAIL:
    case ARES_ECONNREFUSED:
        return CORIO_ETRYAGAIN;
    case ARES_ESERVICE:
        return CORIO_ESERVICE;
    case ARES_ENOMEM:
        return -ENOMEM;
    case ARES_EBADFAMILY:
        return -EAFNOSUPPORT;
    case ARES_EBADFLAGS:
    case ARES_EBADHINTS:
    case ARES_EBADQUERY:
        return -EINVAL;
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
        return -ECANCELED;
    default:
        return CORIO_ERESOLVE;
    }
}

static void sock_state(void *data, ares_socket_t fd, int readable,
                       int writable)
{
    struct lookup *l = data;
    unsigned ev = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
    if (!ev) {
        corio__mux_unwatch(&l->mux, fd);
        return;
    }
    if (corio__mux_watch(&l->mux, fd, ev, (uint64_t)fd, 0) == -ENOENT)
        corio__mux_watch(&l->mux, fd, ev, (uint64_t)fd, 1);
}

static int open_channel(struct lookup *l, ares_channel *ch)
{
    struct ares_options o;
    int rc;
    pthread_once(&init_once, library_init);
    if (init_status != ARES_SUCCESS)
        return ares_error(init_status);
    if ((rc = corio__mux_open(&l->mux)) != 0)
        return rc;
    memset(&o, 0, sizeof o);
    o.sock_state_cb = sock_state;
    o.sock_state_cb_data = l;
    rc = ares_init_options(ch, &o, ARES_OPT_SOCK_STATE_CB);
    if (rc != ARES_SUCCESS) {
        corio__mux_close(&l->mux);
        return ares_error(rc);
    }
    return 0;
}

/* Drive the channel until the lookup is done. 0, or the wait's error
 * (the channel is destroyed either way). */
static int drive(struct lookup *l, ares_channel ch)
{
    struct epoll_event ev[8];
    struct timeval tv, *tvp;
    int n, i, rc = 0;
    while (!l->done) {
        tvp = ares_timeout(ch, NULL, &tv);
        corio__mux_timer(&l->mux,
                         tvp ? (double)tvp->tv_sec + tvp->tv_usec / 1e6 : -1);
        n = corio__mux_wait(&l->mux, ev, 8);
        if (n < 0) {
            rc = n;
            break;
        }
        for (i = 0; i < n; i++) {
            if (ev[i].data.u64 == CORIO__MUX_TIMER)
                continue;
            ares_process_fd(ch,
                            (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                                ? (ares_socket_t)ev[i].data.u64
                                : ARES_SOCKET_BAD,
                            (ev[i].events & (EPOLLOUT | EPOLLERR))
                                ? (ares_socket_t)ev[i].data.u64
                                : ARES_SOCKET_BAD);
        }
        ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
    }
    ares_destroy(ch); /* a query still under way ends now */
    corio__mux_close(&l->mux);
    return rc;
}

static void gai_done(void *arg, int status, int timeouts,
                     struct ares_addrinfo *ai)
{
    struct lookup *l = arg;
    struct ares_addrinfo_node *n;
    struct addrinfo *list = NULL, **tail = &list;
    const char *canon = NULL;
    (void)timeouts;
    l->done = 1;
    l->status = status;
    l->rc = ares_error(status);
    if (status == ARES_SUCCESS && ai) {
        if (ai->cnames)
            canon = ai->cnames->name;
        else
            canon = ai->name;
        for (n = ai->nodes; n && l->rc == 0; n = n->ai_next) {
            l->rc = corio__ai_push(&tail, n->ai_flags, n->ai_family,
                                   n->ai_socktype, n->ai_protocol, n->ai_addr,
                                   (socklen_t)n->ai_addrlen,
                                   n == ai->nodes ? canon : NULL);
        }
        if (l->rc == 0 && !list)
            l->rc = CORIO_ENOADDRESS;
        if (l->rc != 0)
            corio_freeaddrinfo(list);
        else
            l->res = list;
    }
    if (ai)
        ares_freeaddrinfo(ai);
}

int corio__resolve_ares_gai(const char *host, const char *serv,
                            const struct addrinfo *hints,
                            struct addrinfo **res)
{
    struct lookup l;
    struct ares_addrinfo_hints h;
    ares_channel ch;
    int rc;
    memset(&l, 0, sizeof l);
    memset(&h, 0, sizeof h);
    if (hints) {
        h.ai_flags = hints->ai_flags & (AI_CANONNAME | AI_NUMERICHOST |
                                        AI_NUMERICSERV | AI_PASSIVE);
        h.ai_family = hints->ai_family;
        h.ai_socktype = hints->ai_socktype;
        h.ai_protocol = hints->ai_protocol;
    }
    if ((rc = open_channel(&l, &ch)) != 0)
        return rc;
    ares_getaddrinfo(ch, host, serv, &h, gai_done, &l);
    rc = drive(&l, ch);
    if (rc != 0) {
        corio_freeaddrinfo(l.res);
        return rc;
    }
    if (l.rc == 0)
        *res = l.res;
    return l.rc;
}

static void gni_done(void *arg, int status, int timeouts, char *node,
                     char *service)
{
    struct lookup *l = arg;
    (void)timeouts;
    l->done = 1;
    l->rc = ares_error(status);
    if (l->rc != 0)
        return;
    if (l->host) {
        if (!node || strlen(node) >= l->hostlen)
            l->rc = node ? -ENOSPC : CORIO_ENOTFOUND;
        else
            strcpy(l->host, node);
    }
    if (l->rc == 0 && l->serv) {
        if (!service || strlen(service) >= l->servlen)
            l->rc = service ? -ENOSPC : CORIO_ENOTFOUND;
        else
            strcpy(l->serv, service);
    }
}

int corio__resolve_ares_gni(const struct sockaddr *sa, socklen_t salen,
                            char *host, size_t hostlen, char *serv,
                            size_t servlen, int flags)
{
    struct lookup l;
    ares_channel ch;
    int af = 0, rc;
    memset(&l, 0, sizeof l);
    l.host = host;
    l.hostlen = hostlen;
    l.serv = serv;
    l.servlen = servlen;
    if (host)
        af |= ARES_NI_LOOKUPHOST;
    if (serv)
        af |= ARES_NI_LOOKUPSERVICE;
    if (flags & NI_NUMERICHOST)
        af |= ARES_NI_NUMERICHOST;
    if (flags & NI_NUMERICSERV)
        af |= ARES_NI_NUMERICSERV;
    if (flags & NI_NAMEREQD)
        af |= ARES_NI_NAMEREQD;
    if (flags & NI_DGRAM)
        af |= ARES_NI_DGRAM;
    if (flags & NI_NOFQDN)
        af |= ARES_NI_NOFQDN;
    if ((rc = open_channel(&l, &ch)) != 0)
        return rc;
    ares_getnameinfo(ch, sa, (ares_socklen_t)salen, af, gni_done, &l);
    rc = drive(&l, ch);
    return rc ? rc : l.rc;
}

#endif /* CORIO_HAVE_CARES */
