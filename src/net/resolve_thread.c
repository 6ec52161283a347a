/*
 * resolve_thread.c: name resolution by the C library's getaddrinfo /
 * getnameinfo on the loop's thread pool (its name resolution lane,
 * CORIO_LANE_DNS), for builds without c-ares (and when
 * CORIO_RESOLVER=thread asks for it).
 *
 * A lookup is a pool job (thread/pool.h) the calling task waits for, in
 * abandon mode: a cancelled caller returns -ECANCELED at once and the job
 * is the pool's from then on; when the lookup ends, job_abandon frees the
 * job with its late answer. The same holds when the loop is freed with a
 * lookup in flight: its teardown ends the wait and the pool frees the job
 * once getaddrinfo returns. While the job runs, the loop counts it as an
 * outside wait, so the deadlock detector knows an answer may still come.
 */
#include "alloc.h"
#include "net/resolve_impl.h"
#include "thread/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct job {
    corio__job job;
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

/* On a pool thread. */
static void job_work(corio__job *pj)
{
    struct job *j = CORIO__CONTAINER(pj, struct job, job);
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

/* Nobody waits for the answer any more (the caller was cancelled, or its
 * loop freed): drop it. Any thread. */
static void job_abandon(corio__job *pj)
{
    job_free(CORIO__CONTAINER(pj, struct job, job));
}

/* Run j on the pool and wait for it. 0: j ran and is the caller's
 * again (its own answer in j->rc); otherwise j is gone. */
static int run_job(struct job *j)
{
    corio_task *t = corio__task_running();
    int rc, kept;
    if (!t) {
        job_free(j);
        return CORIO_ENOTASK;
    }
    j->job.work = job_work;
    j->job.abandon = job_abandon;
    j->job.lane = CORIO_LANE_DNS;
    j->job.wait_on_cancel = 0; /* a cancel returns at once */
    rc = corio__job_run(t, &j->job, &kept);
    if (rc == 0)
        return 0;
    if (kept)
        job_free(j); /* never submitted, or dropped before it ran */
    if (rc == -EAGAIN)
        return -ENOMEM; /* no thread to be had */
    if (rc == -ESHUTDOWN)
        return -ECANCELED; /* the loop is being freed */
    return rc;
}

int corio__resolve_thread_gai(const char *host, const char *serv,
                              const struct addrinfo *hints,
                              struct addrinfo **res)
{
    struct job *j = corio__calloc(1, sizeof *j);
    int rc;
    if (!j)
        return corio__task_running() ? -ENOMEM : CORIO_ENOTASK;
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
    if ((rc = run_job(j)) != 0)
        return rc;
    rc = j->rc;
    if (rc == 0) {
        *res = j->res;
        j->res = NULL;
    }
    job_free(j);
    return rc;
}

int corio__resolve_thread_gni(const struct sockaddr *sa, socklen_t salen,
                              char *host, size_t hostlen, char *serv,
                              size_t servlen, int flags)
{
    struct job *j = corio__calloc(1, sizeof *j);
    int rc;
    if (!j)
        return corio__task_running() ? -ENOMEM : CORIO_ENOTASK;
    j->gni = 1;
    memcpy(&j->sa, sa, salen);
    j->salen = salen;
    j->flags = flags;
    j->hostlen = host ? hostlen : 0;
    j->servlen = serv ? servlen : 0;
    if ((rc = run_job(j)) != 0)
        return rc;
    rc = j->rc;
    if (rc == 0) {
        if (host && strlen(j->nhost) >= hostlen)
            rc = -ENOSPC;
        else if (serv && strlen(j->nserv) >= servlen)
            rc = -ENOSPC;
        else {
            if (host)
                strcpy(host, j->nhost);
            if (serv)
                strcpy(serv, j->nserv);
        }
    }
    job_free(j);
    return rc;
}
