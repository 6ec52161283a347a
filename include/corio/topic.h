/*
 * corio/topic.h: publish/subscribe topics between tasks (a broadcast
 * channel; asyncio has none, this is the usual "one asyncio.Queue per
 * subscriber" pattern done once, with a choice of overflow policy).
 *
 *     corio_topic *t;  corio_topic_sub *s;  void *item;  size_t missed;
 *     corio_topic_new(&t);
 *     corio_topic_subscribe(t, 64, CORIO_TOPIC_LAG, &s);
 *     ...                                    // publisher task:
 *     corio_topic_publish(t, item, NULL);    // ... corio_topic_close(t);
 *     ...                                    // subscriber task:
 *     while ((rc = corio_topic_next(s, &item, &missed)) == 0)
 *         use(item, missed);
 *     corio_topic_unsubscribe(s);            // rc: CORIO_END, ...
 *
 * Items are `void *`, borrowed: the topic never looks at them or frees
 * them; the same pointer goes to every subscriber. An item a subscriber
 * was given but will never get from next (dropped by its policy, or left
 * in its buffer when it leaves) goes to its drop callback, if it set one
 * (corio_topic_sub_on_drop), so items can be owned: see "Owning items".
 *
 * Who gets what. A subscriber gets every item whose publish takes its
 * turn (see below) after the subscriber joined and before it left, in
 * publish order, each through its own bounded buffer of `capacity` items.
 * When that buffer is full, its policy decides:
 *   CORIO_TOPIC_BLOCK        the publisher waits until this subscriber
 *                            takes an item (or leaves);
 *   CORIO_TOPIC_DROP_OLDEST  the oldest buffered item is dropped;
 *   CORIO_TOPIC_DROP_NEWEST  the item being published is dropped (for
 *                            this subscriber);
 *   CORIO_TOPIC_LAG          as DROP_OLDEST, and the next corio_topic_next
 *                            reports how many items were dropped since the
 *                            previous one (tokio's broadcast "Lagged").
 *
 * Publishers take turns: one publish at a time delivers, in the order the
 * publishes began (FIFO-fair), so every subscriber sees one order. A
 * publish delivers at once to every subscriber that does not block, and
 * then waits for room in each full BLOCK subscriber; whoever makes room
 * (a next on that subscriber, its unsubscribe) does the transfer, so the
 * item is never in flight on a task's stack.
 *
 * Cancellation never duplicates an item, and never loses one silently.
 * A next woken with an item returns it with 0 even if cancelled before
 * it ran; a next cancelled while waiting took nothing. A publish reports
 * through *delivered exactly how many subscribers it reached, whatever it
 * returns: cancelled (or the topic closed) while waiting for its turn,
 * nobody (0); cancelled while waiting for BLOCK subscribers, the ones it
 * reached keep it and the rest never see it (no gap is reported to them,
 * nor is the item passed to their drop callbacks).
 *
 * Cancellation: fails with -ECANCELED at once if it would have to wait
 * while a cancel stands. A next with an item buffered takes it; a publish
 * that would wait (another publish under way, or a BLOCK subscriber full)
 * fails before it delivers to anyone, and one that need not wait
 * delivers.
 *
 * Closing: corio_topic_close ends the topic. Publishes return -ESHUTDOWN
 * (waiting ones are woken with it); each subscriber still drains its
 * buffer, then next returns CORIO_END.
 *
 * Threads and loops: a topic belongs to the loop of the first task that
 * waits on it and is used on that loop's thread only (no locking).
 * subscribe, unsubscribe, close, sub_on_drop and the queries work outside
 * a task too.
 *
 * Owning items. Each subscriber a publish reaches (counted in its
 * *delivered; a DROP_NEWEST subscriber that refuses the item counts) gives
 * the item back exactly once: its corio_topic_next returns it, or its
 * drop callback gets it. Reaching is over when publish returns; giving
 * back may come before (while a BLOCK publish waits, subscribers it
 * reached may take, use and release the item, or evict it) or any time
 * after. So a heap item shared by all subscribers can be counted with a
 * bias the publisher removes once it knows the count:
 *
 *     #define BIAS (SIZE_MAX / 2)   // more than any publish can reach
 *     static void release(void *item, void *arg)    // after use, and
 *     {                                              // as the drop fn
 *         struct obj *o = item;
 *         if (--o->refs == 0)
 *             free(o);
 *     }
 *     corio_topic_sub_on_drop(s, release, NULL);    // right at subscribe
 *     ...                                           // the publisher:
 *     o->refs = BIAS;
 *     rc = corio_topic_publish(t, o, &delivered);   // whatever rc is
 *     o->refs = o->refs + delivered - BIAS;         // releases to come
 *     if (o->refs == 0)
 *         free(o);                                  // o is not ours now
 *     ...                                           // a subscriber:
 *     while (corio_topic_next(s, &item, NULL) == 0) {
 *         use(item);
 *         release(item, NULL);
 *     }
 *
 * While the publish runs, refs = BIAS - (releases so far) > 0, as only
 * reached subscribers release and BIAS exceeds their number; after it,
 * refs + delivered - BIAS is exactly the releases still to come (refs is
 * a size_t). This holds whatever the publish returns: an error before its
 * turn (-ESHUTDOWN, cancelled while queued) reached nobody, so
 * the publisher frees; cancelled or closed while waiting for BLOCK
 * subscribers, it counts only those it reached; a subscriber leaving
 * meanwhile releases at unsubscribe if it was reached, else is not
 * counted. The rule needs: the drop callback on every subscriber before
 * a publish can reach it; BIAS above the subscriber count; no suspension
 * between publish returning and the adjustment (this thread owns the
 * count then); atomic counts if subscribers release on other threads.
 *
 * Memory: one ring per subscriber, allocated at subscribe; a waiting
 * publisher or subscriber waits through its task's own wait record, so
 * publishing and receiving never allocate.
 * Limits: a publish costs O(subscribers).
 */
