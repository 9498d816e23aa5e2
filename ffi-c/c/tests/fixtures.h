/*
 * fixtures.h: what the C tests of libimds share (valid C11 and C++): string arguments, caller
 * storage for a client, and settings made from code values. Include harness.h first.
 */
#ifndef IMDS_TEST_FIXTURES_H
#define IMDS_TEST_FIXTURES_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "imds.h"

/* Writes a string argument as pointer + length. */
#define STR(s) (s), strlen(s)

/* An aligned block of caller storage for a client. */
typedef union storage {
    max_align_t align;
    unsigned char bytes[64 * 1024];
} storage;

/* Settings with only the given code values (pairs of key, value; NULL ends). */
static inline imds_settings *settings_with(const char *const *pairs)
{
    imds_config *config = NULL;
    imds_settings *settings = NULL;
    if (imds_config_new(&config) != IMDS_RESULT_OK) {
        return NULL;
    }
    for (; pairs != NULL && pairs[0] != NULL; pairs += 2) {
        imds_result r = imds_config_set(config, IMDS_SOURCE_CODE, STR(pairs[0]), STR(pairs[1]));
        CHECK(r == IMDS_RESULT_OK, "set %s: %u", pairs[0], r);
    }
    imds_result r = imds_config_resolve(config, &settings);
    CHECK(r == IMDS_RESULT_OK, "resolve: %u", r);
    imds_config_free(config);
    return settings;
}

/* Settings for an endpoint on 127.0.0.1:port. */
static inline imds_settings *settings_for_port(unsigned port)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", port);
    const char *pairs[] = {"endpoint", endpoint, NULL};
    return settings_with(pairs);
}

#endif /* IMDS_TEST_FIXTURES_H */
