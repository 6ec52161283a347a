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
#include "core/stack/stack.h"

#include <corio.h>
#include <errno.h>
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
    CHECK_HAS(s, "\"waited\":0.");
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
    if (strstr(s, "symbols by libdw"))
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
