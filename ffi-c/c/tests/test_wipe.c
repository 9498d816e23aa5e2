/*
 * test_wipe.c: no secret is left in a client's memory once it is reset, deinitialised or freed.
 *
 * A client in caller storage fetches credentials from imds-mock over loopback; the storage is
 * then scanned for the IMDSv2 token, the secret access key and the session token: a live client
 * holds one copy of each (none left in its send or receive buffer), none after
 * imds_client_reset() and none after imds_client_deinit(). A heap client (imds_client_new()) is
 * scanned by the allocator as imds_client_free() gives its memory back: this program replaces
 * malloc and free with wrappers around glibc's own (malloc_hooks.h), and free() scans every
 * block the client owned before releasing it. A refused document whose Message echoes the
 * token leaves no copy in the client's last error either.
 *
 *   test_wipe PATH/TO/imds-mock
 *
 * Ends with the line `N passed, N failed`. Not for sanitizers or valgrind, which replace malloc
 * themselves.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <malloc.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "harness.h"
#include "fixtures.h"
#include "imds.h"

static const char *mock_path;

/* What imds-mock serves by default (tests/src/script.rs); its tokens are mock-imds-token-<n>. */
static const char TOKEN_PREFIX[] = "mock-imds-token-";
static const char SECRET_ACCESS_KEY[] = "mockSecret/EXAMPLE+Key0123456789abcdefghi";
static const char SESSION_TOKEN[] = "mockSessionToken/EXAMPLE+Token0123456789==";

/* While set, free() scans each block it is given and counts the secrets it finds. */
static volatile int scanning;
static long blocks_scanned;
static long bytes_scanned;
static long secrets_found;

static size_t count_text(const void *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    size_t found = 0;
    const unsigned char *bytes = (const unsigned char *)data;
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(bytes + i, needle, n) == 0) {
            found++;
        }
    }
    return found;
}

/* The copies of the token, the secret key and the session token in len bytes at data. */
typedef struct copies {
    size_t token, secret_access_key, session_token;
} copies;

static copies scan(const void *data, size_t len)
{
    copies found = {count_text(data, len, TOKEN_PREFIX), count_text(data, len, SECRET_ACCESS_KEY),
                    count_text(data, len, SESSION_TOKEN)};
    return found;
}

static void on_allocation(void)
{
}

static void on_free(void *ptr)
{
    if (scanning && ptr != NULL) {
        size_t len = malloc_usable_size(ptr);
        copies found = scan(ptr, len);
        blocks_scanned++;
        bytes_scanned += (long)len;
        secrets_found += (long)(found.token + found.secret_access_key + found.session_token);
    }
}

#include "malloc_hooks.h"

/* Caller storage for the clients under test. */
static storage store;

static void report(const char *when, copies found)
{
    printf("%-44s token %zu, secret key %zu, session token %zu\n", when, found.token,
           found.secret_access_key, found.session_token);
}

static void test_caller_storage(imds_settings *settings)
{
    size_t size = imds_client_size();
    imds_client *client = NULL;
    drv driver;
    drv_init(&driver);
    imds_credentials credentials;
    CHECK(imds_client_init(store.bytes, sizeof store.bytes, settings, 1, &client) ==
              IMDS_RESULT_OK,
          "init");
    CHECK(drv_fetch_credentials(&driver, client, &credentials) == IMDS_RESULT_OK, "fetch");
    copies live = scan(store.bytes, size);
    report("caller storage, after a fetch:", live);
    /* One copy each: the token cache and the credentials; the buffers hold none. */
    CHECK(live.token == 1 && live.secret_access_key == 1 && live.session_token == 1,
          "a live client holds one copy of each secret");

    CHECK(imds_client_reset(client) == IMDS_RESULT_OK, "reset");
    copies reset = scan(store.bytes, size);
    report("caller storage, after imds_client_reset():", reset);
    CHECK(reset.token == 0 && reset.secret_access_key == 0 && reset.session_token == 0,
          "reset wipes every secret");

    drv_close(&driver, client);
    CHECK(drv_fetch_credentials(&driver, client, &credentials) == IMDS_RESULT_OK, "fetch again");
    CHECK(scan(store.bytes, size).token == 1, "the token is back");
    /* A metadata read on the kept connection: the body stays readable, the request is gone. */
    imds_bytes body;
    CHECK(drv_get(&driver, client, "placement/region", 16, &body) == IMDS_RESULT_OK &&
              same_text(body.data, body.len, "us-east-1"),
          "get");
    CHECK(scan(store.bytes, size).token == 1, "the request with the token is wiped once sent");
    drv_close(&driver, client);
    imds_client_deinit(client);
    copies deinit = scan(store.bytes, size);
    report("caller storage, after imds_client_deinit():", deinit);
    CHECK(deinit.token == 0 && deinit.secret_access_key == 0 && deinit.session_token == 0,
          "deinit wipes every secret");
    copies whole = scan(store.bytes, sizeof store.bytes);
    CHECK(whole.token == 0 && whole.secret_access_key == 0 && whole.session_token == 0,
          "nothing beyond the client either");
}

