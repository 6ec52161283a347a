/*
 * pipeline.c: a streaming pipeline over a topic, in the spirit of a survey
 * telescope's data flow.
 *
 * A "camera" task makes one small CCD frame a millisecond (32x32 pixels of
 * 12-bit counts: a sky level that drifts over the night, read noise, and a
 * few stars drawn with a Moffat profile, all from a PRNG seeded by the
 * frame number, so every run sees the same frames) and publishes it to a
 * corio_topic. Three subscribers, children of one task group, read it
 * with the async-for of topics, `while (corio_topic_next(...) == 0)`:
 *
 *   background  BLOCK, 8 frames    the sky level (median) of every frame
 *   stars       BLOCK, 8 frames    counts stars (local maxima over the sky)
 *   archiver    DROP_OLDEST, 4     "writes" each frame, 3 ms a frame: it
 *                                  cannot keep up and loses the oldest
 *
 * A BLOCK subscriber is lossless (a full buffer would hold the camera
 * back); the archiver trades completeness for never slowing the camera.
 * After the last frame the camera closes the topic; each subscriber drains
 * its buffer, gets CORIO_END and returns; the group waits for all.
 *
 * Frame ownership. Frames live on the heap and all subscribers share
 * each one, so a frame carries a reference count, run the way
 * corio/topic.h suggests. The camera starts it at a bias bigger than any
 * subscriber count, publishes, and then swaps the bias for the number of
 * subscribers publish says the frame reached. Each of those gives its
 * reference back exactly once: after using the frame, or from its drop
 * callback, which the topic calls for frames the subscriber will never
 * see (the ones the archiver's full buffer pushes out, and any still
 * buffered when a subscriber leaves). The last reference frees the frame.
 * The bias is there because a publish may wait for a full BLOCK buffer
 * while subscribers it has already reached use and release the frame.
 *
 * Output: a table, one row per subscriber, then the frame accounting.
 * Everything is the same on every run except the values marked with '~':
 * how many frames the archiver got to is a race between two timers. The
 * program checks that the BLOCK subscribers saw every frame in order,
 * that the star counts match the stars drawn, that the frames the
 * archiver wrote plus the ones its drop callback got add up to all
 * frames (the latter being the topic's own drop count), and that every
 * frame made was freed; it exits 1 if any check fails.
 */
#include <corio.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FRAMES 200
#define W 32
#define H 32
#define MAXADU 4095        /* a 12-bit camera */
#define CADENCE 0.001      /* seconds between frames */
#define ARCHIVE_COST 0.003 /* seconds the archiver spends on a frame */
#define THRESHOLD 50       /* ADU over the sky a star's peak must reach */
#define BIAS (SIZE_MAX / 2) /* a frame's count while it is being published */

static int failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)

struct frame {
    unsigned seq;
    size_t refs; /* subscribers yet to give it back (+BIAS: publishing) */
    double sky;  /* what was drawn: the truth to check against */
    int stars;
    uint16_t px[H][W];
};

