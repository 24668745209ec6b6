/* Socket addresses of the egress path (enclave -> relay, relay listening):
 *   unix:/path           a Unix stream socket
 *   tcp://IP:PORT        IPv4 literal or [IPv6] literal, numeric port
 *   vsock://CID:PORT     AF_VSOCK, as between a Nitro Enclave and its parent
 * No names are resolved: the address is always exactly what was written. */
#ifndef PA_EGRESS_ADDR_H
#define PA_EGRESS_ADDR_H

#include <sys/socket.h>

#include "result.h"

typedef struct {
    struct sockaddr_storage sa;
    socklen_t len;
    int family; /* AF_UNIX, AF_INET, AF_INET6 or AF_VSOCK */
} pa_egress_addr;

PA_MUST_USE int pa_egress_addr_parse(const char *text, pa_egress_addr *out);

/* A connected (blocking, close-on-exec) stream socket, or -1 (errno set). */
int pa_egress_addr_connect(const pa_egress_addr *a);

/* A listening stream socket (backlog 64, close-on-exec), or -1. A Unix path is
 * replaced and made accessible to its owner only. */
int pa_egress_addr_listen(const pa_egress_addr *a);

#endif
