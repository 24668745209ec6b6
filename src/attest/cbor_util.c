/* The few CBOR helpers attestation needs on top of libcbor: a hardened load
 * for untrusted bytes and ownership-safe builders for the encoder. */
#include <stdbool.h>
#include <stdlib.h>

#include "attest_internal.h"

/* ---- strict load ------------------------------------------------------------ */

typedef enum {
    SCAN_LEAF,       /* an item with no children */
    SCAN_ARRAY,      /* definite array: `count` children */
    SCAN_MAP,        /* definite map: 2 * `count` children */
    SCAN_TAG,        /* one child */
    SCAN_FORBIDDEN,  /* indefinite length or a stray break */
} scan_kind;

typedef struct {
    scan_kind kind;
    uint64_t count;
} scan_event;

static void on_leaf_u8(void *c, uint8_t v) { (void)v; ((scan_event *)c)->kind = SCAN_LEAF; }
static void on_leaf_u16(void *c, uint16_t v) { (void)v; ((scan_event *)c)->kind = SCAN_LEAF; }
static void on_leaf_u32(void *c, uint32_t v) { (void)v; ((scan_event *)c)->kind = SCAN_LEAF; }
static void on_leaf_u64(void *c, uint64_t v) { (void)v; ((scan_event *)c)->kind = SCAN_LEAF; }
static void on_leaf_str(void *c, cbor_data d, size_t n)
{
    (void)d;
    (void)n;
    ((scan_event *)c)->kind = SCAN_LEAF;
}
static void on_leaf_f(void *c, float v) { (void)v; ((scan_event *)c)->kind = SCAN_LEAF; }
static void on_leaf_d(void *c, double v) { (void)v; ((scan_event *)c)->kind = SCAN_LEAF; }
static void on_leaf_b(void *c, bool v) { (void)v; ((scan_event *)c)->kind = SCAN_LEAF; }
static void on_leaf(void *c) { ((scan_event *)c)->kind = SCAN_LEAF; }
static void on_forbidden(void *c) { ((scan_event *)c)->kind = SCAN_FORBIDDEN; }
static void on_array(void *c, size_t n)
{
    scan_event *e = c;
    e->kind = SCAN_ARRAY;
    e->count = n;
}
static void on_map(void *c, size_t n)
{
    scan_event *e = c;
    e->kind = SCAN_MAP;
    e->count = n;
}
static void on_tag(void *c, uint64_t v)
{
    (void)v;
    ((scan_event *)c)->kind = SCAN_TAG;
}

/* libcbor 0.8's field comments are swapped in places: `byte_string` / `string`
 * receive definite strings, the *_start callbacks announce indefinite ones. */
static const struct cbor_callbacks scan_callbacks = {
    .uint8 = on_leaf_u8,
    .uint16 = on_leaf_u16,
    .uint32 = on_leaf_u32,
    .uint64 = on_leaf_u64,
    .negint8 = on_leaf_u8,
    .negint16 = on_leaf_u16,
    .negint32 = on_leaf_u32,
    .negint64 = on_leaf_u64,
    .byte_string = on_leaf_str,
    .byte_string_start = on_forbidden,
    .string = on_leaf_str,
    .string_start = on_forbidden,
    .array_start = on_array,
    .indef_array_start = on_forbidden,
    .map_start = on_map,
    .indef_map_start = on_forbidden,
    .tag = on_tag,
    .float2 = on_leaf_f,
    .float4 = on_leaf_f,
    .float8 = on_leaf_d,
    .undefined = on_leaf,
    .null = on_leaf,
    .boolean = on_leaf_b,
    .indef_break = on_forbidden,
};

/* Walks the encoding once, keeping per nesting level the number of children
 * still expected. Every child occupies at least one byte, so a container that
 * claims more children than bytes remain is malformed and rejected before
 * cbor_load ever sees (and allocates for) it. */
