/*
 * resolve_thread.c: name resolution by the C library's getaddrinfo /
 * getnameinfo on another thread, for builds without c-ares (and when
 * CORIO_RESOLVER=thread asks for it).
 *
 * TEMPORARY: one detached pthread per lookup. When the thread pool
 * (corio_to_thread, its DNS lane) is merged, this file is the one place
 * to switch: run `lookup` there instead of in start_thread.
 *
 * A lookup is a job shared by the calling task and the thread. The task
 * holds the loop (corio_loop_hold) and awaits a future; the thread
 * resolves, then hands the job back with corio_loop_call_soon_threadsafe;
 * on the loop's thread, job_done completes the future, or, when the
 * caller was cancelled meanwhile (the future is cancelled), frees the
 * answer itself. So a cancelled caller returns at once and the thread's
 * late answer is dropped. The job's memory belongs to whichever side is
 * last: the waiting task when the future completed, job_done otherwise.
 * Limit: if the loop is freed while a lookup is under way, the thread
 * frees the job but the future's memory is not reclaimed.
 */
#include "alloc.h"
#include "net/resolve_impl.h"
#include "task/task_impl.h"

#include <corio/future.h>
#include <corio/loop.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct job {
    corio_loop *loop;
    corio_future *fut; /* the job's own reference */
    int gni;           /* 1: getnameinfo, 0: getaddrinfo */
    char *host, *serv; /* getaddrinfo's names (owned) */
    struct addrinfo hints;
    int has_hints;
    struct sockaddr_storage sa; /* getnameinfo's address */
    socklen_t salen;
    int flags;
    char nhost[NI_MAXHOST], nserv[NI_MAXSERV];
    size_t hostlen, servlen;
    int rc;                /* corio code */
    struct addrinfo *res;  /* our copy */
};

static void job_free(struct job *j)
{
    corio_freeaddrinfo(j->res);
    corio__free(j->host);
    corio__free(j->serv);
    corio__free(j);
}

static void lookup(struct job *j)
{
    if (j->gni) {
        int e = getnameinfo((struct sockaddr *)&j->sa, j->salen,
                            j->hostlen ? j->nhost : NULL,
                            j->hostlen ? sizeof j->nhost : 0,
                            j->servlen ? j->nserv : NULL,
                            j->servlen ? sizeof j->nserv : 0, j->flags);
        j->rc = e ? corio__gai_error(e, errno) : 0;
    } else {
        struct addrinfo *r = NULL;
        int e = getaddrinfo(j->host, j->serv, j->has_hints ? &j->hints : NULL,
                            &r);
        if (e)
            j->rc = corio__gai_error(e, errno);
        else {
            j->rc = corio__ai_copy(r, &j->res);
            freeaddrinfo(r);
        }
    }
}

/* On the loop's thread. */
static void job_done(void *arg)
{
    struct job *j = arg;
    corio_future *f = j->fut;
    if (corio_future_done(f))
        job_free(j); /* the caller is gone (cancelled) */
    else
        corio_future_set_result(f, j);
    corio_future_release(f);
    corio_loop_unhold(j->loop);
}

static void *thread_main(void *arg)
{
    struct job *j = arg;
    lookup(j);
    if (corio_loop_call_soon_threadsafe(j->loop, job_done, j) != 0)
        job_free(j); /* the loop is being freed: nobody waits any more */
    return NULL;
}

static int start_thread(struct job *j)
{
    pthread_attr_t at;
    pthread_t th;
    int e;
    if ((e = pthread_attr_init(&at)) != 0)
        return -e;
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    e = pthread_create(&th, &at, thread_main, j);
    pthread_attr_destroy(&at);
    return -e;
}

/* Run j on a thread and wait for it. Consumes j. */
static int run_job(struct job *j)
{
    corio_task *t = corio__task_running();
    corio_future *f;
    void *out = NULL;
    int rc;
    if (!t) {
        job_free(j);
        return CORIO_ENOTASK;
    }
    if (corio__task_cancel_report(t)) {
        job_free(j);
        return -ECANCELED; /* it would have to wait */
    }
    j->loop = t->loop;
    if ((rc = corio_future_new(j->loop, &f)) != 0) {
        job_free(j);
        return rc;
    }
    corio_future_retain(f);
    j->fut = f;
    corio_loop_hold(j->loop);
    if ((rc = start_thread(j)) != 0) {
        corio_loop_unhold(j->loop);
        corio_future_release(f);
        corio_future_release(f);
        job_free(j);
        return rc == -EAGAIN ? -ENOMEM : rc; /* no thread to be had */
    }
    rc = corio_future_await(f, &out);
    if (rc != 0 && !corio_future_done(f))
        corio_future_cancel(f); /* the loop is tearing us down */
    corio_future_release(f);
    return rc;
}

int corio__resolve_thread_gai(const char *host, const char *serv,
                              const struct addrinfo *hints,
                              struct addrinfo **res)
{
    struct job *j = corio__calloc(1, sizeof *j);
    struct job *done;
    int rc;
    if (!j)
        return -ENOMEM;
    if ((host && !(j->host = corio__strdup(host))) ||
        (serv && !(j->serv = corio__strdup(serv)))) {
        job_free(j);
        return -ENOMEM;
    }
    if (hints) {
        j->hints.ai_flags = hints->ai_flags;
        j->hints.ai_family = hints->ai_family;
        j->hints.ai_socktype = hints->ai_socktype;
        j->hints.ai_protocol = hints->ai_protocol;
        j->has_hints = 1;
    }
    done = j;
    rc = run_job(j);
    if (rc != 0)
        return rc;
    /* Completed: the job is ours again. */
    rc = done->rc;
    if (rc == 0) {
        *res = done->res;
        done->res = NULL;
    }
    job_free(done);
    return rc;
}

int corio__resolve_thread_gni(const struct sockaddr *sa, socklen_t salen,
                              char *host, size_t hostlen, char *serv,
                              size_t servlen, int flags)
{
    struct job *j = corio__calloc(1, sizeof *j);
    struct job *done;
    int rc;
    if (!j)
        return -ENOMEM;
    j->gni = 1;
    memcpy(&j->sa, sa, salen);
    j->salen = salen;
    j->flags = flags;
    j->hostlen = host ? hostlen : 0;
    j->servlen = serv ? servlen : 0;
    done = j;
    rc = run_job(j);
    if (rc != 0)
        return rc;
    rc = done->rc;
    if (rc == 0) {
        if (host && strlen(done->nhost) >= hostlen)
            rc = -ENOSPC;
        else if (serv && strlen(done->nserv) >= servlen)
            rc = -ENOSPC;
        else {
            if (host)
                strcpy(host, done->nhost);
            if (serv)
                strcpy(serv, done->nserv);
        }
    }
    job_free(done);
    return rc;
}
