/* HTTP through libcurl's easy API: one request, a capped answer, the API's
 * error JSON turned into a pa_client_error. Nothing secret is ever sent: the
 * only credential material that leaves the client is the sealed envelope. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "client_internal.h"
#include "json_strict.h"

#define PA_CLIENT_URL_MAX 2048

int pa_client_check_base_url(const char *url)
{
    if (url == NULL)
        return -1;
    size_t n = strlen(url);
    if (n == 0 || n > PA_CLIENT_URL_MAX / 2)
        return -1;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return -1;
    const char *host = url + (url[4] == 's' ? 8 : 7);
    if (*host == '\0' || *host == '/')
        return -1;
    /* A query or fragment would swallow the path we append. */
    if (strpbrk(url, "?# \t\r\n") != NULL)
        return -1;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    pa_buf *reply = userp;
    size_t n = size * nmemb;
    /* Returning less than n aborts the transfer (CURLE_WRITE_ERROR). */
    if (pa_buf_append(reply, data, n) != 0)
        return 0;
    return n;
}

/* Turns a non-200 answer into err: the API's {"error","message"} when it is
 * one, else a generic description (never the raw body: it is untrusted and
 * may be huge). */
static void error_from_reply(long status, const pa_buf *reply, pa_client_error *err)
{
    json_t *j = pa_json_parse((const char *)reply->data, reply->len, (size_t)64 * 1024);
    const char *code = pa_json_str(j, "error");
    const char *msg = pa_json_str(j, "message");
    if (code != NULL && code[0] != '\0')
        pa_client_set_error(err, status, code, "%s", msg != NULL ? msg : "(no message)");
    else
        pa_client_set_error(err, status, "http_error", "server answered HTTP %ld", status);
    json_decref(j);
}

int pa_client_http(const char *base_url, const char *path, const char *json_body,
                   long timeout_s, pa_buf *reply, pa_client_error *err)
{
    return pa_client_http_status(base_url, path, json_body, timeout_s, reply, NULL, err);
}

int pa_client_http_status(const char *base_url, const char *path, const char *json_body,
                          long timeout_s, pa_buf *reply, long *status_out, pa_client_error *err)
{
    if (pa_client_check_base_url(base_url) != 0 || path == NULL || path[0] != '/') {
        pa_client_set_error(err, 0, "invalid_url", "the server URL must be http(s)://host[:port]");
        return -1;
    }
    int rc = -1;
    CURL *curl = NULL;
    struct curl_slist *headers = NULL;
    char url[PA_CLIENT_URL_MAX];
    char curl_err[CURL_ERROR_SIZE] = "";

    size_t blen = strlen(base_url);
    while (blen > 0 && base_url[blen - 1] == '/')
        blen--;
    int w = snprintf(url, sizeof url, "%.*s%s", (int)blen, base_url, path);
    if (w < 0 || (size_t)w >= sizeof url) {
        pa_client_set_error(err, 0, "invalid_url", "request URL too long");
        goto cleanup;
    }

    curl = curl_easy_init();
    if (curl == NULL) {
        pa_client_set_error(err, 0, "internal_error", "cannot initialise libcurl");
        goto cleanup;
    }
    headers = curl_slist_append(NULL, "Accept: application/json");
    /* Appending to a non-empty list keeps its head; NULL means out of memory.
     * "Expect:" drops the 100-continue round trip (bodies are small). */
    if (headers != NULL && json_body != NULL &&
        (curl_slist_append(headers, "Content-Type: application/json") == NULL ||
         curl_slist_append(headers, "Expect:") == NULL)) {
        curl_slist_free_all(headers);
        headers = NULL;
    }
    if (headers == NULL) {
        pa_client_set_error(err, 0, "internal_error", "out of memory");
        goto cleanup;
    }

    int ok = curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                              (curl_off_t)PA_CLIENT_RESPONSE_MAX) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_USERAGENT, "perfagg-client/1") == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply) == CURLE_OK;
    if (ok && json_body != NULL)
        ok = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body) == CURLE_OK &&
             curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                              (curl_off_t)strlen(json_body)) == CURLE_OK;
    if (!ok) {
        pa_client_set_error(err, 0, "internal_error", "cannot configure libcurl");
        goto cleanup;
    }

    CURLcode res = curl_easy_perform(curl);
    if (res == CURLE_WRITE_ERROR || res == CURLE_FILESIZE_EXCEEDED) {
        pa_client_set_error(err, 0, "response_too_large", "the answer exceeds %zu bytes",
                            PA_CLIENT_RESPONSE_MAX);
        goto cleanup;
    }
    if (res != CURLE_OK) {
        pa_client_set_error(err, 0, "network", "%s: %s", url,
                            curl_err[0] ? curl_err : curl_easy_strerror(res));
        goto cleanup;
    }
    long status = 0;
    if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
        pa_client_set_error(err, 0, "network", "no HTTP status");
        goto cleanup;
    }
    if (status != 200 && !(status == 202 && status_out != NULL)) {
        error_from_reply(status, reply, err);
        goto cleanup;
    }
    if (status_out != NULL)
        *status_out = status;
    rc = 0;

cleanup:
    curl_slist_free_all(headers);
    if (curl != NULL)
        curl_easy_cleanup(curl);
    return rc;
}
