/*
 * shuffle.c: the seeded schedule shuffler (corio_diag_shuffle,
 * corio/diag.h): in debug mode, each iteration's task steps run in an
 * order drawn from a seed instead of FIFO, so tests meet the interleavings
 * FIFO never produces; the same seed replays the same order exactly (as
 * long as the program itself is deterministic).
 *
 * Only task steps move: the batch's callbacks (call_soon, done callbacks,
 * cross-thread calls) keep their positions and their order, which the
 * loop's contract promises. And only the steps that the previous batch's
 * own steps made ready: those that timers, descriptors or other threads
 * woke in this iteration stay after them, in their order (timers in
 * deadline order). Which of those land in one batch depends on timing (a
 * loaded machine runs a late iteration with many timers due at once), so
 * shuffling them would make the order depend on the machine's load, and a
 * seed would no longer replay it; the order among steps that tasks made
 * ready does not. The generator is xorshift64*, one state per loop,
 * advanced only here.
 */
#include "alloc.h"
#include "diag/diag_impl.h"

#include <errno.h>
#include <stdlib.h>

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* splitmix64's finalizer: spreads a small seed (1, 2, 3...) over the whole
 * state, so nearby seeds give unrelated orders from the first draw on
 * (xorshift started from a small state repeats its neighbours' first
 * choices). */
static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z ? z : 1;
}

corio__ready **corio__diag_shuffled(corio_loop *loop, corio__diag_state *ds,
                                    size_t count)
{
    size_t i, n = 0, *pos;
    /* Before the first batch the loop ran, nothing is known: all of it. */
    size_t movable = ds->carried_known && ds->carried < count ? ds->carried
                                                              : count;
    if (ds->batch_cap < count) {
        size_t cap = count * 2;
        corio__ready **b = corio__realloc(ds->batch, cap * sizeof *b);
        if (!b)
            return NULL;
        ds->batch = b;
        ds->batch_cap = cap;
    }
    pos = corio__malloc(count * sizeof *pos);
    if (!pos)
        return NULL;
    for (i = 0; i < count; i++) {
        corio__ready *r = corio__ready_pop(loop);
        ds->batch[i] = r;
        if (r && i < movable && corio__task_of_step(r))
            pos[n++] = i;
    }
    /* Fisher-Yates over the task slots only. */
    for (i = n; i > 1; i--) {
        size_t j = (size_t)(next(&ds->rng) % i);
        corio__ready *tmp = ds->batch[pos[i - 1]];
        ds->batch[pos[i - 1]] = ds->batch[pos[j]];
        ds->batch[pos[j]] = tmp;
    }
    corio__free(pos);
    return ds->batch;
}

int corio__diag_shuffle_set(corio_loop *loop, unsigned long long seed,
                            int announce)
{
    corio__diag_state *ds;
    if (!loop)
        return -EINVAL;
    if (!(ds = corio__diag_state_of(loop)))
        return -ENOMEM;
    ds->seed = seed;
    ds->rng = mix(seed);
    if (seed) {
        corio_diag_debug(loop, 1);
        if (announce)
            fprintf(stderr, "corio: ready tasks run in an order shuffled "
                            "with seed %llu (replay: CORIO_SHUFFLE_SEED=%llu)"
                            "\n", seed, seed);
    }
    return 0;
}

int corio_diag_shuffle(corio_loop *loop, unsigned long long seed)
{
    return corio__diag_shuffle_set(loop, seed, 1);
}