struct pipeline {
    corio_topic *topic;
    unsigned published, made, freed, alive, most_alive, short_delivered;
};

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A frame; the caller sets its count. */
static struct frame *frame_new(struct pipeline *p, unsigned seq)
{
    static float img[H][W]; /* scratch: frame_new never suspends */
    struct frame *f = calloc(1, sizeof *f);
    uint64_t rng = seq;
    int x, y, i, n, want, xs[5], ys[5];
    if (!f)
        return NULL;
    f->seq = seq;
    f->sky = 180.0 + 40.0 * abs((int)(seq % 100) - 50) / 50.0;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) { /* read noise: 4 bytes summed, +-10 ADU */
            uint64_t r = splitmix(&rng);
            int sum = (int)(r & 255) + (int)(r >> 8 & 255) +
                      (int)(r >> 16 & 255) + (int)(r >> 24 & 255);
            img[y][x] = (float)(f->sky + (sum - 510) / 51.0);
        }
    want = 1 + (int)(splitmix(&rng) % 5);
    for (n = 0, i = 0; n < want && i < 100; i++) {
        int cx = 4 + (int)(splitmix(&rng) % (W - 8)), j;
        int cy = 4 + (int)(splitmix(&rng) % (H - 8));
        double amp = 400 + (double)(splitmix(&rng) % 1601); /* peak, ADU */
        for (j = 0; j < n && abs(cx - xs[j]) + abs(cy - ys[j]) >= 10; j++)
            ;
        if (j < n) /* too close to a star already drawn */
            continue;
        for (y = cy - 4; y <= cy + 4; y++)
            for (x = cx - 4; x <= cx + 4; x++) {
                int r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
                double q = 1 + r2 / 2.25;
                img[y][x] += (float)(amp / (q * q * q)); /* Moffat, beta 3 */
            }
        xs[n] = cx, ys[n] = cy, n++;
    }
    f->stars = n;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            f->px[y][x] = img[y][x] >= MAXADU ? MAXADU
                                              : (uint16_t)(img[y][x] + 0.5f);
    p->made++;
    if (++p->alive > p->most_alive)
        p->most_alive = p->alive;
    return f;
}

static void frame_free(struct pipeline *p, struct frame *f)
{
    p->freed++;
    p->alive--;
    free(f);
}

/* Give back one reference; the last one frees the frame. One loop, one
 * thread: no atomics needed. */
static void frame_release(struct pipeline *p, struct frame *f)
{
    if (--f->refs == 0)
        frame_free(p, f);
}

/* The camera: make, publish, wait for the next exposure; then close. */
static int camera(void *arg, void **result)
{
    struct pipeline *p = arg;
    unsigned seq;
    int rc = 0;
    (void)result;
    for (seq = 0; seq < FRAMES && rc == 0; seq++) {
        struct frame *f = frame_new(p, seq);
        size_t subs = corio_topic_subscribers(p->topic), delivered = 0;
        if (!f) {
            rc = -ENOMEM;
            break;
        }
        /* While publish runs, subscribers may already release the frame:
         * the bias keeps the count above 0. After it, swap the bias for
         * the references handed out (whatever rc is). */
        f->refs = BIAS;
        rc = corio_topic_publish(p->topic, f, &delivered);
        f->refs = f->refs + delivered - BIAS;
        if (delivered != subs)
            p->short_delivered++;
        if (f->refs == 0) /* all given back already, or nobody got it */
            frame_free(p, f);
        if (rc == 0) {
            p->published++;
            rc = corio_sleep(CADENCE);
        }
    }
    corio_topic_close(p->topic); /* also on error: subscribers must end */
    return rc;
}

struct consumer {
    const char *name;
    int policy;
    size_t capacity;
    int (*use)(struct consumer *c, const struct frame *f);
    struct pipeline *pipe;
    corio_topic_sub *sub;
    unsigned frames;   /* taken from the topic */
    unsigned dropped;  /* given to its drop callback: never seen */
    unsigned next_seq; /* frames come in order: none below this */
    /* what use() found; which fields mean what depends on the consumer */
    long lo, hi, total, expected;
    double worst;
    unsigned wrong;
};

/* The drop callback: c will never see frame f. Runs inside a topic call
 * (here, the camera's publish or main's unsubscribe) and must not wait. */
static void frame_dropped(void *f, void *arg)
{
    struct consumer *c = arg;
    c->dropped++;
    frame_release(c->pipe, f);
}

