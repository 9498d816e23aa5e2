/*
 * test_alloc.c: zero heap allocations per credential fetch (and metadata read) once a client is
 * initialised in caller storage. The program replaces malloc and its relatives with counting
 * wrappers around glibc's own (malloc_hooks.h), so every allocation in the process, Rust's
 * included, is seen; the count is taken between two points around each fetch.
 *
 *   test_alloc PATH/TO/imds-mock
 *
 * Ends with the line `N passed, N failed`. Not for sanitizers or valgrind, which replace malloc
 * themselves.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "harness.h"
#include "imds.h"

static volatile int counting;
static volatile long allocations;

static void on_allocation(void)
{
    if (counting) {
        allocations++;
    }
}

static void on_free(void *ptr)
{
    (void)ptr;
}

#include "malloc_hooks.h"

static void start_counting(void)
{
    allocations = 0;
    counting = 1;
}

static long stop_counting(void)
{
    counting = 0;
    return allocations;
}

/* An aligned block of caller storage for a client. */
static union {
    max_align_t align;
    unsigned char bytes[64 * 1024];
} storage;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_alloc PATH/TO/imds-mock\n");
        return 2;
    }
    mock m;
    if (mock_start(argv[1], NULL, &m) != 0) {
        CHECK(0, "could not start %s", argv[1]);
        return test_summary();
    }

    /* The counter sees allocations from C and from Rust. */
    start_counting();
    void *volatile probe = malloc(16);
    free(probe);
    CHECK(stop_counting() == 1, "a malloc from C is counted");
    imds_config *config = NULL;
    start_counting();
    CHECK(imds_config_new(&config) == IMDS_RESULT_OK, "config");
    CHECK(stop_counting() >= 1, "a Box from Rust is counted");

    /* Setup may allocate: settings are resolved once. */
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", m.port);
    imds_settings *settings = NULL;
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, "endpoint", 8, endpoint, strlen(endpoint)) ==
              IMDS_RESULT_OK,
          "endpoint");
    CHECK(imds_config_resolve(config, &settings) == IMDS_RESULT_OK, "resolve");
    imds_config_free(config);

    imds_client *client = NULL;
    drv driver;
    drv_init(&driver);
    imds_credentials credentials;

    /* Initialisation in caller storage and a whole exchange: token, role, credentials. */
    start_counting();
    imds_result init = imds_client_init(storage.bytes, sizeof storage.bytes, settings, 1, &client);
    imds_result first = drv_fetch_credentials(&driver, client, &credentials);
    long used = stop_counting();
    CHECK(init == IMDS_RESULT_OK && first == IMDS_RESULT_OK, "first fetch: %u %u", init, first);
    CHECK(used == 0, "first fetch (with init) allocated %ld times", used);

    /* Twenty more full exchanges, each on a fresh client in the same storage and a new
     * connection, plus a metadata read on the kept connection. */
    imds_bytes body;
    start_counting();
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        drv_close(&driver, client);
        imds_client_deinit(client);
        ok += imds_client_init(storage.bytes, sizeof storage.bytes, settings, (uint64_t)i,
                               &client) == IMDS_RESULT_OK &&
              drv_fetch_credentials(&driver, client, &credentials) == IMDS_RESULT_OK &&
              drv_get(&driver, client, "placement/region", 16, &body) == IMDS_RESULT_OK;
    }
    used = stop_counting();
    CHECK(ok == 20, "20 exchanges succeeded (%d)", ok);
    CHECK(used == 0, "20 exchanges allocated %ld times", used);
    CHECK(same_text(credentials.access_key_id.data, credentials.access_key_id.len,
                    "ASIAMOCKEXAMPLE00001"),
          "credentials");

    /* Draining diagnostics and rendering text into caller buffers. */
    char text[IMDS_CREDENTIALS_JSON_CAPACITY];
    size_t len = 0;
    imds_level level;
    start_counting();
    int lines = 0;
    while (imds_client_next_diagnostic(client, (uint8_t *)text, sizeof text, &len, &level) ==
           IMDS_RESULT_OK) {
        lines++;
    }
    imds_result json = imds_client_credentials_json(client, (uint8_t *)text, sizeof text, &len);
    used = stop_counting();
    CHECK(lines > 0 && json == IMDS_RESULT_OK, "diagnostics and JSON");
    CHECK(used == 0, "diagnostics and JSON allocated %ld times", used);

    /* The blocking convenience (std::net) on a client in caller storage, IP literal endpoint. */
    drv_close(&driver, client);
    imds_client_deinit(client);
    CHECK(imds_client_init(storage.bytes, sizeof storage.bytes, settings, 99, &client) ==
              IMDS_RESULT_OK,
          "init");
    start_counting();
    imds_result blocking = imds_fetch_credentials(client, &credentials);
    used = stop_counting();
    CHECK(blocking == IMDS_RESULT_OK, "blocking fetch: %u", blocking);
    CHECK(used == 0, "blocking fetch allocated %ld times", used);

    /* The blocking metadata read into a caller buffer, on the same client. */
    uint8_t region[IMDS_METADATA_CAPACITY];
    start_counting();
    imds_result read = imds_fetch_metadata(client, "placement/region", 16, region, sizeof region,
                                           &len);
    used = stop_counting();
    CHECK(read == IMDS_RESULT_OK && same_text(region, len, "us-east-1"), "blocking read: %u",
          read);
    CHECK(used == 0, "blocking read allocated %ld times", used);

    imds_client_deinit(client);
    imds_settings_free(settings);
    mock_stop(&m);
    return test_summary();
}
