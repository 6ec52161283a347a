/*
 * asyncio_basics.c: the first examples of Python's asyncio documentation,
 * written with corio.
 *
 * 1. Two tasks run concurrently (the docs' say_after):
 *
 *        async def think(name, delay):
 *            print("start", name)
 *            await asyncio.sleep(delay)
 *            print("end", name)
 *            return name
 *
 *        async def main():
 *            t1 = asyncio.create_task(think("slow", 0.2))
 *            t2 = asyncio.create_task(think("fast", 0.1))
 *            print(await asyncio.gather(t1, t2))   # ['slow', 'fast']
 *
 *    Both start before either ends, the shorter ends first, and the whole
 *    takes 0.2 s, not 0.3.
 *
 * 2. Awaiting a task returns its result:
 *
 *        async def inner(x): return x + 1
 *        async def outer(): return await asyncio.create_task(inner(10))  # 11
 *
 * 3. An exception raised in an awaited task reaches the awaiter:
 *
 *        async def parse(): raise ValueError("bad frame 7")
 *        try: await asyncio.create_task(parse())
 *        except ValueError as e: print("caught", e)
 *
 *    In C the "exception" is a negative errno, and corio_fail attaches a
 *    message to it.
 *
 * 4. Cancelling a sleeping task runs its cleanup (the docs' cancel_me):
 *
 *        async def cancel_me():
 *            print("cancel_me(): before sleep")
 *            try:
 *                await asyncio.sleep(3600)
 *            except asyncio.CancelledError:
 *                print("cancel_me(): cancel sleep")
 *                raise
 *            finally:
 *                print("cancel_me(): after sleep")
 *
 * Each part prints what happens and records it; the program exits 0 when
 * every record is as asyncio would have it, 1 otherwise.
 */
#include <corio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)

/* What happened, in order ("start slow;start fast;..."), to check. */
static char trace[512];

static void say(const char *what)
{
    printf("  %s\n", what);
    strncat(trace, what, sizeof trace - strlen(trace) - 2);
    strcat(trace, ";");
}

/* ---- 1. concurrent tasks ------------------------------------------------- */

struct thinker {
    const char *name;
    double delay;
};

static int think(void *arg, void **result)
{
    struct thinker *th = arg;
    char line[64];
    int rc;
    snprintf(line, sizeof line, "start %s", th->name);
    say(line);
    if ((rc = corio_sleep(th->delay)) != 0)
        return rc;
    snprintf(line, sizeof line, "end %s", th->name);
    say(line);
    *result = (void *)th->name;
    return 0;
}

static int concurrent(void)
{
    struct thinker slow = {"slow", 0.2}, fast = {"fast", 0.1};
    corio_task *t1, *t2;
    void *r1 = NULL, *r2 = NULL;
    double t0 = corio_loop_time(corio_loop_current()), took;
    int rc;

    if ((rc = corio_spawn(think, &slow, NULL, &t1)) != 0)
        return rc;
    if ((rc = corio_spawn(think, &fast, NULL, &t2)) != 0) {
        corio_task_release(t1);
        return rc;
    }
    /* gather: wait for each, in the order given, whatever order they end */
    CHECK(corio_task_join(t1, &r1) == 0);
    CHECK(corio_task_join(t2, &r2) == 0);
    corio_task_release(t1);
    corio_task_release(t2);
    took = corio_loop_time(corio_loop_current()) - t0;
    printf("  gathered [%s, %s] in %.2f s\n", (char *)r1, (char *)r2, took);
    CHECK(r1 && strcmp(r1, "slow") == 0);
    CHECK(r2 && strcmp(r2, "fast") == 0);
    /* Together, not one after the other: fast started before slow ended
     * (the trace shows it; a time limit would fail on a loaded machine),
     * and no sooner than the longer sleep. */
    CHECK(strcmp(trace, "start slow;start fast;end fast;end slow;") == 0);
    CHECK(took >= 0.2);
    return 0;
}

/* ---- 2. awaiting a result --------------------------------------------------- */

static int inner(void *arg, void **result)
{
    *result = (void *)((intptr_t)arg + 1);
    return 0;
}

static int outer(void)
{
    corio_task *t;
    void *r = NULL;
    int rc;
    if ((rc = corio_spawn(inner, (void *)(intptr_t)10, NULL, &t)) != 0)
        return rc;
    rc = corio_task_join(t, &r);
    corio_task_release(t);
    printf("  inner(10) returned %d\n", (int)(intptr_t)r);
    CHECK(rc == 0);
    CHECK((intptr_t)r == 11);
    return 0;
}

/* ---- 3. an error crosses the await ---------------------------------------------- */

static int parse(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return corio_fail(-EPROTO, "bad frame %d", 7);
}

static int catches(void)
{
    corio_task *t;
    int rc;
    if ((rc = corio_spawn(parse, NULL, NULL, &t)) != 0)
        return rc;
    rc = corio_task_join(t, NULL);
    printf("  caught %s (%s): %s\n", corio_errname(rc), corio_strerror(rc),
           corio_task_message(t) ? corio_task_message(t) : "(no message)");
    CHECK(rc == -EPROTO);
    CHECK(corio_task_message(t) &&
          strcmp(corio_task_message(t), "bad frame 7") == 0);
    corio_task_release(t);
    return 0;
}

/* ---- 4. cancellation runs cleanup -------------------------------------------- */

static int cancel_me(void *arg, void **result)
{
    int rc;
    (void)arg;
    (void)result;
    say("cancel_me(): before sleep");
    rc = corio_sleep(3600);
    if (rc == -ECANCELED)
        say("cancel_me(): cancel sleep");
    say("cancel_me(): after sleep"); /* the finally: always */
    return rc; /* re-raise: the task ends cancelled */
}

static int cancels(void)
{
    corio_task *t;
    int rc;
    if ((rc = corio_spawn(cancel_me, NULL, NULL, &t)) != 0)
        return rc;
    CHECK(corio_sleep(0.01) == 0); /* let it start sleeping */
    corio_task_cancel(t);
    rc = corio_task_join(t, NULL);
    if (rc == -ECANCELED && corio_task_cancelled(t))
        say("main(): cancel_me is cancelled now");
    corio_task_release(t);
    CHECK(strcmp(trace, "cancel_me(): before sleep;cancel_me(): cancel sleep;"
                        "cancel_me(): after sleep;"
                        "main(): cancel_me is cancelled now;") == 0);
    return 0;
}

static int amain(void *arg, void **result)
{
    int rc;
    (void)arg;
    (void)result;
    printf("1. two tasks thinking at once\n");
    if ((rc = concurrent()) != 0)
        return rc;
    printf("2. an outer task awaits an inner one\n");
    if ((rc = outer()) != 0)
        return rc;
    printf("3. an error raised in an awaited task\n");
    if ((rc = catches()) != 0)
        return rc;
    printf("4. cancelling a sleeping task\n");
    trace[0] = '\0';
    return cancels();
}

int main(void)
{
    int rc = corio_run(amain, NULL, NULL);
    if (rc != 0) {
        fprintf(stderr, "corio_run: %s\n", corio_strerror(rc));
        return 1;
    }
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all as asyncio would have it\n");
    return 0;
}