static int cbor_prescan(const uint8_t *data, size_t len, size_t max_depth)
{
    /* pending[0] is the top-level slot, pending[i] the i-th open container */
    uint64_t pending[PA_CBOR_MAX_DEPTH + 1];
    size_t depth = 1;
    size_t pos = 0;

    if (max_depth == 0 || max_depth > PA_CBOR_MAX_DEPTH)
        return -1;
    pending[0] = 1; /* the single top-level item */
    while (depth > 0) {
        if (pos >= len)
            return -1;
        scan_event ev = {SCAN_FORBIDDEN, 0};
        struct cbor_decoder_result r =
            cbor_stream_decode(data + pos, len - pos, &scan_callbacks, &ev);
        if (r.status != CBOR_DECODER_FINISHED || r.read == 0 || r.read > len - pos)
            return -1;
        pos += r.read;
        if (ev.kind == SCAN_FORBIDDEN)
            return -1;
        pending[depth - 1]--; /* this item fills one slot of its parent */

        uint64_t children = 0;
        if (ev.kind == SCAN_ARRAY)
            children = ev.count;
        else if (ev.kind == SCAN_MAP)
            children = ev.count > UINT64_MAX / 2 ? UINT64_MAX : ev.count * 2;
        else if (ev.kind == SCAN_TAG)
            children = 1;
        if (children > len - pos)
            return -1;
        if (children > 0) {
            if (depth > max_depth) /* depth - 1 containers are open */
                return -1;
            pending[depth++] = children;
        }
        while (depth > 0 && pending[depth - 1] == 0)
            depth--;
    }
    return pos == len ? 0 : -1; /* trailing bytes are not part of the item */
}

cbor_item_t *pa_cbor_load_strict(const uint8_t *data, size_t len, size_t max_depth)
{
    if (data == NULL || len == 0)
        return NULL;
    if (cbor_prescan(data, len, max_depth) != 0)
        return NULL;
    struct cbor_load_result res;
    cbor_item_t *item = cbor_load(data, len, &res);
    if (item == NULL)
        return NULL;
    if (res.error.code != CBOR_ERR_NONE || res.read != len) {
        cbor_decref(&item);
        return NULL;
    }
    return item;
}

/* ---- builders ------------------------------------------------------------- */

cbor_item_t *pa_cbor_build_uint(uint64_t v)
{
    if (v <= UINT8_MAX)
        return cbor_build_uint8((uint8_t)v);
    if (v <= UINT16_MAX)
        return cbor_build_uint16((uint16_t)v);
    if (v <= UINT32_MAX)
        return cbor_build_uint32((uint32_t)v);
    return cbor_build_uint64(v);
}

cbor_item_t *pa_cbor_build_bytes(const uint8_t *data, size_t len)
{
    static const uint8_t empty[1] = {0};
    /* memcpy from NULL is undefined even for 0 bytes */
    return cbor_build_bytestring(len == 0 ? empty : data, len);
}

int pa_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
    int rc = -1;
    PA_ENSURE_GOTO(map != NULL && key != NULL && value != NULL, cleanup);
    /* cbor_map_add takes its own references */
    PA_ENSURE_GOTO(cbor_map_add(map, (struct cbor_pair){.key = key, .value = value}), cleanup);
    rc = 0;
cleanup:
    if (key != NULL)
        cbor_decref(&key);
    if (value != NULL)
        cbor_decref(&value);
    return rc;
}

int pa_cbor_array_put(cbor_item_t *array, cbor_item_t *item)
{
    int rc = -1;
    PA_ENSURE_GOTO(array != NULL && item != NULL, cleanup);
    PA_ENSURE_GOTO(cbor_array_push(array, item), cleanup);
    rc = 0;
cleanup:
    if (item != NULL)
        cbor_decref(&item);
    return rc;
}

int pa_cbor_serialize(const cbor_item_t *item, pa_buf *out)
{
    unsigned char *bytes = NULL;
    size_t alloc = 0;
    if (item == NULL || out == NULL)
        return -1;
    size_t n = cbor_serialize_alloc(item, &bytes, &alloc);
    int rc = (n == 0 || bytes == NULL) ? -1 : pa_buf_append(out, bytes, n);
    free(bytes);
    return rc;
}
