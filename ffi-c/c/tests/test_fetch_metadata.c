/*
 * test_fetch_metadata.c: imds_fetch_metadata(), the blocking metadata read, from C: NULL
 * arguments, a deinitialised client, bad paths, a buffer one byte short
 * (IMDS_RESULT_BUFFER_TOO_SMALL with the needed length, the buffer untouched, the body still on
 * the client), an exact buffer, a body of several KiB, a 404, a retried 500, the token shared
 * with imds_fetch_credentials(), and the disabled, https and nothing-listens cases, over loopback
 * against imds-mock.
 *
 *   test_fetch_metadata PATH/TO/imds-mock
 *
 * Ends with the line `N passed, N failed`.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <stdint.h>

#include "harness.h"
#include "fixtures.h"
#include "imds.h"

static const char *mock_path;

/* The byte a buffer is filled with to see that nothing was written. */
#define UNTOUCHED 0x5A

/* A new heap client for http://127.0.0.1:port. */
static imds_client *client_for_port(unsigned port)
{
    imds_settings *settings = settings_for_port(port);
    imds_client *client = NULL;
    CHECK(imds_client_new(settings, 21, &client) == IMDS_RESULT_OK, "new client");
    imds_settings_free(settings);
    return client;
}

/* Whether all len bytes at buf are UNTOUCHED. */
static int untouched(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != UNTOUCHED) {
            return 0;
        }
    }
    return 1;
}

