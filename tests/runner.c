/*
 * runner.c: runs corio's test cases.
 *
 *   corio_tests                 every case, each in a child process
 *   corio_tests PATTERN...      cases whose name contains a PATTERN
 *   corio_tests --one NAME      one case, in a child process (CTest's way)
 *   corio_tests --here NAME     one case in this process, no timeout (gdb)
 *   corio_tests --list          the names, one a line
 *
 * Every case but --here runs in a child process of its own, in a process
 * group of its own, watched by this process (the supervisor). A case fails
 * when it exits non-zero, dies of a signal, or outlives its timeout:
 * CORIO_TEST_TIMEOUT seconds (default 60), times
 * CORIO_TEST_TIMEOUT_MULTIPLIER for slow builds (sanitizers, Valgrind,
 * qemu). The supervisor, not the case, keeps the time: at the timeout it
 * kills the child's whole process group (the case and any child it forked)
 * and says "[NAME] timed out after N s". A case that exits 77 (test.h's
 * corio_test_skip) is SKIPPED, never passed. --one exits with the case's
 * status (0, 77, the exit code, or 128 + the signal that killed it), so
 * CTest and tests/valgrind.sh see what the case did.
 *
 * A failed check writes its message to the descriptor stderr was when the
 * case started (the report descriptor), so a check that fails while the
 * case captures its stderr (corio_test_stderr_begin, corio_test_fork) is
 * still seen; it is also written to the captured stderr.
 *
 * The run of every case ends with a line "N passed, N failed, N skipped".
 *
 * Shuffled runs: with CORIO_TEST_SHUFFLE=SEED (a non-zero number) in the
 * environment, each case runs with its loops in debug mode and their ready
 * tasks in an order drawn from SEED (CORIO_DEBUG=1, CORIO_SHUFFLE_SEED=SEED,
 * and CORIO_SLOW_STEP=0 unless set: no slow-step watchdog, whose reports
 * depend on the machine's load); a case marked TEST_FIFO is SKIPPED with
 * its reason. A failure names the seed. tests/shuffle.sh (`make
 * test-shuffle`) runs the concurrency cases so under several seeds.
 */
#include "test.h"
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif

struct test_case {
    const char *name;
    corio_test_fn fn;
    int hidden; /* TEST_HIDDEN: runs only when named */
    const char *fifo; /* TEST_FIFO: why it depends on FIFO order */
};

static struct test_case cases[4096];
static int ncases;
static uint64_t rand_state;
static const char *current_name = "?";
static const char *shuffle_seed; /* CORIO_TEST_SHUFFLE, or NULL */

static void add_case(const char *name, corio_test_fn fn, int hidden,
                     const char *fifo)
{
    if (ncases == (int)(sizeof cases / sizeof cases[0])) {
        fprintf(stderr, "test registry full\n");
        abort();
    }
    cases[ncases].name = name;
    cases[ncases].fn = fn;
    cases[ncases].hidden = hidden;
    cases[ncases].fifo = fifo;
    ncases++;
}

void corio_test_register(const char *name, corio_test_fn fn)
{
    add_case(name, fn, 0, NULL);
}

void corio_test_register_hidden(const char *name, corio_test_fn fn)
{
    add_case(name, fn, 1, NULL);
}

void corio_test_register_fifo(const char *name, corio_test_fn fn,
                              const char *why)
{
    add_case(name, fn, 0, why && *why ? why : "depends on FIFO order");
}

/* Where failure reports go: stderr as it was when the case started, on a
 * descriptor of its own (close-on-exec) that captures do not redirect. */
static int report_fd = 2;

static void report_open(void)
{
    int fd = fcntl(2, F_DUPFD_CLOEXEC, 200);
    if (fd < 0)
        fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    report_fd = fd < 0 ? 2 : fd;
}

static int same_file(int a, int b)
{
    struct stat sa, sb;
    if (a == b)
        return 1;
    if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Writes msg to the report descriptor, and to fd 2 too when a capture has
 * moved fd 2 elsewhere. */
static void report(const char *msg)
{
    size_t n = strlen(msg);
    fflush(stdout);
    fflush(stderr);
    write_all(report_fd, msg, n);
    if (!same_file(report_fd, 2))
        write_all(2, msg, n);
}

void corio_test_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[4096];
    int n;
    va_list ap;
    n = snprintf(msg, sizeof msg, "%s:%d: [%s] ", file, line, current_name);
    if (n < 0)
        n = 0;
    va_start(ap, fmt);
    if ((size_t)n < sizeof msg)
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    n = (int)strlen(msg);
    if ((size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, " (CORIO_TEST_SEED=%llu%s%s)\n",
                 (unsigned long long)rand_state,
                 shuffle_seed ? " CORIO_TEST_SHUFFLE=" : "",
                 shuffle_seed ? shuffle_seed : "");
    if (msg[strlen(msg) - 1] != '\n') /* cut short: end the line */
        memcpy(msg + sizeof msg - 5, "...\n", 5);
    report(msg);
    _exit(1);
}

void corio_test_skip(const char *why)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "[%s] SKIPPED: %s\n", current_name, why);
    report(msg);
    _exit(CORIO_TEST_SKIP_CODE);
}

