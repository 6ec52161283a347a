/*
 * test_diag.c: diagnostics (corio/diag.h): the dump names every kind of
 * wait in words with the tasks behind it, the awaited-by edges and the
 * await tree (cycles marked), spawn sites and chains, backtraces of
 * suspended tasks (lean ones too), wait times in debug mode, valid JSON
 * (parsed by python3), the deadlock report naming tasks and main's site,
 * and the dump on a signal, idle and while a task hogs the loop.
 *
 * Nothing here waits on the clock: tasks reach their waits through
 * sleep(0) rounds, and the signal tests hand off through atomics and the
 * captured stderr's content.
 */
#include "test.h"
#include "run_body.h"
#include "core/fiber.h"
#include "core/stack/stack.h"

#include <corio.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------- */

/* The dump of the current loop as a string (caller frees). */
static char *dump_string(int format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f != NULL);
    CHECK_EQ(corio_loop_dump(NULL, f, format), 0);
    fclose(f);
    return buf;
}

#define CHECK_HAS(hay, needle)                                               \
    do {                                                                     \
        if (!strstr((hay), (needle)))                                        \
            corio_test_fail(__FILE__, __LINE__, "missing \"%s\" in:\n%s",    \
                            (needle), (hay));                                \
    } while (0)

/* stderr into a temporary file, for reports written there. */
static FILE *capture_stderr(int *saved)
{
    FILE *f = tmpfile();
    CHECK(f != NULL);
    fflush(stderr);
    *saved = dup(2);
    CHECK(*saved >= 0);
    CHECK(dup2(fileno(f), 2) == 2);
    return f;
}

static char *read_all(FILE *f)
{
    long n;
    char *s;
    fflush(f);
    n = ftell(f);
    CHECK(n >= 0);
    s = malloc((size_t)n + 1);
    CHECK(s != NULL);
    rewind(f);
    CHECK_EQ(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fseek(f, 0, SEEK_END);
    return s;
}

static char *end_capture(FILE *f, int saved)
{
    char *s;
    fflush(stderr);
    CHECK(dup2(saved, 2) == 2);
    close(saved);
    s = read_all(f);
    fclose(f);
    return s;
}

/* Does the text of f (stderr's capture) contain needle yet? */
static int file_has(int fd, const char *needle)
{
    static char buf[1 << 16]; /* not on a task's stack */
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

/* ---- a world of tasks in every kind of wait ------------------------------------------- */

static struct world {
    corio_lock *lk;
    corio_event *ev, *never;
    corio_cond *cv;
    corio_sem *sem;
    corio_barrier *bar;
    corio_queue *q;
    corio_topic *tp;
    corio_topic_sub *sub;
    corio_future *fut;
    int pipefd[2];
    corio_task *holder;
    corio_task *t[32];
    int n;
} W;

static int holder_fn(void *a, void **r)
{
    (void)a, (void)r;
    CHECK_EQ(corio_lock_acquire(W.lk), 0);
    corio_event_wait(W.never);
    corio_lock_release(W.lk);
    return 0;
}

static int locker_fn(void *a, void **r)
{
    (void)a, (void)r;
    if (corio_lock_acquire(W.lk) == 0)
        corio_lock_release(W.lk);
    return 0;
}

static int joiner_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_task_join(W.holder, NULL);
}

static int sem_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_sem_acquire(W.sem);
}

static int cond_fn(void *a, void **r)
{
    int rc;
    (void)a, (void)r;
    if ((rc = corio_lock_acquire(corio_cond_lock(W.cv))) != 0)
        return rc;
    rc = corio_cond_wait(W.cv);
    corio_lock_release(corio_cond_lock(W.cv));
    return rc;
}

static int bar_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_barrier_wait(W.bar);
}

static int qput_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_queue_put(W.q, (void *)2); /* full: waits */
}

static int sub_fn(void *a, void **r)
{
    void *item;
    (void)a, (void)r;
    return corio_topic_next(W.sub, &item, NULL);
}

static int sig_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_signal_wait(SIGUSR2);
}

static int fd_fn(void *a, void **r)
{
    char c;
    (void)a, (void)r;
    return (int)corio_read(W.pipefd[0], &c, 1);
}

static int sleep_fn(void *a, void **r)
{
    int rc;
    (void)a, (void)r;
    rc = corio_sleep(1000);
    return rc;
}

static int fut_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_future_await(W.fut, NULL);
}

static int kid_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_event_wait(W.never);
}

static int group_fn(void *a, void **r)
{
    corio_group *g;
    corio_task_opts o = {"kid", 0, 0};
    int rc;
    (void)a, (void)r;
    CHECK_EQ(corio_group_open(&g), 0);
    CHECK_EQ(corio_group_spawn(g, kid_fn, NULL, &o, NULL), 0);
    rc = corio_group_wait(g, 0);
    corio_group_free(g);
    return rc;
}

static int gather_fn(void *a, void **r)
{
    corio_future *f = corio_task_future(W.holder);
    (void)a, (void)r;
    return corio_gather(&f, 1, 0, NULL, NULL);
}

static int wait_for_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_wait_for(W.fut, 1000, NULL);
}

static int lean_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_event_wait(W.never);
}

static void spawn_named(const char *name, corio_coro_fn fn, unsigned flags)
{
    corio_task_opts o = {name, 0, flags};
    CHECK_EQ(corio_spawn(fn, NULL, &o, &W.t[W.n]), 0);
    W.n++;
}

