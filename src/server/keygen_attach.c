#include "keygen_attach.h"

#include <string.h>

#include "db_reply.h"
#include "ipc_host.h"
#include "json_strict.h"
#include "keygen_db.h"
#include "log.h"
#include "validate.h"

/* The key's row; -1 with the reply filled when the key cannot serve. */
static int key_row(pa_db *db, const char *key_id, pa_keygen_row *row, pa_reply *reply)
{
    static const pa_db_answer answers[] = {
        {PA_DB_NOT_FOUND, 404, "enclave_key_not_found",
         "No enclave-made key has this key_id (never made, expired and removed, or deleted "
         "with its revoked session)."},
        PA_DB_ANSWERS_END,
    };
    if (pa_reply_db(reply, pa_keygen_db_get(db, key_id, row), answers,
                    "The key could not be read.") != 0)
        return -1;
    if (row->expired) {
        pa_reply_error(reply, 410, "enclave_key_expired",
                       "This enclave-made key has expired; make a new one with POST "
                       "/enclave/keygen.");
        return -1;
    }
    return 0;
}

int pa_keygen_submit_attach(pa_db *db, const json_t *metadata, json_t *open_request,
                            pa_reply *reply)
{
    const char *key_id = pa_json_str(metadata, "enclave_key_id");
    if (key_id == NULL)
        return 0;
    pa_keygen_row row;
    if (key_row(db, key_id, &row, reply) != 0)
        return -1;
    if (row.session_id[0] != '\0') {
        pa_reply_error(reply, 409, "enclave_key_used",
                       "This enclave-made key already serves a session; a key serves one "
                       "session only: make a new one.");
        return -1;
    }
    if (strcmp(row.exchange, pa_json_str(metadata, "exchange")) != 0) {
        pa_reply_error(reply, 400, "enclave_key_mismatch",
                       "This enclave-made key was made for another exchange.");
        return -1;
    }
    if (pa_ipc_request_set_sealed_key(open_request, PA_IPC_OP_OPEN, row.sealed_key) != 0) {
        pa_reply_error(reply, 500, "internal_error", "The stored key is unreadable.");
        return -1;
    }
    return 0;
}

int pa_keygen_aggregate_attach(pa_db *db, const char *session_id, const char *metadata_jcs,
                               json_t *request, pa_reply *reply)
{
    json_t *metadata = pa_json_parse(metadata_jcs, strlen(metadata_jcs), PA_BODY_MAX);
    const char *key_id = pa_json_str(metadata, "enclave_key_id");
    int rc = key_id == NULL ? 0 : -1;
    pa_keygen_row row;
    if (key_id == NULL || key_row(db, key_id, &row, reply) != 0) {
        /* no enclave-made key (rc 0), or the reply says why it cannot serve */
    } else if (strcmp(row.session_id, session_id) != 0) {
        /* the key is claimed at submit in the session's own transaction */
        pa_log_error("request_aggregates: the session's enclave-made key is not bound to it");
        pa_reply_error(reply, 500, "internal_error", "The stored session is inconsistent.");
    } else if (pa_ipc_request_set_sealed_key(request, PA_IPC_OP_AGGREGATE, row.sealed_key) != 0) {
        pa_reply_error(reply, 500, "internal_error", "The stored key is unreadable.");
    } else {
        rc = 0;
    }
    json_decref(metadata);
    return rc;
}
