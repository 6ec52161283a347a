/*
 * runner.c: runs corio's test cases.
 *
 *   corio_tests                 every case, each in a child process
 *   corio_tests PATTERN...      cases whose name contains a PATTERN
 *   corio_tests --one NAME      one case, in this process (for gdb)
 *   corio_tests --list          the names, one a line
 *
 * A case fails when it exits non-zero, dies of a signal, or outlives its
 * timeout: CORIO_TEST_TIMEOUT seconds (default 60), times
 * CORIO_TEST_TIMEOUT_MULTIPLIER for slow builds (sanitizers, Valgrind, qemu).
 * The run ends with a line "N passed, N failed".
 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif

struct test_case {
    const char *name;
    corio_test_fn fn;
};

static unsigned timeout_s(void);

static struct test_case cases[1024];
static int ncases;
static uint64_t rand_state;
static const char *current_name = "?";

void corio_test_register(const char *name, corio_test_fn fn)
{
    if (ncases == (int)(sizeof cases / sizeof cases[0])) {
        fprintf(stderr, "test registry full\n");
        abort();
    }
    cases[ncases].name = name;
    cases[ncases].fn = fn;
    ncases++;
}

void corio_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: [%s] ", file, line, current_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (CORIO_TEST_SEED=%llu)\n",
            (unsigned long long)rand_state);
    fflush(stderr);
    fflush(stdout);
    _exit(1);
}

void corio_test_skip(const char *why)
{
    fprintf(stderr, "[%s] SKIPPED: %s\n", current_name, why);
    fflush(stderr);
    fflush(stdout);
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
        /* Alarms are not inherited: give the child the test's timeout too,
         * so a hung child can never outlive its test as an orphan. */
        alarm(timeout_s());
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned timeout_s(void)
{
    const char *t = getenv("CORIO_TEST_TIMEOUT");
    const char *m = getenv("CORIO_TEST_TIMEOUT_MULTIPLIER");
    double v = t ? atof(t) : 60.0;
    if (m)
        v *= atof(m);
    return v < 1 ? 1 : (unsigned)v;
}

static void seed_rand(void)
{
    const char *s = getenv("CORIO_TEST_SEED");
    rand_state = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
    if (rand_state == 0)
        rand_state = 88172645463325252ull;
}

static int run_in_process(const struct test_case *c)
{
    current_name = c->name;
    seed_rand();
    alarm(timeout_s());
    c->fn();
    fflush(stdout);
    fflush(stderr);
    return 0;
}

/* Runs one case in a child; returns 1 if it passed, 2 if it skipped. */
static int run_forked(const struct test_case *c)
{
    double t0 = now_s();
    int status = 0;
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 0;
    }
    if (pid == 0) {
        run_in_process(c);
        exit(0);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok   %-44s %.2fs\n", c->name, now_s() - t0);
        return 1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == CORIO_TEST_SKIP_CODE) {
        printf("skip %-44s\n", c->name);
        return 2;
    }
    if (WIFSIGNALED(status))
        printf("FAIL %-44s signal %d%s\n", c->name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    else
        printf("FAIL %-44s exit %d\n", c->name, WEXITSTATUS(status));
    return 0;
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

int main(int argc, char **argv)
{
    int i, passed = 0, failed = 0, skipped = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < ncases; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--one") == 0) {
        for (i = 0; i < ncases; i++)
            if (strcmp(cases[i].name, argv[2]) == 0)
                return run_in_process(&cases[i]);
        fprintf(stderr, "no test named %s\n", argv[2]);
        return 2;
    }
    for (i = 0; i < ncases; i++) {
        if (!matches(cases[i].name, argc, argv))
            continue;
        switch (run_forked(&cases[i])) {
        case 1: passed++; break;
        case 2: skipped++; break;
        default: failed++; break;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