uint64_t corio_test_rand(void)
{
    uint64_t x = rand_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rand_state = x;
    return x;
}

static int saved_stderr = -1;
static FILE *capture_file;

void corio_test_stderr_begin(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    if (!capture_file)
        corio_test_fail(__FILE__, __LINE__, "tmpfile: %s", strerror(errno));
    saved_stderr = dup(2);
    dup2(fileno(capture_file), 2);
}

static char *read_all(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    if (!buf)
        abort();
    while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                abort();
        }
    }
    buf[len] = 0;
    return buf;
}

char *corio_test_stderr_end(void)
{
    char *s;
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    lseek(fileno(capture_file), 0, SEEK_SET);
    s = read_all(fileno(capture_file));
    fclose(capture_file);
    capture_file = NULL;
    return s;
}

int corio_test_fork(void (*fn)(void *), void *arg, char **err_out)
{
    int pipefd[2], status = 0;
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    if (pipe(pipefd) != 0)
        corio_test_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        corio_test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(pipefd[0]);
        dup2(pipefd[1], 2);
        close(pipefd[1]);
        /* No timeout of its own: the child stays in the case's process
         * group, which the supervisor kills whole at the case's timeout. */
        fn(arg);
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    close(pipefd[1]);
    {
        char *s = read_all(pipefd[0]);
        if (err_out)
            *err_out = s;
        else
            free(s);
    }
    close(pipefd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

int corio_test_under_asan(void)
{
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
    return 1;
#else
    return 0;
#endif
}

int corio_test_under_tsan(void)
{
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
    return 1;
#else
    return 0;
#endif
}

int corio_test_under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return (p && strstr(p, "vgpreload")) || getenv("CORIO_UNDER_VALGRIND");
}

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the descriptor opendir holds */
}

int corio_test_count_fds(void)
{
    return count_dir("/proc/self/fd");
}

