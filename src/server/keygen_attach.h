/* An enclave-made key's part in submit_key and request_aggregates
 * (docs/PROTOCOL.md "Enclave-made API keys"): the host only ever holds the
 * key's public half and its sealed private half; it picks which sealed key
 * goes with a request, and the enclave checks it against the envelope's
 * authenticated metadata. */
#ifndef PA_KEYGEN_ATTACH_H
#define PA_KEYGEN_ATTACH_H

#include <jansson.h>

#include "db.h"
#include "reply.h"
#include "result.h"

/* submit_key: when metadata names an enclave_key_id, that key (unclaimed,
 * unexpired, of the same exchange) has its sealed half set on open_request.
 * 0 when done or when no key is named; -1 with reply filled when the key
 * cannot serve. */
PA_MUST_USE int pa_keygen_submit_attach(pa_db *db, const json_t *metadata, json_t *open_request,
                                        pa_reply *reply);

/* request_aggregates: the same for an aggregate request of session_id, whose
 * stored metadata is metadata_jcs; the key must be the one the session
 * claimed. */
PA_MUST_USE int pa_keygen_aggregate_attach(pa_db *db, const char *session_id,
                                           const char *metadata_jcs, json_t *request,
                                           pa_reply *reply);

#endif