#ifndef CORIO_TOPIC_H
#define CORIO_TOPIC_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corio_topic corio_topic;
typedef struct corio_topic_sub corio_topic_sub;

enum corio_topic_policy {
    CORIO_TOPIC_BLOCK,
    CORIO_TOPIC_DROP_OLDEST,
    CORIO_TOPIC_DROP_NEWEST,
    CORIO_TOPIC_LAG
};

/* A subscriber's drop callback: item will never come out of its
 * corio_topic_next. arg is corio_topic_sub_on_drop's. */
typedef void (*corio_topic_drop_fn)(void *item, void *arg);

/*
 * corio_topic_new: a topic with no subscribers. Does not suspend.
 * Returns 0 with *out set (the caller frees it with corio_topic_free),
 * -EINVAL (out NULL), -ENOMEM.
 */
CORIO_API int corio_topic_new(corio_topic **out);

/*
 * corio_topic_free: free t. Returns 0, or -EBUSY while subscribers remain
 * or a publisher waits on t (or was woken and has not run yet), or from a
 * drop callback: t is left untouched. As subscribers must have
 * left, no item is buffered: none is passed to a drop callback here.
 */
CORIO_API int corio_topic_free(corio_topic *t);

/*
 * corio_topic_subscribe: join t with a buffer of `capacity` items (>= 1)
 * and an overflow policy. Does not suspend. The subscriber gets the items
 * of publishes that take their turn from now on (not the one delivering
 * now, if any). Returns 0 with *out set (owned by the caller until
 * corio_topic_unsubscribe), -EINVAL (t or out NULL, capacity 0, unknown
 * policy), -ESHUTDOWN (t is closed), -EBUSY (from a drop callback on t),
 * CORIO_EWRONGTHREAD, -ENOMEM.
 */
CORIO_API int corio_topic_subscribe(corio_topic *t, size_t capacity,
                                    int policy, corio_topic_sub **out);

/*
 * corio_topic_unsubscribe: leave the topic and free s; its buffered items
 * go, oldest first, to its drop callback (if any; the topic frees
 * nothing). Does not suspend. If the publish delivering now waits for
 * room in s, it no longer does (and may complete, which can call other
 * subscribers' drop callbacks). Returns 0, -EBUSY (a task waits in next on
 * s, or was woken and has not run yet, or called from a drop callback on
 * the topic: s is untouched), CORIO_EWRONGTHREAD, -EINVAL (s NULL).
 */