static void world_up(void)
{
    memset(&W, 0, sizeof W);
    CHECK_EQ(corio_lock_new(&W.lk), 0);
    CHECK_EQ(corio_event_new(&W.ev), 0);
    CHECK_EQ(corio_event_new(&W.never), 0);
    CHECK_EQ(corio_cond_new(NULL, &W.cv), 0);
    CHECK_EQ(corio_sem_new(0, &W.sem), 0);
    CHECK_EQ(corio_barrier_new(3, &W.bar), 0);
    CHECK_EQ(corio_queue_new(CORIO_QUEUE_FIFO, 1, &W.q), 0);
    CHECK_EQ(corio_queue_put(W.q, (void *)1), 0);
    CHECK_EQ(corio_topic_new(&W.tp), 0);
    CHECK_EQ(corio_topic_subscribe(W.tp, 4, CORIO_TOPIC_BLOCK, &W.sub), 0);
    CHECK_EQ(corio_future_new(NULL, &W.fut), 0);
    CHECK_EQ(pipe(W.pipefd), 0);
    CHECK_EQ(corio_fd_nonblock(W.pipefd[0]), 0);

    spawn_named("holder", holder_fn, 0);
    W.holder = W.t[0];
    CHECK_EQ(corio_diag_future_completer(W.fut, W.holder), 0);
    spawn_named("locker", locker_fn, 0);
    spawn_named("joiner", joiner_fn, 0);
    spawn_named("semw", sem_fn, 0);
    spawn_named("condw", cond_fn, 0);
    spawn_named("barw", bar_fn, 0);
    spawn_named("qput", qput_fn, 0);
    spawn_named("subw", sub_fn, 0);
    spawn_named("sigw", sig_fn, 0);
    spawn_named("fdw", fd_fn, 0);
    spawn_named("sleeper", sleep_fn, 0);
    spawn_named("futw", fut_fn, 0);
    spawn_named("grp", group_fn, 0);
    spawn_named("gath", gather_fn, 0);
    spawn_named("waitfor", wait_for_fn, 0);
    spawn_named("leanw", lean_fn, CORIO_CORO_LEAN);
    settle_n(12);
}

static void world_down(void)
{
    int i;
    for (i = 0; i < W.n; i++)
        corio_task_cancel(W.t[i]);
    for (i = 0; i < W.n; i++) {
        corio_task_join(W.t[i], NULL);
        corio_task_release(W.t[i]);
    }
    corio_future_release(W.fut);
    corio_topic_unsubscribe(W.sub);
    corio_topic_free(W.tp);
    corio_queue_free(W.q);
    corio_barrier_free(W.bar);
    corio_sem_free(W.sem);
    corio_cond_free(W.cv);
    corio_event_free(W.never);
    corio_event_free(W.ev);
    corio_lock_free(W.lk);
    close(W.pipefd[0]);
    close(W.pipefd[1]);
}

static int dump_kinds_body(void)
{
    char *s;
    world_up();
    s = dump_string(CORIO_DUMP_TEXT);
    /* Every kind, in words, with the task behind it where known. */
    CHECK_HAS(s, "task #1 'main' [running]");
    /* main's spawn site: where corio_run was called (run_body.h's run). */
    CHECK_HAS(s, "task #1 'main' [running]\n  spawned at ");
    CHECK_HAS(s, "run_body.h:");
    CHECK_HAS(s, "held by task 'holder'");
    CHECK_HAS(s, "join of task 'holder'");
    CHECK_HAS(s, "semaphore 0x");
    CHECK_HAS(s, "(value 0; 1 waiting)");
    CHECK_HAS(s, "condition 0x");
    CHECK_HAS(s, "barrier 0x");
    CHECK_HAS(s, "(1 of 3 parties arrived)");
    CHECK_HAS(s, "queue put on queue 0x");
    CHECK_HAS(s, "(fill 1/1)");
    CHECK_HAS(s, "topic next on subscription");
    CHECK_HAS(s, "signal 12");
    CHECK_HAS(s, "to become readable");
    CHECK_HAS(s, "sleep, ");
    CHECK_HAS(s, " s left");
    CHECK_HAS(s, "to be completed by task 'holder'");
    CHECK_HAS(s, "task group 0x");
    CHECK_HAS(s, "1 child(ren) to finish");
    CHECK_HAS(s, "in a task group of 'grp'");
    CHECK_HAS(s, "gather of 1 (0 done)");
    CHECK_HAS(s, "wait_for: future 0x");
    CHECK_HAS(s, "event 0x");
    /* Spawn chain: kid was spawned by grp, which main spawned. */
    CHECK_HAS(s, "by 'grp' (#");
    CHECK_HAS(s, "by 'main' (#1)");
    /* Awaited-by: holder is awaited by the locker, joiner, futw, gath,
     * waitfor. */
    CHECK_HAS(s, "awaited by: 'locker'");
    CHECK_HAS(s, "await tree");
    /* Backtraces of suspended tasks, lean ones too. */
    CHECK_HAS(s, "backtrace:\n    #0 0x");
    {
        const char *lean = strstr(s, "'leanw' [waiting]");
        CHECK(lean != NULL);
        CHECK(strstr(lean, "backtrace:") != NULL);
        if (strstr(s, "symbols by libdw")) {
            CHECK_HAS(lean, "corio_event_wait");
            CHECK_HAS(s, "holder_fn");
        }
    }
    /* Debug mode off: no wait times. */
    if (!getenv("CORIO_DEBUG"))
        CHECK(strstr(s, "waiting for ") == NULL);
    free(s);
    world_down();
    return 0;
}

TEST(diag_dump_kinds)
{
    CHECK_EQ(run(dump_kinds_body), 0);
}

