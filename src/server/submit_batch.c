/* Group commit for submit_key (see submit_batch.h).
 *
 * One mutex guards a FIFO of waiters (each lives on its worker's stack) and
 * the flag "a batch is being written". A waiter whose row is still queued
 * when no batch is being written becomes the leader: it takes the queue (up
 * to max rows), writes it without holding the mutex, records every row's
 * outcome and wakes exactly the threads with something to do: the writers
 * of those rows, and the oldest row still queued, whose thread leads the
 * next batch (each waiter has a condition variable of its own, so a batch
 * wakes its rows' threads, not all of them). Only one batch is written at a
 * time on purpose: rows that arrive meanwhile wait for the next flush
 * anyway, and writing them as one statement afterwards costs one flush
 * instead of one each. A leader whose own row did not fit loops and leads
 * again, or is taken by the next leader. */
#include "submit_batch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

typedef enum {
    W_QUEUED,  /* waiting to be taken into a batch */
    W_WRITING, /* in the batch being written */
    W_DONE,    /* status holds the outcome */
} waiter_state;

typedef struct waiter {
    const pa_db_new_session *s;
    pa_db_status status;
    waiter_state state;
    pthread_cond_t wake; /* state changed, or the writing stopped while queued */
    struct waiter *next;
} waiter;

struct pa_submit_batch {
    pa_db *db;
    size_t max;
    pthread_mutex_t lock;
    waiter *head;
    waiter **tail;
    bool writing;
};

pa_submit_batch *pa_submit_batch_new(pa_db *db, int max_batch)
{
    if (db == NULL || max_batch < 1 || max_batch > PA_DB_BATCH_MAX)
        return NULL;
    pa_submit_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->db = db;
    b->max = (size_t)max_batch;
    b->tail = &b->head;
    pthread_mutex_init(&b->lock, NULL);
    return b;
}

void pa_submit_batch_free(pa_submit_batch *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static bool envelope_taken(waiter *const *taken, size_t n, const char *ephemeral_pub)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(taken[k]->s->ephemeral_pub, ephemeral_pub) == 0)
            return true;
    return false;
}

/* Moves up to b->max queued waiters, oldest first, into taken. A second
 * submit of an envelope already taken stays queued for the next batch:
 * there it meets the first one's committed row and is a replay (409), or,
 * when the first one failed, is stored itself. One statement never holds an
 * envelope twice, so its ON CONFLICT only ever meets committed rows.
 * Called with the lock held. */
static size_t take_batch(pa_submit_batch *b, waiter **taken)
{
    size_t n = 0;
    waiter *rest = NULL;
    waiter **rest_tail = &rest;
    for (waiter *w = b->head, *next; w != NULL; w = next) {
        next = w->next;
        if (n < b->max && !envelope_taken(taken, n, w->s->ephemeral_pub)) {
            w->state = W_WRITING;
            taken[n++] = w;
        } else {
            w->next = NULL;
            *rest_tail = w;
            rest_tail = &w->next;
        }
    }
    b->head = rest;
    b->tail = rest != NULL ? rest_tail : &b->head; /* never the local `rest` */
    return n;
}

/* The leader's part: called and returns with the lock held, which it drops
 * while the database works. */
static void write_batch(pa_submit_batch *b)
{
    waiter *taken[PA_DB_BATCH_MAX];
    const pa_db_new_session *rows[PA_DB_BATCH_MAX];
    pa_db_status out[PA_DB_BATCH_MAX];
    size_t n = take_batch(b, taken);
    b->writing = true;
    pthread_mutex_unlock(&b->lock);

    /* The taken rows belong to waiters blocked until they are W_DONE. */
    for (size_t k = 0; k < n; k++)
        rows[k] = taken[k]->s;
    pa_db_session_create_batch(b->db, rows, n, out);
    pa_metrics_submit_batch(n);

    pthread_mutex_lock(&b->lock);
    for (size_t k = 0; k < n; k++) {
        taken[k]->status = out[k];
        taken[k]->state = W_DONE;
        pthread_cond_signal(&taken[k]->wake);
    }
    b->writing = false;
    if (b->head != NULL)
        pthread_cond_signal(&b->head->wake); /* the next leader */
}

pa_db_status pa_submit_batch_create(pa_submit_batch *b, const pa_db_new_session *s)
{
    if (b == NULL || s == NULL)
        return PA_DB_UNAVAILABLE;
    /* The rare path, and one db.c checks in full: claiming an enclave-made
     * key needs a transaction of its own; a row without an envelope key is a
     * contract violation session_create refuses. */
    if (s->enclave_key_id != NULL || s->ephemeral_pub == NULL)
        return pa_db_session_create(b->db, s);

    waiter me = {.s = s, .status = PA_DB_UNAVAILABLE, .state = W_QUEUED, .next = NULL};
    pthread_cond_init(&me.wake, NULL);
    pthread_mutex_lock(&b->lock);
    /* me lives on this stack until it is W_DONE, and only a batch that took
     * it off the queue (take_batch) makes it W_DONE: the queue never holds
     * it once this returns. */
    *b->tail = &me;
    /* cppcheck-suppress autoVariables */
    b->tail = &me.next;
    while (me.state != W_DONE) {
        if (me.state == W_QUEUED && !b->writing) {
            write_batch(b);
            continue;
        }
        /* No deadline of its own: the batch being written (and this row's
         * own, next) is bounded by db.c's acquire and call time limits. */
        pthread_cond_wait(&me.wake, &b->lock);
    }
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&me.wake); /* signalled only under the lock: no one touches it now */
    return me.status;
}
