/*
 * test_dns.c: corio_getaddrinfo / corio_getnameinfo (net.h) on both
 * resolver backends: literals answered without waiting (cancel rule),
 * /etc/hosts names, errors that name what went wrong, cancellation
 * before and during a lookup.
 */
#include "test.h"
#include "cancel_rule.h"
#include "net_helpers.h"

#include <corio.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>

static void use_thread_backend(void)
{
    CHECK_EQ(setenv("CORIO_RESOLVER", "thread", 1), 0);
    CHECK(strcmp(corio_resolver(), "thread") == 0);
}

static int numeric_main(void *arg, void **result)
{
    struct addrinfo *res = NULL, h;
    struct sockaddr_in *sin;
    (void)arg;
    (void)result;
    memset(&h, 0, sizeof h);
    h.ai_socktype = SOCK_STREAM;
    /* With a cancel standing: answered at once, no suspension. */
    witness();
    cancel_self();
    CHECK_EQ(corio_getaddrinfo("127.0.0.1", "8080", &h, &res), 0);
    NOT_SUSPENDED();
    uncancel_self();
    CHECK(res != NULL);
    CHECK_EQ(res->ai_family, AF_INET);
    sin = (struct sockaddr_in *)res->ai_addr;
    CHECK_EQ(ntohs(sin->sin_port), 8080);
    CHECK_EQ(ntohl(sin->sin_addr.s_addr), 0x7f000001);
    corio_freeaddrinfo(res);
    res = NULL;
    CHECK_EQ(corio_getaddrinfo("::1", NULL, &h, &res), 0);
    CHECK_EQ(res->ai_family, AF_INET6);
    corio_freeaddrinfo(res);
    return 0;
}

TEST(dns_numeric_never_waits)
{
    net_run(numeric_main, NULL);
}