CORIO_API int corio_topic_unsubscribe(corio_topic_sub *s);

/*
 * corio_topic_sub_on_drop: from now on, call fn(item, arg) once for every
 * item given to s that s's corio_topic_next will never return: evicted
 * from a full buffer (DROP_OLDEST, LAG), refused by a full buffer
 * (DROP_NEWEST), or still buffered at corio_topic_unsubscribe. Never for
 * items s never got: those of publishes whose turn came before s joined
 * or after it left, or the item of a publish cancelled (or a topic
 * closed) while it waited for room in s. Drops before the call are not
 * reported: set it right after subscribing. fn NULL removes it. Does not
 * suspend. Returns 0, -EINVAL (s NULL).
 *
 * fn runs in the call that drops, on the topic's thread: a publish,
 * next or unsubscribe (the last two can let a waiting publish deliver),
 * or the cancel of a waiting publisher, which lets the next one deliver
 * (corio_task_cancel, a deadline, a group's cancel). So fn must not
 * suspend, must not cancel a task that may be waiting in
 * corio_topic_publish on this topic, and on this topic may call only the
 * queries and corio_topic_sub_on_drop: other corio_topic_ calls on it
 * return -EBUSY. Other topics are fine.
 */
CORIO_API int corio_topic_sub_on_drop(corio_topic_sub *s,
                                      corio_topic_drop_fn fn, void *arg);

/*
 * corio_topic_publish: give item to every subscriber. Suspends the calling
 * task while another publish is delivering, or while a BLOCK subscriber is
 * full (see above). Returns 0 (every subscriber got it, or dropped it by
 * its policy); -ECANCELED (cancelled before or while waiting); -ESHUTDOWN
 * (t closed before or while waiting); -EBUSY
 * (from a drop callback on t); CORIO_ENOTASK (not in a task);
 * CORIO_EWRONGTHREAD; -EINVAL (t NULL). If delivered is not NULL,
 * *delivered is always set: how many subscribers the item reached, each
 * of which will return it from next or pass it to its drop callback
 * exactly once (a DROP_NEWEST subscriber that refused it counts: it
 * dropped it at once).
 */
CORIO_API int corio_topic_publish(corio_topic *t, void *item,
                                  size_t *delivered);

/*
 * corio_topic_next: take s's oldest buffered item, waiting while the
 * buffer is empty. Suspends the calling task. Returns 0 with *item set
 * and, if missed is not NULL, *missed set: for a LAG subscriber the
 * number of items dropped since the previous item it took, else 0;
 * CORIO_END (the topic is closed and s's buffer is empty);
 * -ECANCELED (cancelled before or while waiting: nothing taken);
 * -EBUSY (another task waits in next on s, or called from a drop
 * callback on the topic); CORIO_ENOTASK; CORIO_EWRONGTHREAD; -EINVAL (s
 * or item NULL). On error *item and *missed are untouched.
 */
CORIO_API int corio_topic_next(corio_topic_sub *s, void **item,
                               size_t *missed);

/*
 * corio_topic_close: close t (see above). Does not suspend. Wakes waiting
 * publishers (-ESHUTDOWN) and subscribers with empty buffers
 * (CORIO_END). Idempotent. Drops nothing: buffers stay to drain.
 * Returns 0, -EBUSY (from a drop callback on t), CORIO_EWRONGTHREAD,
 * -EINVAL.
 */
CORIO_API int corio_topic_close(corio_topic *t);

/* Queries: closed yet; the number of subscribers; items buffered in s;
 * items s has dropped in all by its policy (evicted or refused: each also
 * went to its drop callback, if set). */
CORIO_API int corio_topic_is_closed(const corio_topic *t);
CORIO_API size_t corio_topic_subscribers(const corio_topic *t);
CORIO_API size_t corio_topic_sub_size(const corio_topic_sub *s);
CORIO_API size_t corio_topic_sub_dropped(const corio_topic_sub *s);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_TOPIC_H */