int corio_test_count_vmas(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, c;
    if (!f)
        return -1;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static double timeout_s(void)
{
    const char *t = getenv("CORIO_TEST_TIMEOUT");
    const char *m = getenv("CORIO_TEST_TIMEOUT_MULTIPLIER");
    double v = t ? atof(t) : 60.0;
    if (m && atof(m) > 0)
        v *= atof(m);
    return v < 1 ? 1 : v;
}

static void seed_rand(void)
{
    const char *s = getenv("CORIO_TEST_SEED");
    rand_state = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
    if (rand_state == 0)
        rand_state = 88172645463325252ull;
}

/* A shuffled run (CORIO_TEST_SHUFFLE, see the top): a TEST_FIFO case is
 * skipped; any other gets debug mode and the seed, through the
 * environment corio reads when its loops first run tasks. */
static void shuffle_setup(const struct test_case *c)
{
    const char *s = getenv("CORIO_TEST_SHUFFLE");
    char why[512];
    if (!s || !*s || strtoull(s, NULL, 0) == 0)
        return;
    shuffle_seed = s;
    if (c->fifo) {
        snprintf(why, sizeof why, "asserts FIFO order (%s); not run under "
                 "a shuffle seed", c->fifo);
        corio_test_skip(why);
    }
    setenv("CORIO_DEBUG", "1", 1);
    setenv("CORIO_SHUFFLE_SEED", s, 1);
    setenv("CORIO_SLOW_STEP", "0", 0);
}

/* Runs the case in this process; returns only if it passed. */
static int run_here(const struct test_case *c)
{
    current_name = c->name;
    report_open();
    seed_rand();
    shuffle_setup(c);
    c->fn();
    fflush(stdout);
    fflush(stderr);
    return 0;
}

/* The outcome of a supervised case. */
enum outcome { PASSED, FAILED, SKIPPED, TIMED_OUT, INTERRUPTED };

struct result {
    enum outcome outcome;
    int code;        /* what --one exits with */
    double seconds;  /* how long it ran */
};

/* Runs a case in a child process of its own, in a process group of its own,
 * and waits for it: at most timeout_s(), then the group is killed. SIGCHLD
 * (and the signals that end a run) are blocked here and taken with
 * sigtimedwait, so no handler runs and no wakeup is lost. */
static struct result supervise(const struct test_case *c)
{
    struct result r = {FAILED, 1, 0};
    double limit = timeout_s(), t0 = now_s();
    sigset_t set, old;
    int status = 0, sig = 0;
    pid_t pid;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &old);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "[%s] fork: %s\n", c->name, strerror(errno));
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
    }
    if (pid == 0) {
        setpgid(0, 0);
        sigprocmask(SIG_SETMASK, &old, NULL);
        run_here(c);
        exit(0);
    }
    setpgid(pid, pid); /* as the child does: whichever runs first */
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        double left;
        struct timespec ts;
        siginfo_t si;
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            fprintf(stderr, "[%s] waitpid: %s\n", c->name, strerror(errno));
            sigprocmask(SIG_SETMASK, &old, NULL);
            return r;
        }
        left = t0 + limit - now_s();
        if (left <= 0) {
            r.outcome = TIMED_OUT;
            break;
        }
        ts.tv_sec = (time_t)left;
        ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
        sig = sigtimedwait(&set, &si, &ts);
        if (sig > 0 && sig != SIGCHLD) {
            r.outcome = INTERRUPTED;
            break;
        }
    }
    r.seconds = now_s() - t0;
    if (r.outcome == TIMED_OUT || r.outcome == INTERRUPTED) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (r.outcome == TIMED_OUT) {
        fprintf(stderr, "[%s] timed out after %.0f s (CORIO_TEST_TIMEOUT x "
                        "CORIO_TEST_TIMEOUT_MULTIPLIER); killed\n",
                c->name, limit);
        r.code = 124; /* as timeout(1) */
    } else if (r.outcome == INTERRUPTED) {
        fprintf(stderr, "[%s] interrupted by signal %d; killed\n", c->name,
                sig);
        r.code = 128 + sig;
    } else if (WIFEXITED(status)) {
        r.code = WEXITSTATUS(status);
        r.outcome = r.code == 0 ? PASSED
                    : r.code == CORIO_TEST_SKIP_CODE ? SKIPPED
                                                     : FAILED;
    } else if (WIFSIGNALED(status)) {
        fprintf(stderr, "[%s] killed by signal %d (%s)\n", c->name,
                WTERMSIG(status), strsignal(WTERMSIG(status)));
        r.code = 128 + WTERMSIG(status);
    }
    fflush(stderr);
    return r;
}

static int matches(const char *name, int argc, char **argv)
{
    int i;
    if (argc <= 1)
        return 1;
    for (i = 1; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

static const struct test_case *find(const char *name)
{
    int i;
    for (i = 0; i < ncases; i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    fprintf(stderr, "no test named %s\n", name);
    return NULL;
}

int main(int argc, char **argv)
{
    int i, passed = 0, failed = 0, skipped = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < ncases; i++)
            if (!cases[i].hidden)
                printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--here") == 0) {
        const struct test_case *c = find(argv[2]);
        return c ? run_here(c) : 2;
    }
    if (argc == 3 && strcmp(argv[1], "--one") == 0) {
        const struct test_case *c = find(argv[2]);
        struct result r;
        if (!c)
            return 2;
        r = supervise(c);
        if (r.outcome == INTERRUPTED) { /* end as the signal would have */
            signal(r.code - 128, SIG_DFL);
            raise(r.code - 128);
        }
        return r.code;
    }
    for (i = 0; i < ncases; i++) {
        struct result r;
        if (cases[i].hidden || !matches(cases[i].name, argc, argv))
            continue;
        r = supervise(&cases[i]);
        switch (r.outcome) {
        case PASSED:
            printf("ok   %-44s %.2fs\n", cases[i].name, r.seconds);
            passed++;
            break;
        case SKIPPED:
            printf("skip %-44s\n", cases[i].name);
            skipped++;
            break;
        case TIMED_OUT:
            printf("FAIL %-44s timed out after %.0f s\n", cases[i].name,
                   r.seconds);
            failed++;
            break;
        case INTERRUPTED:
            printf("FAIL %-44s interrupted\n", cases[i].name);
            printf("%d passed, %d failed, %d skipped (interrupted)\n",
                   passed, failed + 1, skipped);
            return 1;
        default:
            printf("FAIL %-44s %s %d\n", cases[i].name,
                   r.code > 128 ? "signal" : "exit",
                   r.code > 128 ? r.code - 128 : r.code);
            failed++;
            break;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
