/*
 * imds: the `imds` command in C, built on libimds and driver.c.
 *
 *   imds [--trace] [credentials | settings | get PATH]    (and --help, --version)
 *
 * Every byte it prints (credentials JSON, settings report, error and trace lines) and its exit
 * status come from libimds (the core's cli module), so it prints what the Rust, Python and Node
 * commands print; the conformance suite checks that.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "imds.h"

static void put(FILE *stream, const void *data, size_t len)
{
    if (len > 0) {
        (void)fwrite(data, 1, len, stream);
    }
}

/* Writes every queued diagnostic as a trace line on stderr. */
static void trace(void *context, imds_client *client)
{
    (void)context;
    char line[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    while (imds_client_next_trace_line(client, (uint8_t *)line, sizeof line, &len) ==
           IMDS_RESULT_OK) {
        put(stderr, line, len);
    }
    fflush(stderr);
}

/* Randomness for retry jitter (not a secret). */
static uint64_t seed(void)
{
    uint64_t value = 0;
    if (getrandom(&value, sizeof value, GRND_NONBLOCK) != (ssize_t)sizeof value) {
        value = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    }
    return value;
}

static int fail_client(imds_client *client, imds_result result)
{
    char line[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    if (imds_client_last_error_line(client, (uint8_t *)line, sizeof line, &len) == IMDS_RESULT_OK) {
        put(stderr, line, len);
    } else {
        fprintf(stderr, "imds: %s\n", imds_result_str(result));
    }
    return imds_cli_exit_code(result);
}

static int run(const imds_invocation *invocation, imds_settings *settings)
{
    if (invocation->command == IMDS_COMMAND_SETTINGS) {
        static char report[IMDS_REPORT_CAPACITY];
        size_t len = 0;
        imds_result result = imds_settings_report(settings, (uint8_t *)report, sizeof report, &len);
        if (result != IMDS_RESULT_OK) {
            fprintf(stderr, "imds: %s\n", imds_result_str(result));
            return imds_cli_exit_code(result);
        }
        put(stdout, report, len);
        return 0;
    }

    imds_client *client = NULL;
    imds_result result = imds_client_new(settings, seed(), &client);
    if (result != IMDS_RESULT_OK) {
        fprintf(stderr, "imds: %s\n", imds_result_str(result));
        return imds_cli_exit_code(result);
    }
    drv driver;
    drv_init(&driver);
    if (invocation->trace) {
        driver.on_step = trace;
    }

    int status = 0;
    if (invocation->command == IMDS_COMMAND_GET) {
        imds_bytes body;
        result = drv_get(&driver, client, invocation->path.data, invocation->path.len,
                                 &body);
        if (result == IMDS_RESULT_OK) {
            put(stdout, body.data, body.len);
            put(stdout, "\n", 1);
        }
    } else {
        imds_credentials credentials;
        result = drv_fetch_credentials(&driver, client, &credentials);
        if (result == IMDS_RESULT_OK) {
            static char json[IMDS_CREDENTIALS_JSON_CAPACITY];
            size_t len = 0;
            result = imds_client_credentials_json(client, (uint8_t *)json, sizeof json, &len);
            if (result == IMDS_RESULT_OK) {
                put(stdout, json, len);
                put(stdout, "\n", 1);
            }
            /* It holds the secrets: stdio has its own copy now. */
            explicit_bzero(json, sizeof json);
        }
    }
    if (invocation->trace) {
        trace(NULL, client);
    }
    if (result != IMDS_RESULT_OK) {
        status = fail_client(client, result);
    }
    drv_close(&driver, client);
    imds_client_free(client);
    return status;
}

int main(int argc, char **argv)
{
    const char *const *args = (const char *const *)(argv + 1);
    size_t count = argc > 0 ? (size_t)(argc - 1) : 0;
    imds_invocation invocation;
    imds_result result = imds_cli_parse(args, count, &invocation);
    if (result == IMDS_RESULT_USAGE) {
        char line[IMDS_TEXT_CAPACITY];
        size_t len = 0;
        if (imds_cli_usage_error_line(args, count, (uint8_t *)line, sizeof line, &len) ==
            IMDS_RESULT_OK) {
            put(stderr, line, len);
        }
        return imds_cli_exit_code(result);
    }
    if (result != IMDS_RESULT_OK) {
        fprintf(stderr, "imds: %s\n", imds_result_str(result));
        return imds_cli_exit_code(result);
    }
    if (invocation.command == IMDS_COMMAND_HELP || invocation.command == IMDS_COMMAND_VERSION) {
        static char text[IMDS_HELP_CAPACITY];
        size_t len = 0;
        result = invocation.command == IMDS_COMMAND_HELP
                     ? imds_cli_help((uint8_t *)text, sizeof text, &len)
                     : imds_cli_version((uint8_t *)text, sizeof text, &len);
        if (result != IMDS_RESULT_OK) {
            fprintf(stderr, "imds: %s\n", imds_result_str(result));
            return imds_cli_exit_code(result);
        }
        put(stdout, text, len);
        return fflush(stdout) == 0 ? 0 : 1;
    }

    imds_config *config = NULL;
    imds_settings *settings = NULL;
    result = imds_config_new(&config);
    if (result == IMDS_RESULT_OK) {
        result = imds_config_load(config, &settings);
    }
    int status;
    if (result != IMDS_RESULT_OK) {
        char line[IMDS_TEXT_CAPACITY];
        size_t len = 0;
        if (imds_config_last_error_line(config, (uint8_t *)line, sizeof line, &len) ==
            IMDS_RESULT_OK) {
            put(stderr, line, len);
        } else {
            fprintf(stderr, "imds: %s\n", imds_result_str(result));
        }
        status = imds_cli_exit_code(result);
    } else {
        status = run(&invocation, settings);
    }
    imds_settings_free(settings);
    imds_config_free(config);
    if (fflush(stdout) != 0 && status == 0) {
        status = 1;
    }
    return status;
}
