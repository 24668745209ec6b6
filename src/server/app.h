/* Everything the HTTP layer, the handlers and the sweeper share. Built once
 * in main.c; read-only afterwards except through the thread-safe objects it
 * points to. */
#ifndef PA_APP_H
#define PA_APP_H

#include "config.h"
#include "db.h"
#include "health.h"
#include "quote_cache.h"
#include "jobs.h"
#include "ratelimit.h"
#include "router.h"
#include "static_files.h"
#include "submit_batch.h"
#include "workq.h"

typedef struct {
    pa_config cfg;
    pa_db *db;
    pa_submit_batch *submits;    /* submit_key's group commit on db (submit_batch.h) */
    pa_ratelimit *rl;
    pa_workq *queues[PA_QUEUE_COUNT]; /* the workers of each pa_queue (router.h); INLINE: NULL */
    pa_jobs *jobs;               /* aggregate jobs: a pool of their own (jobs.h) */
    pa_health *health;           /* cached /health status (may be NULL: all down) */
    pa_quote_cache *quotes;      /* the nonce-less quote, refreshed by the enclave probe */
    unsigned connection_limit;   /* HTTP connections at once (fdlimit.h) */
    pa_static pages;             /* the browser pages; empty when none were found */
} pa_app;

#endif
