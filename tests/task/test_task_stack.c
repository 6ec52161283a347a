/*
 * test_task_stack.c: the stack rule of tasks with default options
 * (corio/task.h): a task's stack is its own for its whole life, so a
 * pointer into it may be handed to another task and used while its owner
 * is suspended (waiting, or sleeping), also when its frames are deep and
 * while many other tasks run in between. Nothing here depends on timing:
 * owners wait for a handshake, never for a clock.
 */
#include "test.h"

#include <corio.h>
#include <errno.h>
#include <string.h>

#define NOISE 64   /* other tasks that run while an owner is suspended */
#define BOX 256    /* ints in the owner's local array */

/* What an owner hands out: every field lives on the owner's stack. */
struct handout {
    int *box;          /* the owner's local array */
    volatile int *done; /* the owner's local flag */
    corio_event *ev;
};

/* Clobbers its own stack: if tasks shared stack memory, this would
 * overwrite a suspended owner's frames. */
static int noise(void *arg, void **result)
{
    volatile char junk[8192];
    (void)arg;
    memset((char *)junk, 0xa5, sizeof junk);
    *result = NULL;
    if (corio_sleep(0) != 0)
        return -EIO;
    memset((char *)junk, 0x5a, sizeof junk);
    return junk[0] == 0x5a ? 0 : -EIO;
}

/* Writes into the owner's array while the owner is suspended, in two
 * steps with other tasks running in between. */
static int writer(void *arg, void **result)
{
    struct handout *h = arg;
    int i;
    *result = NULL;
    for (i = 0; i < BOX / 2; i++)
        h->box[i] = i * 3 + 1;
    if (corio_sleep(0) != 0)
        return -EIO;
    for (; i < BOX; i++)
        h->box[i] = i * 3 + 1;
    *h->done = 1;
    if (h->ev)
        return corio_event_set(h->ev);
    return 0;
}

static int spawn_noise(void)
{
    for (int i = 0; i < NOISE; i++) {
        int rc = corio_spawn(noise, NULL, NULL, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static int check_box(const int *box)
{
    for (int i = 0; i < BOX; i++)
        if (box[i] != i * 3 + 1)
            return -EIO;
    return 0;
}

/* how: 0 waits on an event, 1 sleeps (a positive time) until the flag is
 * set, 2 joins the writer. */
static int owner_at(int how)
{
    int box[BOX];
    volatile int done = 0;
    struct handout h = {box, &done, NULL};
    corio_task *w = NULL;
    int rc;

    memset(box, 0, sizeof box);
    if (how == 0 && (rc = corio_event_new(&h.ev)) != 0)
        return rc;
    if ((rc = spawn_noise()) != 0)
        goto out;
    if ((rc = corio_spawn(writer, &h, NULL, &w)) != 0)
        goto out;
    if ((rc = spawn_noise()) != 0)
        goto out;
    switch (how) {
    case 0:
        rc = corio_event_wait(h.ev);
        break;
    case 1:
        rc = 0;
        while (!done && rc == 0)
            rc = corio_sleep(0.0005); /* until the handshake, not a clock */
        break;
    default:
        rc = corio_task_join(w, NULL);
        break;
    }
    if (rc == 0)
        rc = check_box(box);
    if (rc == 0 && how != 2)
        rc = corio_task_join(w, NULL);
out:
    corio_task_release(w);
    corio_event_free(h.ev);
    return rc;
}

/* Recurse `depth` frames of about 1 KiB before handing out a pointer. */
static int deep_owner(int depth, int how)
{
    volatile char pad[1024];
    int rc;
    pad[0] = (char)depth;
    if (depth > 0)
        rc = deep_owner(depth - 1, how);
    else
        rc = owner_at(how);
    return rc == 0 && pad[0] != (char)depth ? -EIO : rc;
}

struct owner_args {
    int depth, how;
};

static int owner_task(void *arg, void **result)
{
    struct owner_args *a = arg;
    *result = NULL;
    return deep_owner(a->depth, a->how);
}

/* The owner is itself a spawned task with default options (corio_run's
 * main task too, but the rule is about any task). */
static int run_owner(void *arg, void **result)
{
    corio_task *t;
    int rc = corio_spawn(owner_task, arg, NULL, &t);
    *result = NULL;
    if (rc)
        return rc;
    rc = corio_task_join(t, NULL);
    corio_task_release(t);
    return rc;
}

static void check_owner(int depth, int how)
{
    struct owner_args a = {depth, how};
    CHECK_EQ(corio_run(run_owner, &a, NULL), 0);
}

TEST(task_stack_pointer_used_while_owner_waits)
{
    check_owner(0, 0);
    check_owner(0, 2);
}

TEST(task_stack_pointer_used_while_owner_sleeps)
{
    check_owner(0, 1);
}

TEST(task_stack_pointer_from_deep_frames)
{
    /* ~40 KiB of frames below the pointer, within the 64 KiB default
     * (sanitizer builds have 256 KiB). */
    check_owner(40, 0);
    check_owner(40, 1);
}
