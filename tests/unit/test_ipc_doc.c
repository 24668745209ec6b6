/* docs/IPC.md's tables are generated from the contract (src/ipc): this test
 * renders them from the shape tables and the host's error mapping
 * (pa_enclave_error) and fails when the block between the markers in
 * docs/IPC.md differs. `build/test_ipc_doc --print` prints the block to paste
 * after a change to the contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "enclave_client.h"
#include "ipc_contract.h"

#define BEGIN_MARK "<!-- BEGIN contract tables: generated from src/ipc by test_ipc_doc -->\n"
#define END_MARK "<!-- END contract tables -->\n"

static void out(pa_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(pa_buf *b, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line || pa_buf_append(b, line, (size_t)n) != 0)
        abort();
}

static void range(char *s, size_t cap, size_t min, size_t max, const char *unit)
{
    if (min == max)
        snprintf(s, cap, "%zu %s", max, unit);
    else
        snprintf(s, cap, "%zu..%zu %s", min, max, unit);
}

static void describe(const pa_ipc_field *f, char *s, size_t cap)
{
    char r[64];
    switch (f->type) {
    case PA_IPC_T_B64:
        range(r, sizeof r, f->min, f->max, "bytes");
        snprintf(s, cap, "base64 of %s", r);
        break;
    case PA_IPC_T_HEX:
        snprintf(s, cap, "lowercase hex of %zu bytes", f->max);
        break;
    case PA_IPC_T_TIME:
        snprintf(s, cap, "RFC 3339 date-time");
        break;
    case PA_IPC_T_UUID:
        snprintf(s, cap, "UUID v4");
        break;
    case PA_IPC_T_TEXT:
        range(r, sizeof r, f->min, f->max, "code points");
        snprintf(s, cap, "text of %s, no control or format (Cf) characters", r);
        break;
    case PA_IPC_T_STRING:
        range(r, sizeof r, f->min, f->max, "bytes");
        snprintf(s, cap, "UTF-8 string of %s", r);
        break;
    case PA_IPC_T_ENUM: {
        size_t n = (size_t)snprintf(s, cap, "one of");
        for (const char *const *v = f->values; *v != NULL && n < cap; v++)
            n += (size_t)snprintf(s + n, cap - n, "%s `%s`", v == f->values ? "" : ",", *v);
        break;
    }
    case PA_IPC_T_PEM:
        snprintf(s, cap, "PEM certificate of at most %zu bytes", f->max);
        break;
    case PA_IPC_T_JSON_TEXT:
        snprintf(s, cap, "a JSON object as text, at most %zu bytes", f->max);
        break;
    case PA_IPC_T_OBJECT:
        snprintf(s, cap, "JSON object of at most %zu bytes (compact)", f->max);
        break;
    case PA_IPC_T_SHAPE:
        snprintf(s, cap, "`%s` object (below)", f->shape->name);
        break;
    case PA_IPC_T_INT:
        snprintf(s, cap, "integer in %zu..%zu", f->min, f->max);
        break;
    case PA_IPC_T_ARRAY: {
        char item[256];
        describe(f->item, item, sizeof item);
        range(r, sizeof r, f->min, f->max, "items");
        snprintf(s, cap, "array of %s, each %s", r, item);
        break;
    }
    default:
        abort();
    }
}

static void table(pa_buf *b, const char *title, const pa_ipc_shape *shape, const char *extra)
{
    if (extra != NULL)
        out(b, "%s: `%s` and exactly these fields (any other is refused)", title, extra);
    else
        out(b, "%s: exactly these fields (any other is refused)", title);
    if (shape->n == 0) {
        out(b, "; there are none.\n\n");
        return;
    }
    out(b, ":\n\n| field | type and cap | presence |\n|---|---|---|\n");
    for (size_t i = 0; i < shape->n; i++) {
        const pa_ipc_field *f = &shape->fields[i];
        char d[512];
        describe(f, d, sizeof d);
        out(b, "| `%s` | %s | %s%s |\n", f->name, d,
            f->flags & PA_IPC_REQUIRED ? "required" : "optional",
            f->flags & PA_IPC_NULLABLE ? ", may be null (= none)" : "");
    }
    out(b, "\n");
}

static char *render(void)
{
    pa_buf b;
    pa_buf_init(&b, (size_t)1 << 20);
    out(&b, BEGIN_MARK "\n| op | what it does |\n|---|---|\n");
    for (int op = 0; op < PA_IPC_OP_COUNT; op++) {
        const pa_ipc_op_desc *d = pa_ipc_op_desc_get((pa_ipc_op)op);
        out(&b, "| `%s` | %s |\n", d->name, d->purpose);
    }
    out(&b, "\n");
    const pa_ipc_shape *nested = NULL;
    for (int op = 0; op < PA_IPC_OP_COUNT; op++) {
        const pa_ipc_op_desc *d = pa_ipc_op_desc_get((pa_ipc_op)op);
        char op_field[64];
        snprintf(op_field, sizeof op_field, "\"op\":\"%s\"", d->name);
        out(&b, "### `%s`\n\n", d->name);
        table(&b, "Request", d->request, op_field);
        table(&b, "Answer", d->answer, "\"ok\":true");
        for (size_t i = 0; i < d->answer->n; i++)
            if (d->answer->fields[i].type == PA_IPC_T_SHAPE)
                nested = d->answer->fields[i].shape;
    }
    if (nested != NULL) {
        out(&b, "### `%s`\n\n", nested->name);
        table(&b, "Object", nested, NULL);
    }
    out(&b, "### Refusals\n\n");
    table(&b, "Every op may answer", pa_ipc_error_shape(), "\"ok\":false");
    out(&b, "| code | meaning | HTTP (host) |\n|---|---|---|\n");
    for (int c = 0; c < PA_IPC_E_COUNT; c++) {
        pa_http_error e;
        pa_enclave_error((pa_ipc_error)c, &e);
        out(&b, "| `%s` | %s | %u |\n", pa_ipc_error_name((pa_ipc_error)c),
            pa_ipc_error_meaning((pa_ipc_error)c), e.status);
    }
    out(&b, "\n" END_MARK);
    char *s = strdup(pa_buf_cstr(&b));
    pa_buf_free(&b);
    return s;
}

static char *read_doc(void)
{
    FILE *f = fopen(PA_SOURCE_DIR "/docs/IPC.md", "rb");
    assert_non_null(f);
    pa_buf b;
    pa_buf_init(&b, (size_t)1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(pa_buf_append(&b, chunk, n), 0);
    fclose(f);
    char *s = strdup(pa_buf_cstr(&b));
    pa_buf_free(&b);
    return s;
}

static void test_doc_matches_contract(void **state)
{
    (void)state;
    char *want = render();
    char *doc = read_doc();
    const char *begin = strstr(doc, BEGIN_MARK);
    const char *end = begin != NULL ? strstr(begin, END_MARK) : NULL;
    if (begin == NULL || end == NULL)
        fail_msg("docs/IPC.md lacks the generated block markers");
    size_t len = (size_t)(end - begin) + strlen(END_MARK);
    if (len != strlen(want) || memcmp(begin, want, len) != 0) {
        fprintf(stderr, "docs/IPC.md differs from the contract; the block should be:\n%s", want);
        fail_msg("docs/IPC.md is out of date: run build/test_ipc_doc --print");
    }
    free(doc);
    free(want);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print") == 0) {
        char *s = render();
        fputs(s, stdout);
        free(s);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_matches_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