/* A subscriber task: the async for, and its end. */
static int consume(void *arg, void **result)
{
    struct consumer *c = arg;
    void *item;
    size_t missed;
    int rc;
    (void)result;
    while ((rc = corio_topic_next(c->sub, &item, &missed)) == 0) {
        struct frame *f = item;
        unsigned seq = f->seq;
        if (seq >= c->next_seq) {
            /* a LAG subscriber would be told of the gap in missed */
            CHECK(missed == 0 || missed == seq - c->next_seq);
            c->next_seq = seq + 1;
            c->frames++;
            rc = c->use(c, f);
        } else {
            rc = corio_fail(-EPROTO, "%s: frame %u after %u", c->name, seq,
                            c->next_seq - 1);
        }
        frame_release(c->pipe, f); /* ours until here, whatever happened */
        if (rc != 0)
            return rc;
    }
    return rc == CORIO_END ? 0 : rc;
}

/* The median pixel: a robust sky level, stars being few. */
static long frame_median(const struct frame *f)
{
    static uint16_t hist[MAXADU + 1]; /* scratch: never suspends */
    unsigned i, seen = 0;
    for (i = 0; i <= MAXADU; i++)
        hist[i] = 0;
    for (i = 0; i < W * H; i++)
        hist[f->px[i / W][i % W]]++;
    for (i = 0; seen + hist[i] <= W * H / 2; i++)
        seen += hist[i];
    return (long)i;
}

/* Add one frame's value to c's range and total. */
static void tally(struct consumer *c, long v)
{
    if (c->frames == 1 || v < c->lo)
        c->lo = v;
    if (c->frames == 1 || v > c->hi)
        c->hi = v;
    c->total += v;
}

static int measure_sky(struct consumer *c, const struct frame *f)
{
    long sky = frame_median(f);
    double err = sky > f->sky ? sky - f->sky : f->sky - sky;
    tally(c, sky);
    if (err > c->worst)
        c->worst = err;
    return 0;
}

/* A star is a pixel THRESHOLD over the sky and the brightest of its 3x3
 * neighbourhood (ties go to the first in raster order). */
static int count_stars(struct consumer *c, const struct frame *f)
{
    long thr = frame_median(f) + THRESHOLD, n = 0;
    int x, y, dx, dy;
    for (y = 1; y < H - 1; y++)
        for (x = 1; x < W - 1; x++) {
            int v = f->px[y][x], peak = v > thr;
            for (dy = -1; peak && dy <= 1; dy++)
                for (dx = -1; peak && dx <= 1; dx++) {
                    int u = f->px[y + dy][x + dx];
                    if (dy * W + dx < 0 ? u >= v : u > v)
                        peak = 0;
                }
            n += peak;
        }
    tally(c, n);
    c->expected += f->stars;
    c->wrong += n != f->stars;
    return 0;
}

/* "Write" the frame: here, only the time a slow disk would take. */
static int archive(struct consumer *c, const struct frame *f)
{
    (void)c;
    (void)f;
    return corio_sleep(ARCHIVE_COST);
}

