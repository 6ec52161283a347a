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
 *
 * The loop may be freed while a thread still resolves (its caller was
 * cancelled, then main returned). Every job in flight is in a registry
 * (one mutex for all loops); a closer per loop (registered with the
 * loop's first lookup) takes the loop's jobs out at corio_loop_free:
 * it frees those whose thread has finished (their callback, if queued,
 * is dropped by the loop) and marks the others orphans, which their
 * thread frees; it drops the jobs' future references itself. A thread
 * calls corio_loop_call_soon_threadsafe only while holding the mutex and
 * only for a job still registered, so never on a freed loop.
 */
#include "alloc.h"
#include "net/resolve_impl.h"
#include "loop/loop_impl.h"
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
    /* The registry (under reg_mu): */
    struct job *next, *prev;
    int finished; /* the thread is done with the lookup */
    int orphan;   /* the loop is gone: the thread frees the job */
};

/* One closer per loop that has had a lookup. */
struct loop_closer {
    corio__closer c;
    corio_loop *loop;
    struct loop_closer *next;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct job *reg_jobs;             /* every job in flight */
static struct loop_closer *reg_closers;  /* loops with a closer */

static void reg_unlink(struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        reg_jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->next = j->prev = NULL;
}

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
    pthread_mutex_lock(&reg_mu);
    reg_unlink(j);
    pthread_mutex_unlock(&reg_mu);
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
    pthread_mutex_lock(&reg_mu);
    j->finished = 1;
    if (j->orphan) { /* the loop's closer already took it out */
        pthread_mutex_unlock(&reg_mu);
        job_free(j);
        return NULL;
    }
    /* Still registered, so the loop still exists: its closer needs the
     * mutex we hold. If the loop is closing, the call fails and the
     * closer frees the job. */
    (void)corio_loop_call_soon_threadsafe(j->loop, job_done, j);
    pthread_mutex_unlock(&reg_mu);
    return NULL;
}

/* At corio_loop_free (on the loop's thread): take the loop's jobs out. */
static void loop_closer_run(corio__closer *c, corio_loop *loop)
{
    struct loop_closer *lc = CORIO__CONTAINER(c, struct loop_closer, c);
    struct loop_closer **pp;
    struct job *j, *next, *done = NULL;
    pthread_mutex_lock(&reg_mu);
    for (j = reg_jobs; j; j = next) {
        next = j->next;
        if (j->loop != loop)
            continue;
        reg_unlink(j);
        corio_future_release(j->fut); /* the job's reference */
        j->fut = NULL;
        if (j->finished) {
            j->next = done;
            done = j;
        } else {
            j->orphan = 1;
        }
    }
    for (pp = &reg_closers; *pp; pp = &(*pp)->next)
        if (*pp == lc) {
            *pp = lc->next;
            break;
        }
    pthread_mutex_unlock(&reg_mu);
    while (done) {
        j = done;
        done = j->next;
        job_free(j);
    }
    corio__free(lc);
}

/* Register j (and, the first time, a closer for its loop). 0 or
 * -ENOMEM. On the loop's thread. */
static int reg_add(struct job *j)
{
    struct loop_closer *lc;
    pthread_mutex_lock(&reg_mu);
    for (lc = reg_closers; lc && lc->loop != j->loop; lc = lc->next)
        ;
    if (!lc) {
        lc = corio__calloc(1, sizeof *lc);
        if (!lc) {
            pthread_mutex_unlock(&reg_mu);
            return -ENOMEM;
        }
        lc->loop = j->loop;
        lc->c.order = CORIO__CLOSE_AGENS + 50; /* after the tasks */
        lc->c.close = loop_closer_run;
        lc->next = reg_closers;
        reg_closers = lc;
        corio__loop_add_closer(j->loop, &lc->c);
    }
    j->next = reg_jobs;
    j->prev = NULL;
    if (reg_jobs)
        reg_jobs->prev = j;
    reg_jobs = j;
    pthread_mutex_unlock(&reg_mu);
    return 0;
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
    if ((rc = reg_add(j)) != 0) {
        corio_future_release(f);
        corio_future_release(f);
        job_free(j);
        return rc;
    }
    corio_loop_hold(j->loop);
    if ((rc = start_thread(j)) != 0) {
        pthread_mutex_lock(&reg_mu);
        reg_unlink(j);
        pthread_mutex_unlock(&reg_mu);
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