/* JSON through python3's parser, and its edges. */
static int dump_json_body(void)
{
    char path[] = "/tmp/corio_diag_jsonXXXXXX";
    char cmd[512];
    int fd, st;
    FILE *f;
    char *s;
    world_up();
    s = dump_string(CORIO_DUMP_JSON);
    CHECK_HAS(s, "\"name\":\"holder\"");
    CHECK_HAS(s, "\"how\":\"held by\"");
    CHECK_HAS(s, "\"how\":\"joins\"");
    CHECK_HAS(s, "\"awaited_by\":[");
    fd = mkstemp(path);
    CHECK(fd >= 0);
    f = fdopen(fd, "w");
    CHECK(f != NULL);
    CHECK_EQ(corio_loop_dump(NULL, f, CORIO_DUMP_JSON), 0);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(sys.stdin); "
             "ts={t[\"name\"]:t for t in d[\"tasks\"]}; "
             "assert ts[\"locker\"][\"waits_on\"][\"tasks\"][0][\"id\"]=="
             "ts[\"holder\"][\"id\"]; "
             "assert ts[\"locker\"][\"id\"] in ts[\"holder\"][\"awaited_by\"]; "
             "assert ts[\"main\"][\"state\"]==\"running\"' < %s",
             path);
    st = system(cmd);
    unlink(path);
    free(s);
    world_down();
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        corio_test_skip("python3 not found");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
}

TEST(diag_dump_json)
{
    CHECK_EQ(run(dump_json_body), 0);
}

/* Debug mode: the dump says how long each has waited. */
static int debug_body(void)
{
    char *s;
    CHECK_EQ(corio_diag_debug(corio_loop_current(), 1), 0);
    world_up();
    s = dump_string(CORIO_DUMP_TEXT);
    CHECK_HAS(s, "debug mode on");
    CHECK_HAS(s, "waiting for ");
    free(s);
    s = dump_string(CORIO_DUMP_JSON);
    CHECK_HAS(s, "\"debug\":true");
    {
        const char *w = strstr(s, "\"waited\":");
        CHECK(w != NULL);
        CHECK(w[9] >= '0' && w[9] <= '9'); /* a number, not null */
    }
    free(s);
    world_down();
    CHECK_EQ(corio_diag_debug(corio_loop_current(), 0), 0);
    return 0;
}

TEST(diag_debug_wait_times)
{
    CHECK_EQ(run(debug_body), 0);
}

/* ---- the deadlock report names tasks ---------------------------------------------- */

static corio_lock *dl_lock;
static corio_future *dl_fut;
static corio_task *dl_a, *dl_b;

static int dl_b_fn(void *a, void **r)
{
    (void)a, (void)r;
    return corio_lock_acquire(dl_lock); /* held by a */
}

static int dl_a_fn(void *a, void **r)
{
    corio_task_opts o = {"b", 0, 0};
    (void)a, (void)r;
    CHECK_EQ(corio_lock_acquire(dl_lock), 0);
    CHECK_EQ(corio_spawn(dl_b_fn, NULL, &o, &dl_b), 0);
    CHECK_EQ(corio_diag_future_completer(dl_fut, dl_b), 0);
    return corio_future_await(dl_fut, NULL); /* b will never complete it */
}

static int dl_main(void)
{
    corio_task_opts o = {"a", 0, 0};
    CHECK_EQ(corio_future_new(NULL, &dl_fut), 0);
    CHECK_EQ(corio_spawn(dl_a_fn, NULL, &o, &dl_a), 0);
    return corio_task_join(dl_a, NULL);
}

TEST(diag_deadlock_report_names_tasks)
{
    int saved;
    FILE *f;
    char *s;
    CHECK_EQ(corio_lock_new(&dl_lock), 0);
    f = capture_stderr(&saved);
    CHECK_EQ(run(dl_main), -EDEADLK);
    s = end_capture(f, saved);
    CHECK_HAS(s, "task 'main' (spawned at ");
    CHECK_HAS(s, "run_body.h:");
    CHECK(strstr(s, "corio_run:0") == NULL);
    CHECK_HAS(s, "waits on join of task 'a'");
    CHECK_HAS(s, "to be completed by task 'b'");
    CHECK_HAS(s, "held by task 'a'");
    free(s);
    corio_task_release(dl_a);
    corio_task_release(dl_b);
    corio_future_release(dl_fut);
    corio_lock_free(dl_lock);
}

/* ---- the dump on a signal ----------------------------------------------------------- */

static atomic_int hog_started, hog_release;
static int cap_fd = -1;

static __attribute__((noinline)) int hog_fn(void *a, void **r)
{
    (void)a, (void)r;
    atomic_store(&hog_started, 1);
    while (!atomic_load(&hog_release)) /* never yields */
        ;
    return 0;
}

/* Another thread: signal the process while the hog holds the loop, wait
 * for the watchdog's report to appear, then let the hog go. */
static void *signaller(void *arg)
{
    (void)arg;
    while (!atomic_load(&hog_started))
        usleep(1000);
    kill(getpid(), SIGUSR1); /* any thread may take it */
    while (!file_has(cap_fd, "holds the loop"))
        usleep(1000);
    atomic_store(&hog_release, 1);
    return NULL;
}