static int amain(void *arg, void **result)
{
    static struct consumer cons[] = {
        {.name = "background", .policy = CORIO_TOPIC_BLOCK, .capacity = 8,
         .use = measure_sky},
        {.name = "stars", .policy = CORIO_TOPIC_BLOCK, .capacity = 8,
         .use = count_stars},
        {.name = "archiver", .policy = CORIO_TOPIC_DROP_OLDEST, .capacity = 4,
         .use = archive},
    };
    static const corio_task_opts cam_opts = {.name = "camera"};
    const size_t ncons = sizeof cons / sizeof cons[0];
    struct consumer *bg = &cons[0], *st = &cons[1], *ar = &cons[2];
    struct pipeline p = {0};
    corio_group *g = NULL;
    size_t i;
    int rc;
    (void)arg;
    (void)result;

    if ((rc = corio_topic_new(&p.topic)) != 0)
        return rc;
    for (i = 0; i < ncons && rc == 0; i++) {
        cons[i].pipe = &p;
        rc = corio_topic_subscribe(p.topic, cons[i].capacity, cons[i].policy,
                                   &cons[i].sub);
        if (rc == 0) /* before anything is published: no drop unseen */
            rc = corio_topic_sub_on_drop(cons[i].sub, frame_dropped,
                                         &cons[i]);
    }
    if (rc == 0 && (rc = corio_group_open(&g)) == 0) {
        for (i = 0; i < ncons && rc == 0; i++) {
            corio_task_opts o = {.name = cons[i].name};
            rc = corio_group_spawn(g, consume, &cons[i], &o, NULL);
        }
        if (rc == 0)
            rc = corio_group_spawn(g, camera, &p, &cam_opts, NULL);
        if (rc != 0)
            corio_topic_close(p.topic); /* let the spawned ones end */
        rc = corio_group_wait(g, rc);
        corio_group_free(g);
    }
    for (i = 0; i < ncons; i++) {
        if (rc == 0) /* drained to the end: every drop was the policy's */
            CHECK(cons[i].dropped == corio_topic_sub_dropped(cons[i].sub));
        /* after an error, frames still buffered go to frame_dropped */
        corio_topic_unsubscribe(cons[i].sub); /* NULL: -EINVAL, harmless */
    }
    CHECK(corio_topic_free(p.topic) == 0);
    CHECK(p.freed == p.made && p.alive == 0); /* on every path */
    if (rc != 0)
        return rc;

    printf("%u frames of %dx%d pixels, one every %.0f ms, to %zu "
           "subscribers\n\n", p.published, W, H, CADENCE * 1e3, ncons);
    printf("%-11s %-12s %6s %7s %8s  %s\n", "subscriber", "policy", "buffer",
           "frames", "dropped", "result");
    printf("%-11s %-12s %6zu %7u %8u  sky %ld..%ld ADU, mean %.1f, worst "
           "error %.1f\n", bg->name, "BLOCK", bg->capacity, bg->frames,
           bg->dropped, bg->lo, bg->hi, (double)bg->total / bg->frames,
           bg->worst);
    printf("%-11s %-12s %6zu %7u %8u  %ld stars (%ld drawn), %ld..%ld a "
           "frame\n", st->name, "BLOCK", st->capacity, st->frames,
           st->dropped, st->total, st->expected, st->lo, st->hi);
    printf("%-11s %-12s %6zu %6u~ %7u~  written at %.0f ms a frame\n",
           ar->name, "DROP_OLDEST", ar->capacity, ar->frames, ar->dropped,
           ARCHIVE_COST * 1e3);
    printf("\nframes: %u made, %u freed, at most %u~ alive at once\n",
           p.made, p.freed, p.most_alive);
    printf("\nThe BLOCK subscribers saw every frame: when one of their "
           "buffers is full,\nthe camera waits. The archiver's DROP_OLDEST "
           "buffer never makes it wait:\nit loses its oldest frame instead, "
           "and its drop callback gives that frame\nback. A frame is freed "
           "when the last subscriber gives it back.\n"
           "~ marks the numbers that change from run to run: how far the "
           "archiver gets\n  is a race between the camera's %.0f ms timer "
           "and the archiver's %.0f ms writes.\n",
           CADENCE * 1e3, ARCHIVE_COST * 1e3);

    CHECK(p.published == FRAMES && p.short_delivered == 0);
    CHECK(bg->frames == FRAMES && bg->dropped == 0);
    CHECK(st->frames == FRAMES && st->dropped == 0);
    CHECK(bg->worst <= 3.0); /* star light lifts the median a little */
    CHECK(st->wrong == 0 && st->total == st->expected);
    CHECK(ar->frames + ar->dropped == FRAMES);
    CHECK(ar->frames >= ar->capacity); /* the last buffer-full is kept */
    CHECK(p.made == FRAMES && p.freed == FRAMES && p.alive == 0);
    return 0;
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
    printf("every check holds (BLOCK subscribers saw every frame in order, "
           "the star counts\nmatch the stars drawn, archived + dropped = "
           "made, every frame freed)\n");
    return 0;
}
