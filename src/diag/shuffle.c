/*
 * shuffle.c: the seeded schedule shuffler (corio_diag_shuffle,
 * corio/diag.h): in debug mode, each iteration's task steps run in an
 * order drawn from a seed instead of FIFO, so tests meet the interleavings
 * FIFO never produces; the same seed replays the same order exactly (as
 * long as the program itself is deterministic).
 *
 * Only task steps move: the batch's callbacks (call_soon, done callbacks,
 * cross-thread calls) keep their positions and their order, which the
 * loop's contract promises. The generator is xorshift64*, one state per
 * loop, advanced only here.
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

corio__ready **corio__diag_shuffled(corio_loop *loop, corio__diag_state *ds,
                                    size_t count)
{
    size_t i, n = 0, *pos;
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
        if (r && corio__task_of_step(r))
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
    ds->rng = seed ? seed : 1;
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
