/* The server's log output (docs/OPERATIONS.md "Logs"): LOG_FILE, reopened on
 * SIGHUP, and a buffered sink so that an access line per request does not
 * cost a write(2) per request. Not in the enclave: it logs to stderr as is. */
#ifndef PA_LOGSINK_H
#define PA_LOGSINK_H

#include "result.h"

/* Appends to path instead of the inherited stderr by putting it on
 * descriptor 2, so whatever writes to stderr (libpq notices, a supervised
 * enclave started afterwards) goes there too. Called again (SIGHUP) it opens
 * the path anew: after logrotate's rename the old file is closed and a new
 * one created. 0, or -1 with errno set (logging stays where it was). */
PA_MUST_USE int pa_logsink_open_file(const char *path);

/* Info lines are collected in memory (64 KiB) and written at most every
 * 200 ms, or when the buffer is full, by a thread started here; warnings
 * and errors write what is pending and themselves at once. */
PA_MUST_USE int pa_logsink_start(void);
/* Writes what is pending. */
void pa_logsink_flush(void);
/* Stops the thread, writes what is pending, and logs unbuffered again. */
void pa_logsink_stop(void);

#endif
