/* File descriptors: the server's budget for client connections.
 *
 * Every HTTP connection is a descriptor, and so is every enclave call (one
 * Unix socket per call) and every database connection. If the connection
 * limit allowed more clients than the process has descriptors, idle clients
 * could use them all up, and the enclave and database connects that real
 * requests need would fail. So the soft RLIMIT_NOFILE is raised to the hard
 * limit at start-up, and the connection limit is what remains after a
 * reserve for everything else. */
#ifndef PA_FDLIMIT_H
#define PA_FDLIMIT_H

#include "result.h"

/* Raises the soft RLIMIT_NOFILE to the hard limit. Returns the soft limit in
 * force afterwards (the old one if raising failed), or -1 when it cannot be
 * read. */
long pa_fdlimit_raise(void);

/* min(cap, nofile - reserve), or 0 when nofile does not exceed reserve. */
unsigned pa_fdlimit_connections(long nofile, unsigned reserve, unsigned cap);

#endif