static int hog_main(void)
{
    corio_task_opts o = {"hog", 0, 0};
    corio_task *t;
    pthread_t th;
    CHECK_EQ(corio_diag_dump_on_signal(corio_loop_current(), SIGUSR1), 0);
    CHECK_EQ(pthread_create(&th, NULL, signaller, NULL), 0);
    CHECK_EQ(corio_spawn(hog_fn, NULL, &o, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    /* The whole dump comes at the loop's next step after the hog. */
    while (!file_has(cap_fd, "await tree"))
        corio_sleep(0.001);
    CHECK_EQ(corio_diag_dump_on_signal(corio_loop_current(), 0), 0);
    pthread_join(th, NULL);
    corio_task_release(t);
    return 0;
}

TEST(diag_signal_dump_while_hogged)
{
    int saved;
    FILE *f = capture_stderr(&saved);
    char *s;
    cap_fd = fileno(f);
    CHECK_EQ(run(hog_main), 0);
    s = end_capture(f, saved);
    CHECK_HAS(s, "corio: on signal: task 'hog' (#2, spawned at ");
    CHECK_HAS(s, "holds the loop; it runs at:\n    #0 0x");
    /* (Under TSan the signal lands inside its runtime, which keeps no
     * frame pointers: the walk shows that pc alone.) */
    if (strstr(s, "symbols by libdw") && !CORIO_TSAN)
        CHECK_HAS(s, "hog_fn");
    CHECK_HAS(s, "corio: dump on signal:");
    CHECK_HAS(s, "task #1 'main'");
    /* The disposition came back: SIGUSR1 is default again. */
    {
        struct sigaction sa;
        CHECK_EQ(sigaction(SIGUSR1, NULL, &sa), 0);
        CHECK(sa.sa_handler == SIG_DFL);
    }
    free(s);
}

static int idle_main(void)
{
    CHECK_EQ(corio_diag_dump_on_signal(corio_loop_current(), SIGUSR1), 0);
    CHECK_EQ(corio_diag_dump_on_signal(corio_loop_current(), SIGUSR1), 0);
    kill(getpid(), SIGUSR1);
    while (!file_has(cap_fd, "await tree"))
        corio_sleep(0.001);
    CHECK_EQ(corio_diag_dump_on_signal(corio_loop_current(), 0), 0);
    return 0;
}

TEST(diag_signal_dump_idle)
{
    int saved;
    FILE *f = capture_stderr(&saved);
    char *s;
    cap_fd = fileno(f);
    CHECK_EQ(run(idle_main), 0);
    s = end_capture(f, saved);
    CHECK_HAS(s, "corio: dump on signal:");
    CHECK_HAS(s, "task #1 'main' ["); /* waiting, or ready: its sleep may be due */
    free(s);
}

static int busy_main(void)
{
    corio_loop *other;
    CHECK_EQ(corio_loop_new(NULL, &other), 0);
    CHECK_EQ(corio_diag_dump_on_signal(corio_loop_current(), SIGUSR1), 0);
    CHECK_EQ(corio_diag_dump_on_signal(other, SIGUSR1), -EBUSY);
    CHECK_EQ(corio_diag_dump_on_signal(other, 0), 0); /* not its: no-op */
    CHECK_EQ(corio_diag_dump_on_signal(corio_loop_current(), SIGKILL), -EINVAL);
    CHECK_EQ(corio_diag_dump_on_signal(corio_loop_current(), 0), 0);
    CHECK_EQ(corio_loop_free(other), 0);
    return 0;
}

TEST(diag_signal_dump_errors)
{
    CHECK_EQ(run(busy_main), 0);
}

/* ---- the target of tests/gdb.sh ------------------------------------------------------ */

/* gdb stops here (tests/gdb.sh) while the world is stuck, runs the
 * corio commands, writes a core with gcore, and lets the case finish. */
__attribute__((noinline)) void corio_test_gdb_stop_here(void);
__attribute__((noinline)) void corio_test_gdb_stop_here(void)
{
    __asm__ volatile("" ::: "memory");
}

static int gdb_target_body(void)
{
    world_up();
    corio_test_gdb_stop_here();
    world_down();
    return 0;
}

TEST(diag_gdb_target)
{
    /* PTE guard pages (MADV_GUARD_INSTALL) make a stack arena unreadable
     * as a whole through /proc/PID/mem, so gcore would leave the task
     * stacks out of the core: mprotect guards keep them in. */
    corio__stack_debug_force_guard(CORIO__GUARD_MPROTECT);
    CHECK_EQ(run(gdb_target_body), 0);
}

/* ---- debug mode's cycle check, beside a ticking timer ---------------------------------- */

static corio_lock *cy_a, *cy_b;
static corio_event *cy_both;
static int cy_holding;

static int cy_take(corio_lock *first, corio_lock *second)
{
    int rc = corio_lock_acquire(first);
    if (rc)
        return rc;
    if (++cy_holding == 2)
        corio_event_set(cy_both);
    if ((rc = corio_event_wait(cy_both)) == 0 &&
        (rc = corio_lock_acquire(second)) == 0)
        corio_lock_release(second);
    corio_lock_release(first);
    return rc;
}

static int cy_alice(void *a, void **r)
{
    (void)a, (void)r;
    return cy_take(cy_a, cy_b);
}

static int cy_bob(void *a, void **r)
{
    (void)a, (void)r;
    return cy_take(cy_b, cy_a);
}

static int cy_ticker(void *a, void **r)
{
    int rc;
    (void)a, (void)r;
    while ((rc = corio_sleep(0.001)) == 0)
        ;
    return rc;
}

static int cycle_main(void)
{
    corio_task_opts oa = {"alice", 0, 0}, ob = {"bob", 0, 0},
                    ot = {"ticker", 0, 0};
    corio_task *t[3];
    int i;
    CHECK_EQ(corio_diag_debug(corio_loop_current(), 1), 0);
    CHECK_EQ(corio_lock_new(&cy_a), 0);
    CHECK_EQ(corio_lock_new(&cy_b), 0);
    CHECK_EQ(corio_event_new(&cy_both), 0);
    CHECK_EQ(corio_spawn(cy_alice, NULL, &oa, &t[0]), 0);
    CHECK_EQ(corio_spawn(cy_bob, NULL, &ob, &t[1]), 0);
    CHECK_EQ(corio_spawn(cy_ticker, NULL, &ot, &t[2]), 0);
    /* The loop stays alive (the ticker); the check reports the cycle. */
    while (!file_has(cap_fd, "wait on each other in a cycle"))
        corio_sleep(0.001);
    for (i = 0; i < 3; i++)
        corio_task_cancel(t[i]);
    for (i = 0; i < 3; i++) {
        corio_task_join(t[i], NULL);
        corio_task_release(t[i]);
    }
    corio_event_free(cy_both);
    corio_lock_free(cy_a);
    corio_lock_free(cy_b);
    return 0;
}

TEST(diag_cycle_beside_ticking_timer)
{
    int saved;
    FILE *f = capture_stderr(&saved);
    char *s, *first;
    cap_fd = fileno(f);
    CHECK_EQ(run(cycle_main), 0);
    s = end_capture(f, saved);
    CHECK_HAS(s, "corio: deadlock: 2 task(s) wait on each other in a cycle "
                 "(the loop itself goes on):\n");
    CHECK_HAS(s, "task 'alice' (#2, spawned at ");
    CHECK_HAS(s, "held by task 'bob' (#3)");
    CHECK_HAS(s, "held by task 'alice' (#2)");
    /* Once only, though the loop went idle many times after. */
    first = strstr(s, "in a cycle");
    CHECK(strstr(first + 1, "in a cycle") == NULL);
    CHECK(strstr(s, "ticker' (#4, spawned") == NULL);
    free(s);
}

/* ---- the slow-step watchdog -------------------------------------------------------------- */

static __attribute__((noinline)) int slowpoke_fn(void *a, void **r)
{
    (void)a, (void)r;
    /* Hold the loop until the watchdog's report (one write) is there. */
    while (!file_has(cap_fd, "it runs at:\n    #0 0x"))
        ;
    return 0;
}

static int slow_main(void)
{
    corio_task_opts o = {"slowpoke", 0, 0};
    corio_task *t;
    corio_loop *other;
    CHECK_EQ(corio_diag_slow_steps(corio_loop_current(), -1), -EINVAL);
    CHECK_EQ(corio_diag_slow_steps(corio_loop_current(), 0.001), 0);
    CHECK_EQ(corio_loop_new(NULL, &other), 0);
    CHECK_EQ(corio_diag_slow_steps(other, 0.1), -EBUSY);
    CHECK_EQ(corio_loop_free(other), 0);
    CHECK_EQ(corio_spawn(slowpoke_fn, NULL, &o, &t), 0);
    CHECK_EQ(corio_task_join(t, NULL), 0);
    corio_task_release(t);
    CHECK_EQ(corio_diag_slow_steps(corio_loop_current(), 0), 0);
    return 0;
}

TEST(diag_slow_step_reported)
{
    int saved;
    FILE *f = capture_stderr(&saved);
    char *s;
    cap_fd = fileno(f);
    CHECK_EQ(run(slow_main), 0);
    s = end_capture(f, saved);
    CHECK_HAS(s, "corio: slow step: task 'slowpoke' (#2, spawned at ");
    CHECK_HAS(s, "has held the loop for ");
    /* Where it was while it overran (the frame it was interrupted in
     * may be a leaf of the C library's, or TSan's runtime, without a
     * frame pointer: the test asks only for a backtrace). */
    CHECK_HAS(s, "(threshold 0.001 s); it runs at:\n    #0 0x");
    /* and after it returned, how long it ran */
    CHECK_HAS(s, "corio: slow step: task 'slowpoke' (#2, spawned at ");
    CHECK_HAS(s, ") held the loop for ");
    free(s);
}

/* ---- loop metrics -------------------------------------------------------------------------- */

static int metrics_body(void)
{
    corio_metrics m;
    CHECK_EQ(corio_loop_metrics(corio_loop_current(), &m), 0);
    if (!getenv("CORIO_DEBUG"))
        CHECK_EQ(m.iterations, 0); /* debug mode off: not counted */
    CHECK_EQ(m.tasks, 1);
    CHECK_EQ(corio_diag_debug(corio_loop_current(), 1), 0);
    world_up();
    CHECK_EQ(corio_loop_metrics(corio_loop_current(), &m), 0);
    CHECK(m.iterations > 0);
    CHECK(m.steps >= (unsigned long long)W.n);
    CHECK(m.busy >= 0 && m.idle >= 0);
    CHECK_EQ(m.tasks, (size_t)W.n + 2); /* main and the group's kid */
    CHECK_EQ(m.waiting[CORIO_WAIT_JOIN], 1);   /* joiner */
    CHECK_EQ(m.waiting[CORIO_WAIT_FUTURE], 2); /* futw, waitfor */
    /* holder, locker, semw, condw, barw, leanw, kid */
    CHECK_EQ(m.waiting[CORIO_WAIT_SYNC], 7);
    CHECK_EQ(m.waiting[CORIO_WAIT_CHAN], 2);   /* qput, subw */
    CHECK_EQ(m.waiting[CORIO_WAIT_FD], 1);
    CHECK_EQ(m.waiting[CORIO_WAIT_SLEEP], 1);
    CHECK_EQ(m.waiting[CORIO_WAIT_SIGNAL], 1);
    CHECK_EQ(m.waiting[CORIO_WAIT_GROUP], 2);  /* grp, gath */
    CHECK_EQ(m.waiting[CORIO_WAIT_OTHER], 0);
    world_down();
    CHECK_EQ(corio_diag_debug(corio_loop_current(), 0), 0);
    return 0;
}

TEST(diag_loop_metrics)
{
    CHECK_EQ(run(metrics_body), 0);
}

/* ---- the seeded schedule shuffler ----------------------------------------------------------- */

#define SH_TASKS 8
#define SH_ROUNDS 6
static char sh_trace[SH_TASKS * SH_ROUNDS + 1];
static size_t sh_len;

static int sh_worker(void *a, void **r)
{
    int i;
    (void)r;
    for (i = 0; i < SH_ROUNDS; i++) {
        sh_trace[sh_len++] = (char)('a' + (int)(intptr_t)a);
        corio_sleep(0);
    }
    return 0;
}

static unsigned long long sh_seed;

static int sh_main(void)
{
    corio_task *t[SH_TASKS];
    intptr_t i;
    if (sh_seed)
        CHECK_EQ(corio_diag_shuffle(corio_loop_current(), sh_seed), 0);
    for (i = 0; i < SH_TASKS; i++)
        CHECK_EQ(corio_spawn(sh_worker, (void *)i, NULL, &t[i]), 0);
    for (i = 0; i < SH_TASKS; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
    }
    return 0;
}

static void sh_run(unsigned long long seed, char *out)
{
    sh_len = 0;
    sh_seed = seed;
    CHECK_EQ(run(sh_main), 0);
    CHECK_EQ(sh_len, SH_TASKS * SH_ROUNDS);
    sh_trace[sh_len] = 0;
    memcpy(out, sh_trace, sh_len + 1);
}

TEST(diag_shuffle_replays_by_seed)
{
    char fifo[sizeof sh_trace], a[sizeof sh_trace], b[sizeof sh_trace],
        c[sizeof sh_trace];
    int saved;
    FILE *f = capture_stderr(&saved);
    char *s;
    sh_run(0, fifo);
    sh_run(42, a);
    sh_run(42, b);
    sh_run(43, c);
    s = end_capture(f, saved);
    CHECK_HAS(s, "seed 42 (replay: CORIO_SHUFFLE_SEED=42)");
    /* FIFO: every round in spawn order. */
    CHECK(strncmp(fifo, "abcdefgh", 8) == 0);
    /* The same seed, the same order; another seed, another; both differ
     * from FIFO (fixed seeds: these are facts of the generator). */
    CHECK(strcmp(a, b) == 0);
    CHECK(strcmp(a, fifo) != 0);
    CHECK(strcmp(a, c) != 0);
    free(s);
    /* Small neighbouring seeds (CI's 1, 2, 3) are as far apart. */
    f = capture_stderr(&saved);
    sh_run(1, a);
    sh_run(2, b);
    sh_run(3, c);
    free(end_capture(f, saved));
    CHECK(strcmp(a, fifo) != 0 && strcmp(b, fifo) != 0 &&
          strcmp(c, fifo) != 0);
    CHECK(strcmp(a, b) != 0 && strcmp(b, c) != 0 && strcmp(a, c) != 0);
}

/* Steps woken by timers keep their (deadline) order under a shuffle, even
 * when a late iteration finds them all due at once: main holds the loop
 * past every deadline (a lower bound on time only), then yields. The
 * deadlines are absolute, from one reading of the loop's clock, so the
 * order the sleepers armed them in (shuffled) does not matter. A sleeper
 * that starts after its deadline (a slow machine, Valgrind) is not woken
 * by its timer: the run does not count, and is redone with deadlines
 * further out (no bound on time but the runner's). */
#define TO_TASKS 8
static char to_trace[TO_TASKS + 1];
static size_t to_len;
static double to_t0, to_gap;
static int to_late;

static int to_sleeper(void *a, void **r)
{
    corio_scope *sc;
    double at = to_t0 + to_gap * (double)(1 + (intptr_t)a);
    (void)r;
    if (corio_loop_time(corio_loop_current()) >= at)
        to_late = 1;
    CHECK_EQ(corio_scope_timeout_at(at, &sc), 0);
    CHECK_EQ(corio_scope_close(sc, corio_sleep(100)), -ETIMEDOUT);
    to_trace[to_len++] = (char)('a' + (int)(intptr_t)a);
    return 0;
}

static int to_main(void)
{
    corio_task *t[TO_TASKS];
    double hold = to_gap * (TO_TASKS + 2);
    struct timespec ts = {(time_t)hold,
                          (long)((hold - (double)(time_t)hold) * 1e9)};
    intptr_t i;
    CHECK_EQ(corio_diag_shuffle(corio_loop_current(), sh_seed), 0);
    to_t0 = corio_loop_time(corio_loop_current());
    for (i = 0; i < TO_TASKS; i++)
        CHECK_EQ(corio_spawn(to_sleeper, (void *)i, NULL, &t[i]), 0);
    settle(); /* all asleep */
    while (nanosleep(&ts, &ts) != 0) /* every deadline passes meanwhile */
        ;
    for (i = 0; i < TO_TASKS; i++) {
        CHECK_EQ(corio_task_join(t[i], NULL), 0);
        corio_task_release(t[i]);
    }
    return 0;
}

TEST(diag_shuffle_keeps_timer_order)
{
    int saved;
    FILE *f = capture_stderr(&saved);
    for (sh_seed = 1; sh_seed <= 8; sh_seed++) {
        to_gap = 0.001;
        do {
            to_gap *= 2;
            to_len = 0;
            to_late = 0;
            CHECK_EQ(run(to_main), 0);
        } while (to_late);
        to_trace[to_len] = 0;
        if (strcmp(to_trace, "abcdefgh") != 0)
            corio_test_fail(__FILE__, __LINE__, "seed %llu: woken in the "
                            "order %s", sh_seed, to_trace);
    }
    free(end_capture(f, saved));
}

/* ---- the virtual clock and corio_wait_all_blocked --------------------------------------------- */

static int vc_sleeper(void *a, void **r)
{
    (void)r;
    return corio_sleep((double)(intptr_t)a);
}

static int vc_never(void *a, void **r)
{
    (void)a, (void)r;
    return corio_event_wait(W.never);
}

static int vclock_main(void)
{
    corio_loop *loop = corio_loop_current();
    corio_task *t[3];
    corio_task_opts o = {"never", 0, 0};
    double t0, t1;
    int rc;
    corio_future *f;
    CHECK_EQ(corio_diag_virtual_clock(loop, 1), 0);
    t0 = corio_loop_time(loop);
    /* An hour passes at once, and exactly (to the nanosecond: the loop's
     * time is ns / 1e9 as a double, so the difference of two readings
     * carries rounding of about 1e-7 s at this clock's magnitude). */
    CHECK_EQ(corio_sleep(3600), 0);
    t1 = corio_loop_time(loop);
    CHECK(fabs((t1 - t0) - 3600) < 1e-6);
    /* Time stands still while work runs. */
    CHECK(corio_loop_time(loop) == t1);
    /* Timers fire in deadline order as time jumps. */
    CHECK_EQ(corio_spawn(vc_sleeper, (void *)(intptr_t)20, NULL, &t[0]), 0);
    CHECK_EQ(corio_spawn(vc_sleeper, (void *)(intptr_t)10, NULL, &t[1]), 0);
    CHECK_EQ(corio_task_join(t[1], NULL), 0);
    CHECK(fabs((corio_loop_time(loop) - t1) - 10) < 1e-6);
    CHECK(!corio_task_done(t[0]));
    CHECK_EQ(corio_task_join(t[0], NULL), 0);
    CHECK(fabs((corio_loop_time(loop) - t1) - 20) < 1e-6);
    /* A timeout fires without anyone waiting for it in real time. */
    CHECK_EQ(corio_future_new(NULL, &f), 0);
    rc = corio_wait_for(f, 600, NULL);
    CHECK_EQ(rc, -ETIMEDOUT);
    corio_future_release(f);
    /* wait_all_blocked: returns once the other task parked. */
    memset(&W, 0, sizeof W);
    CHECK_EQ(corio_event_new(&W.never), 0);
    CHECK_EQ(corio_spawn(vc_never, NULL, &o, &t[2]), 0);
    t1 = corio_loop_time(loop);
    CHECK_EQ(corio_wait_all_blocked(), 0);
    CHECK(corio_event_is_set(W.never) == 0);
    CHECK(corio_loop_time(loop) == t1); /* no time passed */
    {
        char *s = dump_string(CORIO_DUMP_TEXT);
        CHECK_HAS(s, "'never' [waiting]");
        free(s);
    }
    corio_task_cancel(t[2]);
    CHECK_EQ(corio_task_join(t[2], NULL), -ECANCELED);
    corio_event_free(W.never);
    corio_task_release(t[0]);
    corio_task_release(t[1]);
    corio_task_release(t[2]);
    CHECK_EQ(corio_diag_virtual_clock(loop, 0), 0);
    return 0;
}

TEST(diag_virtual_clock)
{
    CHECK_EQ(run(vclock_main), 0);
}

static int wab_cancel_main(void)
{
    corio_task *self = corio_task_current();
    CHECK_EQ(corio_task_cancel(self), 0);
    CHECK_EQ(corio_wait_all_blocked(), -ECANCELED); /* it would wait */
    CHECK_EQ(corio_task_uncancel(self), 0);
    CHECK_EQ(corio_wait_all_blocked(), 0);
    return 0;
}

TEST(diag_wait_all_blocked_cancel_rule)
{
    CHECK_EQ(run(wab_cancel_main), 0);
}

/* ---- the signal dump and the watchdog end with their loop ------------------------------- */

TEST(diag_options_end_with_the_loop)
{
    corio_loop *l, *l2;
    struct sigaction sa;
    CHECK_EQ(corio_loop_new(NULL, &l), 0);
    CHECK_EQ(corio_diag_dump_on_signal(l, SIGUSR1), 0);
    CHECK_EQ(corio_diag_slow_steps(l, 0.5), 0);
    CHECK_EQ(corio_loop_free(l), 0); /* without turning them off */
    CHECK_EQ(sigaction(SIGUSR1, NULL, &sa), 0);
    CHECK(sa.sa_handler == SIG_DFL);
    CHECK_EQ(corio_loop_new(NULL, &l2), 0);
    CHECK_EQ(corio_diag_dump_on_signal(l2, SIGUSR1), 0); /* free again */
    CHECK_EQ(corio_diag_slow_steps(l2, 0.5), 0);
    CHECK_EQ(corio_diag_dump_on_signal(l2, 0), 0);
    CHECK_EQ(corio_diag_slow_steps(l2, 0), 0);
    CHECK_EQ(corio_loop_free(l2), 0);
}

/* ---- an error nobody retrieved: where it failed, who spawned it -------------------------- */

static int fail_line;

static int failing_fn(void *a, void **r)
{
    (void)a, (void)r;
    fail_line = __LINE__; return corio_fail(-EIO, "reading %s", "config");
}

static int unretrieved_main(void)
{
    corio_task_opts o = {"reader", 0, 0};
    CHECK_EQ(corio_spawn(failing_fn, NULL, &o, NULL), 0);
    corio_sleep(0);
    corio_sleep(0);
    return 0;
}

TEST(diag_unretrieved_error_says_where)
{
    int saved;
    FILE *f = capture_stderr(&saved);
    char *s;
    char want[128];
    CHECK_EQ(run(unretrieved_main), 0);
    s = end_capture(f, saved);
    CHECK_HAS(s, "task 'reader' (spawned at ");
    CHECK_HAS(s, " by task 'main' (#1)) failed at ");
    snprintf(want, sizeof want, "test_diag.c:%d with ", fail_line);
    CHECK_HAS(s, want);
    CHECK_HAS(s, ": reading config");
    free(s);
}

/* ---- debug mode: the async traceback of an unretrieved error ----------------------------- */

const char *corio__bt_symbolizer(void); /* src/diag: "libdw" or "dladdr" */

static int tb_line, tb_cleanups;

/* Each does something after its call, as cleanup would: `return
 * corio_fail(...)` or `return f()` is a tail call in an optimized build,
 * whose frame is gone from any backtrace (docs/debugging.md). */
static __attribute__((noinline)) int tb_read_block(const char *what)
{
    int rc;
    tb_line = __LINE__; rc = corio_fail(-EIO, "no %s", what);
    tb_cleanups++;
    return rc;
}

static __attribute__((noinline)) int tb_leaf(void *a, void **r)
{
    int rc;
    (void)a, (void)r;
    rc = tb_read_block("disk");
    tb_cleanups++;
    return rc;
}

static int tb_quiet(void *a, void **r)
{
    (void)a, (void)r;
    return -EPIPE; /* no corio_fail: no backtrace, the chain still */
}

/* Spawns both, and drops them once done without retrieving their errors,
 * while it and main still live. */
static int tb_mid(void *a, void **r)
{
    corio_task_opts lo = {"leaf", 0, 0}, qo = {"quiet", 0, 0};
    corio_task *t[2];
    (void)a, (void)r;
    CHECK_EQ(corio_spawn(tb_leaf, NULL, &lo, &t[0]), 0);
    CHECK_EQ(corio_spawn(tb_quiet, NULL, &qo, &t[1]), 0);
    while (!corio_task_done(t[0]) || !corio_task_done(t[1]))
        CHECK_EQ(corio_sleep(0), 0);
    corio_task_release(t[0]);
    corio_task_release(t[1]);
    return 0;
}

static int tb_main(void)
{
    corio_task_opts mo = {"mid", 0, 0};
    corio_task *m;
    CHECK_EQ(corio_diag_debug(corio_loop_current(), 1), 0);
    CHECK_EQ(corio_spawn(tb_mid, NULL, &mo, &m), 0);
    CHECK_EQ(corio_task_join(m, NULL), 0);
    corio_task_release(m);
    return 0;
}

TEST(diag_unretrieved_error_async_traceback)
{
    int saved;
    FILE *f = capture_stderr(&saved);
    char *s, want[160];
    const char *leaf, *quiet;
    CHECK_EQ(run(tb_main), 0);
    s = end_capture(f, saved);
    snprintf(want, sizeof want, "test_diag.c:%d with EIO", tb_line);
    CHECK_HAS(s, want);
    leaf = strstr(s, "async traceback of task 'leaf' (#3), where it failed "
                     "(corio_fail), most recent call first:\n    #0 0x");
    CHECK(leaf != NULL);
    /* The frames from corio_fail's caller out, then the chain of tasks
     * that spawned it, each with its site. */
    if (!strcmp(corio__bt_symbolizer(), "libdw")) {
        const char *fr = strstr(leaf, " tb_read_block");
        CHECK(fr != NULL);
        CHECK_HAS(leaf, " tb_leaf+0x");
        /* With line tables (not every compiler's DWARF reads here), the
         * innermost frame is the corio_fail line. */
        snprintf(want, sizeof want, " at %s:%d\n", __FILE__, tb_line);
        if (strstr(fr, " at ") && strstr(fr, " at ") < strchr(fr, '\n'))
            CHECK_HAS(fr, want);
    }
    CHECK_HAS(leaf, "\n  spawned at ");
    CHECK_HAS(leaf, "\n    by task 'mid' (#2), spawned at ");
    CHECK_HAS(leaf, "\n    by task 'main' (#1), spawned at ");
    /* Failed without corio_fail: said so, the chain still given. */
    quiet = strstr(s, "task 'quiet' (#4): no backtrace (it returned its "
                      "error without corio_fail)\n  spawned at ");
    CHECK(quiet != NULL);
    CHECK_HAS(quiet, "\n    by task 'mid' (#2), spawned at ");
    free(s);
}

/* Debug mode off (the loop's and CORIO_DEBUG): the one-line report only. */
TEST(diag_unretrieved_error_no_traceback_when_off)
{
    int saved;
    FILE *f;
    char *s;
    if (getenv("CORIO_DEBUG") && strcmp(getenv("CORIO_DEBUG"), "0"))
        corio_test_skip("CORIO_DEBUG is set: debug mode is on");
    f = capture_stderr(&saved);
    CHECK_EQ(run(unretrieved_main), 0);
    s = end_capture(f, saved);
    CHECK_HAS(s, "task 'reader' (spawned at ");
    CHECK(strstr(s, "async traceback") == NULL);
    CHECK(strstr(s, "no backtrace") == NULL);
    free(s);
}

/* ---- debug mode: where a never-resumed coroutine was made --------------------------------- */

static int co_line;

static int co_body(void *a, void **r)
{
    (void)a, (void)r;
    return 0;
}

static __attribute__((noinline)) corio_coro *co_make_forgotten(void)
{
    corio_coro_opts o = {"forgotten", 0, 0};
    corio_coro *co = NULL;
    int rc;
    co_line = __LINE__; rc = corio_coro_new(co_body, NULL, &o, &co);
    CHECK_EQ(rc, 0);
    return co;
}

static char *free_forgotten(const char *debug)
{
    int saved;
    FILE *f;
    corio_coro *co = co_make_forgotten();
    setenv("CORIO_DEBUG", debug, 1);
    f = capture_stderr(&saved);
    CHECK_EQ(corio_coro_free(co), 0);
    return end_capture(f, saved);
}

TEST(diag_never_resumed_names_creation_site)
{
    char *s, want[160];
    /* Off: the report says how to learn where. */
    s = free_forgotten("0");
    CHECK_HAS(s, "corio: coroutine 'forgotten' was never resumed (CORIO_DEBUG=1 "
                 "says where it was created)");
    free(s);
    /* On: the function (and with libdw the line) that called
     * corio_coro_new. */
    s = free_forgotten("1");
    CHECK_HAS(s, "corio: coroutine 'forgotten' was never resumed; it was "
                 "created at ");
    if (!strcmp(corio__bt_symbolizer(), "libdw")) {
        CHECK_HAS(s, "created at co_make_forgotten");
        /* With line tables, the very line. */
        snprintf(want, sizeof want, "co_make_forgotten (%s:%d)", __FILE__,
                 co_line);
        if (strstr(s, "co_make_forgotten ("))
            CHECK_HAS(s, want);
    }
    free(s);
}