/* Takes every queued diagnostic; returns whether one of them contains needle. */
static int drained_has(imds_client *client, const char *needle)
{
    char text[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    imds_level level;
    int found = 0;
    while (imds_client_next_diagnostic(client, (uint8_t *)text, sizeof text, &len, &level) ==
           IMDS_RESULT_OK) {
        found |= has_text(text, len, needle);
    }
    return found;
}

/* The client's last error contains needle. */
static int last_error_has(imds_client *client, const char *needle)
{
    char text[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    return imds_client_last_error(client, (uint8_t *)text, sizeof text, &len) == IMDS_RESULT_OK &&
           has_text(text, len, needle);
}

static void test_result_code(void)
{
    CHECK(IMDS_RESULT_BUFFER_TOO_SMALL == 8, "frozen number");
    CHECK(IMDS_RESULT_BUFFER_TOO_SMALL != IMDS_RESULT_INSUFFICIENT_SIZE, "a distinct result");
    const char *text = imds_result_str(IMDS_RESULT_BUFFER_TOO_SMALL);
    CHECK(strstr(text, "length it needs") != NULL, "description: %s", text);
    CHECK(imds_cli_exit_code(IMDS_RESULT_BUFFER_TOO_SMALL) == 1, "exit code of a failure");
}

/* Arguments are checked before any request: nothing listens on port 1. */
static void test_arguments(void)
{
    imds_client *client = client_for_port(1);
    uint8_t buf[64];
    size_t len = 4242;
    memset(buf, UNTOUCHED, sizeof buf);
    CHECK(imds_fetch_metadata(NULL, STR("instance-id"), buf, sizeof buf, &len) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL client");
    CHECK(imds_fetch_metadata(client, NULL, 3, buf, sizeof buf, &len) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL path");
    CHECK(imds_fetch_metadata(client, STR("instance-id"), NULL, sizeof buf, &len) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL buffer");
    CHECK(imds_fetch_metadata(client, STR("instance-id"), NULL, 0, &len) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL buffer of length 0");
    CHECK(imds_fetch_metadata(client, STR("instance-id"), buf, sizeof buf, NULL) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL length out");
    CHECK(imds_fetch_metadata(client, STR("\xff"), buf, sizeof buf, &len) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "path not UTF-8");
    CHECK(last_error_has(client, "UTF-8"), "the message says why");
    CHECK(imds_fetch_metadata(client, STR("a b"), buf, sizeof buf, &len) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "path with a space");
    CHECK(imds_fetch_metadata(client, "", 0, buf, sizeof buf, &len) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "empty path");
    static char long_path[100000];
    memset(long_path, 'p', sizeof long_path);
    CHECK(imds_fetch_metadata(client, long_path, sizeof long_path, buf, sizeof buf, &len) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "oversized path");
    CHECK(len == 4242 && untouched(buf, sizeof buf), "no output on failure");
    imds_client_free(client);

    /* A client in caller storage, deinitialised. */
    static storage store;
    imds_settings *settings = settings_with(NULL);
    CHECK(imds_client_init(store.bytes, sizeof store.bytes, settings, 1, &client) ==
              IMDS_RESULT_OK,
          "init");
    imds_client_deinit(client);
    CHECK(imds_fetch_metadata(client, STR("instance-id"), buf, sizeof buf, &len) ==
              IMDS_RESULT_NOT_INITIALIZED,
          "deinitialised client");
    imds_settings_free(settings);

    /* Disabled: no request, the core's message. */
    const char *disabled[] = {"disabled", "true", NULL};
    settings = settings_with(disabled);
    CHECK(imds_client_new(settings, 1, &client) == IMDS_RESULT_OK, "new disabled");
    CHECK(imds_fetch_metadata(client, STR("instance-id"), buf, sizeof buf, &len) ==
              IMDS_RESULT_DISABLED,
          "disabled");
    CHECK(last_error_has(client, "disabled"), "disabled message");
    imds_client_free(client);
    imds_settings_free(settings);

    /* https: the blocking loop speaks plain HTTP only. */
    const char *https[] = {"endpoint", "https://127.0.0.1:1", NULL};
    settings = settings_with(https);
    CHECK(imds_client_new(settings, 1, &client) == IMDS_RESULT_OK, "new https");
    CHECK(imds_fetch_metadata(client, STR("instance-id"), buf, sizeof buf, &len) ==
              IMDS_RESULT_UNSUPPORTED,
          "https");
    CHECK(last_error_has(client, "http://"), "unsupported message");
    CHECK(len == 4242 && untouched(buf, sizeof buf), "no output on failure");
    imds_client_free(client);
    imds_settings_free(settings);
}

static void test_against_mock(void)
{
    mock m;
    if (mock_start(mock_path, NULL, &m) != 0) {
        CHECK(0, "could not start %s", mock_path);
        return;
    }
    imds_client *client = client_for_port(m.port);
    uint8_t buf[IMDS_METADATA_CAPACITY];
    size_t len = 0;

    imds_result r = imds_fetch_metadata(client, STR("placement/region"), buf, sizeof buf, &len);
    CHECK(r == IMDS_RESULT_OK && same_text(buf, len, "us-east-1"), "region: %u %.*s", r,
          (int)len, buf);
    CHECK(drained_has(client, "> PUT /latest/api/token"), "the first read gets a token");

    /* A relative and an absolute path name the same thing. */
    r = imds_fetch_metadata(client, STR("/latest/meta-data/instance-id"), buf, sizeof buf, &len);
    CHECK(r == IMDS_RESULT_OK && same_text(buf, len, "i-0123456789abcdef0"),
          "absolute path: %u %.*s", r, (int)len, buf);
    CHECK(!drained_has(client, "PUT"), "the token is reused");

    /* One byte short: the needed length, the buffer untouched, the body kept on the client. */
    uint8_t small[8];
    memset(small, UNTOUCHED, sizeof small);
    len = 0;
    r = imds_fetch_metadata(client, STR("placement/region"), small, sizeof small, &len);
    CHECK(r == IMDS_RESULT_BUFFER_TOO_SMALL, "buffer too small: %u", r);
    CHECK(len == strlen("us-east-1"), "needed length %zu", len);
    CHECK(untouched(small, sizeof small), "the buffer is untouched");
    imds_bytes body;
    CHECK(imds_client_body(client, &body) == IMDS_RESULT_OK &&
              same_text(body.data, body.len, "us-east-1"),
          "the body is still on the client");
    CHECK(last_error_has(client, "length it needs"), "the last error says so");
    /* Exactly the needed length fits. */
    uint8_t exact[9];
    r = imds_fetch_metadata(client, STR("placement/region"), exact, sizeof exact, &len);
    CHECK(r == IMDS_RESULT_OK && same_text(exact, len, "us-east-1"), "exact buffer: %u", r);

    /* A path IMDS does not have: the status in the message, no output. */
    len = 4242;
    r = imds_fetch_metadata(client, STR("no/such/path"), buf, sizeof buf, &len);
    CHECK(r == IMDS_RESULT_HTTP_STATUS && len == 4242, "404: %u", r);
    CHECK(last_error_has(client, "404"), "404 message");

    /* The credentials fetch and the metadata read share the client's token. */
    imds_credentials credentials;
    r = imds_fetch_credentials(client, &credentials);
    CHECK(r == IMDS_RESULT_OK && same_text(credentials.access_key_id.data,
                                           credentials.access_key_id.len,
                                           "ASIAMOCKEXAMPLE00001"),
          "credentials: %u", r);
    CHECK(!drained_has(client, "PUT"), "no new token for credentials");
    imds_client_free(client);
    mock_stop(&m);

    /* A body of several KiB, and a 500 answered once, then retried. */
    char big[6001];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    static char script[7000];
    snprintf(script, sizeof script,
             "{\"metadata\":{\"big\":\"%s\"},"
             "\"responses\":[{\"path\":\"/latest/meta-data/big\",\"status\":500}]}",
             big);
    if (mock_start(mock_path, script, &m) != 0) {
        CHECK(0, "could not start the mock with a script");
        return;
    }
    client = client_for_port(m.port);
    len = 0;
    r = imds_fetch_metadata(client, STR("big"), small, sizeof small, &len);
    CHECK(r == IMDS_RESULT_BUFFER_TOO_SMALL && len == strlen(big), "big body needs %zu: %u", len,
          r);
    CHECK(drained_has(client, "500"), "the 500 was retried");
    r = imds_fetch_metadata(client, STR("big"), buf, sizeof buf, &len);
    CHECK(r == IMDS_RESULT_OK && same_text(buf, len, big), "big body in a capacity buffer: %u",
          r);
    imds_client_free(client);
    mock_stop(&m);

    /* Nothing listens: the core's message names the endpoint. */
    client = client_for_port(closed_port());
    len = 4242;
    r = imds_fetch_metadata(client, STR("instance-id"), buf, sizeof buf, &len);
    CHECK(r == IMDS_RESULT_CONNECT_FAILED && len == 4242, "refused: %u", r);
    CHECK(last_error_has(client, "could not connect"), "connect message");
    imds_client_free(client);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_fetch_metadata PATH/TO/imds-mock\n");
        return 2;
    }
    mock_path = argv[1];
    test_result_code();
    test_arguments();
    test_against_mock();
    return test_summary();
}