static void test_heap_client(imds_settings *settings)
{
    imds_client *client = NULL;
    drv driver;
    drv_init(&driver);
    imds_credentials credentials;
    CHECK(imds_client_new(settings, 2, &client) == IMDS_RESULT_OK, "new");
    CHECK(drv_fetch_credentials(&driver, client, &credentials) == IMDS_RESULT_OK, "fetch");
    /* The scan sees the secrets of a live heap client (the client pointer is its block). */
    copies live = scan(client, imds_client_size());
    report("heap client, after a fetch:", live);
    CHECK(live.token == 1 && live.secret_access_key == 1 && live.session_token == 1,
          "the scan finds a live heap client's secrets");
    drv_close(&driver, client);
    blocks_scanned = 0;
    bytes_scanned = 0;
    secrets_found = 0;
    scanning = 1;
    imds_client_free(client);
    scanning = 0;
    printf("%-44s %ld block(s), %ld bytes scanned by free(): %ld secret(s)\n",
           "heap client, in imds_client_free():", blocks_scanned, bytes_scanned, secrets_found);
    CHECK(blocks_scanned >= 1 && bytes_scanned >= (long)imds_client_size(),
          "free() saw the client's memory");
    CHECK(secrets_found == 0, "imds_client_free() wipes every secret before freeing");
}

static void test_hostile_refusal(void)
{
    /* The refusal's Message echoes the token and the secrets: the client's last error, kept in
     * caller storage, holds none of them. */
    mock hostile;
    const char *script =
        "{\"credentials\": {\"Code\": \"Denied\", \"Message\": \"token mock-imds-token-1 key "
        "mockSecret/EXAMPLE+Key0123456789abcdefghi session "
        "mockSessionToken/EXAMPLE+Token0123456789==\"}}";
    if (mock_start(mock_path, script, &hostile) != 0) {
        CHECK(0, "could not start the hostile mock");
        return;
    }
    imds_settings *settings = settings_for_port(hostile.port);
    imds_client *client = NULL;
    drv driver;
    drv_init(&driver);
    imds_credentials credentials;
    CHECK(imds_client_init(store.bytes, sizeof store.bytes, settings, 3, &client) ==
              IMDS_RESULT_OK,
          "init");
    CHECK(drv_fetch_credentials(&driver, client, &credentials) == IMDS_RESULT_CREDENTIALS_REJECTED,
          "refused");
    char text[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    CHECK(imds_client_last_error(client, (uint8_t *)text, sizeof text, &len) == IMDS_RESULT_OK &&
              same_text(text, len,
                        "IMDS refused credentials: [Denied] token [redacted] key [redacted] "
                        "session [redacted]"),
          "the message is redacted: %.*s", (int)len, text);
    copies live = scan(store.bytes, imds_client_size());
    report("caller storage, after a hostile refusal:", live);
    /* The token the client holds is its one copy; the error adds none. */
    CHECK(live.token == 1 && live.secret_access_key == 0 && live.session_token == 0,
          "the last error holds no secret");
    drv_close(&driver, client);
    imds_client_deinit(client);
    imds_settings_free(settings);
    mock_stop(&hostile);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_wipe PATH/TO/imds-mock\n");
        return 2;
    }
    mock_path = argv[1];
    mock m;
    if (mock_start(mock_path, NULL, &m) != 0) {
        CHECK(0, "could not start %s", mock_path);
        return test_summary();
    }
    imds_settings *settings = settings_for_port(m.port);
    CHECK(settings != NULL, "settings");
    if (settings != NULL) {
        test_caller_storage(settings);
        test_heap_client(settings);
    }
    imds_settings_free(settings);
    mock_stop(&m);
    test_hostile_refusal();
    return test_summary();
}
