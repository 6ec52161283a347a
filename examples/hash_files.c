/*
 * hash_files.c: hash files on the thread pool while the loop keeps a
 * timer ticking.
 *
 * Reading a file and hashing it both block: done in a task, either would
 * stop every other task of the loop. Here each file gets a task that
 * reads it with corio_file_read_all (the pool's file lane) and hashes it
 * with corio_to_thread (the user lane), while a ticker task keeps running
 * on the loop: the ticks printed at the end show the loop never stalled.
 * The files are made first (corio_file_write_all, atomic) in a fresh
 * directory under /tmp and removed at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include <corio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NFILES 4
#define FILE_SIZE (4u << 20)

struct file_job {
    char path[64];
    uint64_t hash;
    int rc;
};

struct blob {
    const unsigned char *data;
    size_t len;
};

/* FNV-1a, 64 bits: slow enough to be worth a thread on 4 MiB. */
static int fnv1a(void *arg, void **result)
{
    struct blob *b = arg;
    uint64_t h = 0xcbf29ce484222325u, *out = malloc(sizeof *out);
    size_t i;
    if (!out)
        return -ENOMEM;
    for (i = 0; i < b->len; i++)
        h = (h ^ b->data[i]) * 0x100000001b3u;
    *out = h;
    *result = out;
    return 0;
}

static int hash_one(void *arg, void **result)
{
    struct file_job *f = arg;
    struct blob b;
    void *data, *h;
    size_t len;
    (void)result;
    if ((f->rc = corio_file_read_all(f->path, 0, &data, &len)) != 0)
        return f->rc;
    b.data = data;
    b.len = len;
    /* CORIO_CANCEL_WAIT: the job reads our buffer, so a cancel waits. */
    {
        corio_to_thread_opts o = {CORIO_LANE_USER, CORIO_CANCEL_WAIT, free};
        f->rc = corio_to_thread_with(fnv1a, &b, &o, &h);
    }
    if (f->rc == 0) {
        f->hash = *(uint64_t *)h;
        free(h);
    }
    corio_free(data);
    return f->rc;
}

static int ticker(void *arg, void **result)
{
    int *ticks = arg;
    (void)result;
    while (corio_sleep(0.001) == 0)
        ++*ticks;
    return 0;
}

static int main_task(void *arg, void **result)
{
    const char *dir = arg;
    struct file_job files[NFILES];
    corio_task *tasks[NFILES], *tick;
    unsigned char *content = malloc(FILE_SIZE);
    int i, ticks = 0, rc = 0;
    (void)result;
    if (!content)
        return -ENOMEM;
    for (i = 0; i < NFILES && rc == 0; i++) {
        memset(content, 'a' + i, FILE_SIZE);
        snprintf(files[i].path, sizeof files[i].path, "%s/file%d", dir, i);
        rc = corio_file_write_all(files[i].path, content, FILE_SIZE, 0600);
    }
    free(content);
    if (rc)
        return rc;
    if ((rc = corio_spawn(ticker, &ticks, NULL, &tick)) != 0)
        return rc;
    for (i = 0; i < NFILES; i++)
        if (corio_spawn(hash_one, &files[i], NULL, &tasks[i]) != 0)
            tasks[i] = NULL;
    for (i = 0; i < NFILES; i++) {
        if (!tasks[i]) {
            rc = -ENOMEM;
            continue;
        }
        if (corio_task_join(tasks[i], NULL) == 0)
            printf("%s: %016llx\n", files[i].path,
                   (unsigned long long)files[i].hash);
        else
            rc = files[i].rc;
        corio_task_release(tasks[i]);
        unlink(files[i].path);
    }
    corio_task_cancel(tick);
    corio_task_join(tick, NULL);
    corio_task_release(tick);
    printf("the timer ticked %s while the pool worked\n",
           ticks > 0 ? "on" : "NOT");
    return rc;
}

int main(void)
{
    char dir[] = "/tmp/corio_hash_XXXXXX";
    int rc;
    if (!mkdtemp(dir))
        return 1;
    rc = corio_run(main_task, dir, NULL);
    rmdir(dir);
    if (rc) {
        fprintf(stderr, "hash_files: %s\n", corio_strerror(rc));
        return 1;
    }
    return 0;
}