static int localhost_main(void *arg, void **result)
{
    struct addrinfo *res = NULL, *a, h;
    int seen4 = 0;
    (void)arg;
    (void)result;
    memset(&h, 0, sizeof h);
    h.ai_socktype = SOCK_STREAM;
    CHECK_EQ(corio_getaddrinfo("localhost", "80", &h, &res), 0);
    for (a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET &&
            ntohl(((struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr) ==
                0x7f000001)
            seen4 = 1;
    CHECK(seen4);
    corio_freeaddrinfo(res);
    return 0;
}

TEST(dns_localhost)
{
    net_run(localhost_main, NULL);
}

TEST(dns_localhost_thread)
{
    use_thread_backend();
    net_run(localhost_main, NULL);
}

static int errors_main(void *arg, void **result)
{
    struct addrinfo *res = NULL, h;
    int rc;
    (void)arg;
    (void)result;
    memset(&h, 0, sizeof h);
    CHECK_EQ(corio_getaddrinfo("", "80", NULL, &res), -EINVAL);
    CHECK_EQ(corio_getaddrinfo("localhost", "", NULL, &res), -EINVAL);
    CHECK_EQ(corio_getaddrinfo(NULL, NULL, NULL, &res), -EINVAL);
    h.ai_flags = AI_NUMERICHOST;
    CHECK_EQ(corio_getaddrinfo("not-an-address", "80", &h, &res),
             CORIO_ENOTFOUND);
    h.ai_flags = 0;
    h.ai_socktype = SOCK_STREAM;
    CHECK_EQ(corio_getaddrinfo("127.0.0.1", "no-such-service-xyz", &h, &res),
             CORIO_ESERVICE);
    /* A name nobody has: "not found" (or "try again" where there is no
     * name server), never -EINVAL. */
    rc = corio_getaddrinfo("nonexistent.invalid", "80", &h, &res);
    CHECK(rc == CORIO_ENOTFOUND || rc == CORIO_ETRYAGAIN ||
          rc == CORIO_ENOADDRESS || rc == CORIO_ERESOLVE);
    CHECK(res == NULL);
    CHECK(strcmp(corio_strerror(CORIO_ENOTFOUND), "unknown error") != 0);
    CHECK(strcmp(corio_errname(CORIO_ENOTFOUND), "CORIO_ENOTFOUND") == 0);
    CHECK(strcmp(corio_errname(CORIO_ETRYAGAIN), "CORIO_ETRYAGAIN") == 0);
    return 0;
}

TEST(dns_errors)
{
    net_run(errors_main, NULL);
}

TEST(dns_errors_thread)
{
    use_thread_backend();
    net_run(errors_main, NULL);
}

static int cancel_before_main(void *arg, void **result)
{
    struct addrinfo *res = NULL;
    int rc;
    (void)arg;
    (void)result;
    witness();
    cancel_self();
    /* A name needs a lookup: it would have to wait. (Where the resolver
     * fails at once, as c-ares does when it cannot send a query at all,
     * it need not wait and reports that failure; it never suspends.) */
    rc = corio_getaddrinfo("nonexistent.invalid", "80", NULL, &res);
    CHECK(rc == -ECANCELED || rc == CORIO_ENOTFOUND || rc == CORIO_ETRYAGAIN);
    NOT_SUSPENDED();
    CHECK(res == NULL);
    uncancel_self();
    return 0;
}

TEST(dns_cancel_before)
{
    net_run(cancel_before_main, NULL);
}

TEST(dns_cancel_before_thread)
{
    use_thread_backend();
    net_run(cancel_before_main, NULL);
}

struct lookup {
    const char *host;
    int rc;
    int started;
};

static int lookup_task(void *arg, void **result)
{
    struct lookup *l = arg;
    struct addrinfo *res = NULL;
    (void)result;
    l->started = 1;
    l->rc = corio_getaddrinfo(l->host, "80", NULL, &res);
    corio_freeaddrinfo(res);
    return 0;
}

static int cancel_during_main(void *arg, void **result)
{
    struct lookup l = {(const char *)arg, 99, 0};
    corio_task *t;
    (void)result;
    CHECK_EQ(corio_spawn(lookup_task, &l, NULL, &t), 0);
    while (!l.started)
        CHECK_EQ(corio_sleep(0), 0);
    corio_task_cancel(t);
    corio_task_join(t, NULL);
    corio_task_release(t);
    /* Cancelled while waiting, or done just before: either way nothing
     * leaks (ASan/Valgrind) and the answer is a known one. */
    CHECK(l.rc == -ECANCELED || l.rc == 0 || l.rc == CORIO_ENOTFOUND ||
          l.rc == CORIO_ETRYAGAIN || l.rc == CORIO_ENOADDRESS);
    return 0;
}

TEST(dns_cancel_during)
{
    net_run(cancel_during_main, "nonexistent.invalid");
}

TEST(dns_cancel_during_thread)
{
    use_thread_backend();
    net_run(cancel_during_main, "localhost");
}

/* The thread resolver runs on the pool's name resolution lane. With that
 * lane's one thread held by a job blocked on a pipe, a lookup stays
 * queued: the deadlock detector knows an answer may come (no deadlock
 * report while main waits for it), a cancel ends it at once. */
struct blocker {
    int fds[2];
    int entered[2];
};

static int block_fn(void *arg, void **result)
{
    struct blocker *b = arg;
    char c = 1;
    (void)result;
    CHECK_EQ(write(b->entered[1], &c, 1), 1);
    CHECK_EQ(read(b->fds[0], &c, 1), 1);
    return 0;
}

static int block_task(void *arg, void **result)
{
    corio_to_thread_opts o;
    (void)result;
    memset(&o, 0, sizeof o);
    o.lane = CORIO_LANE_DNS;
    o.cancel = CORIO_CANCEL_WAIT;
    return corio_to_thread_with(block_fn, arg, &o, NULL);
}

/* A pool with one name resolution thread, held by a blocker: 0, with
 * *bt the blocker's task once the thread runs it. */
static void hold_dns_lane(struct blocker *b, corio_task **bt)
{
    corio_pool_opts po;
    corio_pool *pool;
    char c;
    memset(&po, 0, sizeof po);
    po.lane_threads[CORIO_LANE_DNS] = 1;
    po.idle_timeout = 0.001; /* dns_loop_freed_thread waits them out */
    CHECK_EQ(corio_pool_new(&po, &pool), 0);
    CHECK_EQ(corio_loop_set_pool(corio_loop_current(), pool), 0);
    corio_pool_release(pool);
    CHECK_EQ(pipe(b->fds), 0);
    CHECK_EQ(pipe2(b->entered, O_NONBLOCK), 0);
    CHECK_EQ(corio_spawn(block_task, b, NULL, bt), 0);
    while (read(b->entered[0], &c, 1) != 1) /* the thread runs it */
        CHECK_EQ(corio_sleep(0), 0);
}

static void release_dns_lane(struct blocker *b, corio_task *bt)
{
    char c = 1;
    CHECK_EQ(write(b->fds[1], &c, 1), 1);
    CHECK_EQ(corio_task_join(bt, NULL), 0);
    corio_task_release(bt);
    close(b->fds[0]);
    close(b->fds[1]);
    close(b->entered[0]);
    close(b->entered[1]);
}

static int queued_cancel_main(void *arg, void **result)
{
    struct blocker b;
    struct lookup l = {"localhost", 99, 0};
    corio_task *bt, *t;
    (void)arg;
    (void)result;
    hold_dns_lane(&b, &bt);
    CHECK_EQ(corio_spawn(lookup_task, &l, NULL, &t), 0);
    while (!l.started)
        CHECK_EQ(corio_sleep(0), 0);
    CHECK_EQ(corio_sleep(0), 0); /* it waits in the lane's queue */
    CHECK_EQ(l.rc, 99);
    corio_task_cancel(t);
    corio_task_join(t, NULL);
    corio_task_release(t);
    CHECK_EQ(l.rc, -ECANCELED);
    /* A lookup that waits with main: nobody is stuck while the pool
     * works (the blocker is released only after it is queued). */
    l.started = 0;
    l.rc = 99;
    CHECK_EQ(corio_spawn(lookup_task, &l, NULL, &t), 0);
    while (!l.started)
        CHECK_EQ(corio_sleep(0), 0);
    release_dns_lane(&b, bt);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(l.rc, 0);
    return 0;
}

TEST(dns_queued_cancel_thread)
{
    use_thread_backend();
    net_run(queued_cancel_main, NULL);
}

/* main returns with a lookup in flight (queued or running): the loop's
 * teardown ends its wait and the pool frees the job and its late answer
 * (ASan, Valgrind). */
static int loop_freed_main(void *arg, void **result)
{
    struct blocker b;
    static struct lookup l;
    corio_task *bt, *t;
    (void)result;
    l.host = "localhost";
    l.rc = 99;
    l.started = 0;
    hold_dns_lane(&b, &bt);
    CHECK_EQ(corio_loop_pool(corio_loop_current(), (corio_pool **)arg), 0);
    corio_pool_retain(*(corio_pool **)arg);
    CHECK_EQ(corio_spawn(lookup_task, &l, NULL, &t), 0);
    corio_task_release(t);
    while (!l.started)
        CHECK_EQ(corio_sleep(0), 0);
    release_dns_lane(&b, bt);
    return 0; /* the lookup may still be queued or running */
}

TEST(dns_loop_freed_thread)
{
    corio_pool *pool = NULL;
    use_thread_backend();
    net_run(loop_freed_main, &pool);
    /* The job ends on its pool thread; then the thread idles out. Wait
     * for that, so the C library's per-thread resolver state is gone
     * before the process ends (Valgrind's leak check). */
    while (corio_pool_threads(pool) > 0)
        usleep(1000);
    corio_pool_release(pool);
}

static int nameinfo_main(void *arg, void **result)
{
    struct sockaddr_in sin;
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    (void)arg;
    (void)result;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(80);
    sin.sin_addr.s_addr = htonl(0x7f000001);
    CHECK_EQ(corio_getnameinfo((struct sockaddr *)&sin, sizeof sin, host,
                               sizeof host, serv, sizeof serv,
                               NI_NUMERICHOST | NI_NUMERICSERV),
             0);
    CHECK(strcmp(host, "127.0.0.1") == 0);
    CHECK(strcmp(serv, "80") == 0);
    CHECK_EQ(corio_getnameinfo((struct sockaddr *)&sin, sizeof sin, host,
                               sizeof host, NULL, 0, 0),
             0);
    CHECK(strlen(host) > 0);
    CHECK_EQ(corio_getnameinfo((struct sockaddr *)&sin, 4, host, sizeof host,
                               NULL, 0, 0),
             -EINVAL);
    CHECK_EQ(corio_getnameinfo((struct sockaddr *)&sin, sizeof sin, host, 3,
                               NULL, 0, NI_NUMERICHOST),
             -ENOSPC);
    return 0;
}

TEST(dns_nameinfo)
{
    net_run(nameinfo_main, NULL);
}

TEST(dns_nameinfo_thread)
{
    use_thread_backend();
    net_run(nameinfo_main, NULL);
}

TEST(dns_outside_task)
{
    struct addrinfo *res = NULL;
    CHECK_EQ(corio_getaddrinfo("localhost", "80", NULL, &res), CORIO_ENOTASK);
}
