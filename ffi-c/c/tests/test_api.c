/*
 * test_api.c: every export of libimds, from C (and compiled as C++): NULL arguments, wrong call
 * order, oversized inputs, a freed-and-reinitialised client, a sans-IO transcript without
 * sockets, and real exchanges over loopback against imds-mock with driver.c and with
 * imds_fetch_credentials().
 *
 *   test_api PATH/TO/imds-mock
 *
 * Ends with the line `N passed, N failed`.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <poll.h>
#include <stdint.h>

#include "driver.h"
#include "harness.h"
#include "fixtures.h"
#include "imds.h"

static const char *mock_path;

static void test_version_and_results(void)
{
    CHECK(strcmp(imds_version(), IMDS_VERSION_STRING) == 0, "imds_version() = %s",
          imds_version());
    CHECK(IMDS_VERSION_NUMBER ==
              IMDS_VERSION_MAJOR * 10000 + IMDS_VERSION_MINOR * 100 + IMDS_VERSION_PATCH,
          "version number");
    CHECK(strcmp(imds_result_str(IMDS_RESULT_OK), "success") == 0, "OK text");
    CHECK(strcmp(imds_result_str(999999), "unknown result") == 0, "unknown result text");
    const imds_result known[] = {
        IMDS_RESULT_NULL_PARAMETER,  IMDS_RESULT_PANIC,         IMDS_RESULT_INSUFFICIENT_SIZE,
        IMDS_RESULT_MISALIGNED,      IMDS_RESULT_NOT_AVAILABLE, IMDS_RESULT_NOT_INITIALIZED,
        IMDS_RESULT_USAGE,           IMDS_RESULT_OTHER_ERROR,   IMDS_RESULT_DISABLED,
        IMDS_RESULT_INVALID_SETTING, IMDS_RESULT_TIMEOUT,       IMDS_RESULT_UNSUPPORTED};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const char *text = imds_result_str(known[i]);
        CHECK(text != NULL && strcmp(text, "unknown result") != 0 && text[0] != '\0',
              "text of %u", known[i]);
    }
    CHECK(IMDS_RESULT_DISABLED == 1001 && IMDS_RESULT_UNSUPPORTED == 1021, "frozen numbers");
}

static void test_cli(void)
{
    imds_invocation inv;
    const char *get_args[] = {"--trace", "get", "placement/region"};
    CHECK(imds_cli_parse(NULL, 0, &inv) == IMDS_RESULT_NULL_PARAMETER, "NULL args");
    CHECK(imds_cli_parse(get_args, 3, NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL out");
    const char *null_arg[] = {"get", NULL};
    CHECK(imds_cli_parse(null_arg, 2, &inv) == IMDS_RESULT_NULL_PARAMETER, "NULL argument");
    CHECK(imds_cli_parse(get_args, 3, &inv) == IMDS_RESULT_OK, "parse get");
    CHECK(inv.command == IMDS_COMMAND_GET && inv.trace, "get with trace");
    CHECK(same_text(inv.path.data, inv.path.len, "placement/region"), "path view");
    const char *none[] = {"credentials"};
    CHECK(imds_cli_parse(none, 0, &inv) == IMDS_RESULT_OK &&
              inv.command == IMDS_COMMAND_CREDENTIALS && !inv.trace && inv.path.len == 0,
          "no arguments means credentials");
    const char *settings_args[] = {"settings"};
    CHECK(imds_cli_parse(settings_args, 1, &inv) == IMDS_RESULT_OK &&
              inv.command == IMDS_COMMAND_SETTINGS,
          "settings");
    const char *help[] = {"--help"};
    CHECK(imds_cli_parse(help, 1, &inv) == IMDS_RESULT_OK && inv.command == IMDS_COMMAND_HELP,
          "help");

    const char *bogus[] = {"bogus"};
    imds_invocation untouched;
    memset(&untouched, 0xAB, sizeof untouched);
    CHECK(imds_cli_parse(bogus, 1, &untouched) == IMDS_RESULT_USAGE, "usage error");
    CHECK(untouched.command == 0xABABABABu, "no output on failure");
    char line[IMDS_TEXT_CAPACITY];
    size_t len = 12345;
    CHECK(imds_cli_usage_error_line(bogus, 1, (uint8_t *)line, sizeof line, &len) ==
              IMDS_RESULT_OK,
          "usage error line");
    CHECK(same_text(line, len,
                    "imds: unknown command `bogus`; usage: imds [--trace] [credentials | "
                    "settings | get PATH]\n"),
          "usage line text: %.*s", (int)len, line);
    len = 12345;
    CHECK(imds_cli_usage_error_line(bogus, 1, (uint8_t *)line, 10, &len) ==
              IMDS_RESULT_INSUFFICIENT_SIZE,
          "usage line in a small buffer");
    CHECK(len == 12345, "written_out untouched on failure");
    CHECK(imds_cli_usage_error_line(get_args, 3, (uint8_t *)line, sizeof line, &len) ==
              IMDS_RESULT_NOT_AVAILABLE,
          "no usage error for good arguments");
    CHECK(imds_cli_usage_error_line(bogus, 1, NULL, sizeof line, &len) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL buffer");
    const char *not_utf8[] = {"\xff\xfe"};
    CHECK(imds_cli_parse(not_utf8, 1, &inv) == IMDS_RESULT_USAGE, "non-UTF-8 argument");

    imds_str usage = imds_cli_usage();
    CHECK(same_text(usage.data, usage.len,
                    "usage: imds [--trace] [credentials | settings | get PATH]"),
          "usage text");
    const char *version_args[] = {"--version"};
    CHECK(imds_cli_parse(version_args, 1, &inv) == IMDS_RESULT_OK &&
              inv.command == IMDS_COMMAND_VERSION,
          "version");
    char version[IMDS_TEXT_CAPACITY];
    len = 0;
    CHECK(imds_cli_version((uint8_t *)version, sizeof version, &len) == IMDS_RESULT_OK,
          "version line");
    char expected_version[64];
    int expected_len = snprintf(expected_version, sizeof expected_version, "imds %d.%d.%d\n",
                                IMDS_VERSION_MAJOR, IMDS_VERSION_MINOR, IMDS_VERSION_PATCH);
    CHECK(expected_len > 0 && same_text(version, len, expected_version), "version text: %.*s",
          (int)len, version);
    static char help_text[IMDS_HELP_CAPACITY];
    len = 0;
    CHECK(imds_cli_help((uint8_t *)help_text, sizeof help_text, &len) == IMDS_RESULT_OK, "help");
    CHECK(len > usage.len && memcmp(help_text, usage.data, usage.len) == 0 &&
              help_text[usage.len] == '\n' && help_text[len - 1] == '\n',
          "help starts with the usage line and ends a line");
    CHECK(imds_cli_help((uint8_t *)help_text, 100, &len) == IMDS_RESULT_INSUFFICIENT_SIZE,
          "help in a small buffer");
    CHECK(imds_cli_help(NULL, sizeof help_text, &len) == IMDS_RESULT_NULL_PARAMETER,
          "help into NULL");

    CHECK(imds_cli_exit_code(IMDS_RESULT_OK) == 0, "exit 0");
    CHECK(imds_cli_exit_code(IMDS_RESULT_TIMEOUT) == 1, "exit 1");
    CHECK(imds_cli_exit_code(IMDS_RESULT_NO_ROLE) == 1, "exit 1 no role");
    CHECK(imds_cli_exit_code(IMDS_RESULT_USAGE) == 2, "exit 2 usage");
    CHECK(imds_cli_exit_code(IMDS_RESULT_INVALID_SETTING) == 2, "exit 2 settings");
    CHECK(imds_cli_exit_code(IMDS_RESULT_DISABLED) == 3, "exit 3");
    CHECK(imds_cli_exit_code(424242) == 1, "exit for an unknown result");
}

static void test_config(void)
{
    imds_config *config = NULL;
    char message[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    CHECK(imds_config_new(NULL) == IMDS_RESULT_NULL_PARAMETER, "new(NULL)");
    imds_config_free(NULL);
    CHECK(imds_config_new(&config) == IMDS_RESULT_OK && config != NULL, "new");
    CHECK(imds_config_last_error(config, (uint8_t *)message, sizeof message, &len) ==
              IMDS_RESULT_NOT_AVAILABLE,
          "no error yet");
    CHECK(imds_config_set(NULL, IMDS_SOURCE_CODE, STR("timeout"), STR("1")) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL config");
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, NULL, 7, STR("1")) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL key");
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, STR("timeout"), NULL, 0) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL value");
    CHECK(imds_config_set(config, 99, STR("timeout"), STR("1")) == IMDS_RESULT_INVALID_ARGUMENT,
          "unknown source");
    CHECK(imds_config_last_error(config, (uint8_t *)message, sizeof message, &len) ==
                  IMDS_RESULT_OK &&
              has_text(message, len, "IMDS_SOURCE_"),
          "message names the constants: %.*s", (int)len, message);
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, STR("no_such_key"), STR("1")) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "unknown key");
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, STR("\xff"), STR("1")) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "key not UTF-8");
    CHECK(imds_config_set(config, IMDS_SOURCE_PROFILE, STR("disabled"), STR("true")) ==
              IMDS_RESULT_INVALID_SETTING,
          "disabled has no profile key");
    CHECK(imds_config_set(config, IMDS_SOURCE_ENV, STR("AWS_METADATA_SERVICE_NUM_ATTEMPTS"),
                          STR("2")) == IMDS_RESULT_OK,
          "env name with the env source");
    CHECK(imds_config_set(config, IMDS_SOURCE_PROFILE, STR("metadata_service_timeout"),
                          STR("0.5")) == IMDS_RESULT_OK,
          "profile key with the profile source");

    /* Oversized value: refused with a message, nothing kept. */
    static char huge[5000];
    memset(huge, 'a', sizeof huge);
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, "endpoint", 8, huge, sizeof huge) ==
              IMDS_RESULT_INVALID_SETTING,
          "oversized value");
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, STR("endpoint"), huge, SIZE_MAX) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "impossible length");

    imds_settings *settings = NULL;
    CHECK(imds_config_resolve(config, NULL) == IMDS_RESULT_NULL_PARAMETER, "resolve NULL out");
    CHECK(imds_config_resolve(config, &settings) == IMDS_RESULT_OK, "resolve");
    char value[IMDS_TEXT_CAPACITY];
    imds_source source = (imds_source)77;
    CHECK(imds_settings_value(settings, STR("timeout"), (uint8_t *)value, sizeof value, &len,
                              &source) == IMDS_RESULT_OK &&
              same_text(value, len, "0.5") && source == IMDS_SOURCE_PROFILE,
          "timeout from the profile: %.*s (%u)", (int)len, value, source);
    CHECK(imds_settings_value(settings, STR("attempts"), (uint8_t *)value, sizeof value, &len,
                              &source) == IMDS_RESULT_OK &&
              same_text(value, len, "2") && source == IMDS_SOURCE_ENV,
          "attempts from env");
    CHECK(imds_settings_value(settings, STR("endpoint"), (uint8_t *)value, sizeof value, &len,
                              &source) == IMDS_RESULT_OK &&
              same_text(value, len, "http://169.254.169.254") && source == IMDS_SOURCE_DEFAULT,
          "default endpoint: %.*s", (int)len, value);
    CHECK(imds_settings_value(settings, STR("bogus"), (uint8_t *)value, sizeof value, &len,
                              &source) == IMDS_RESULT_INVALID_ARGUMENT,
          "unknown key");
    CHECK(imds_settings_value(settings, STR("timeout"), (uint8_t *)value, sizeof value, &len,
                              NULL) == IMDS_RESULT_NULL_PARAMETER,
          "NULL source_out");
    CHECK(imds_settings_value(NULL, STR("timeout"), (uint8_t *)value, sizeof value, &len,
                              &source) == IMDS_RESULT_NULL_PARAMETER,
          "NULL settings");
    imds_str name = imds_source_name(IMDS_SOURCE_ENV);
    CHECK(same_text(name.data, name.len, "env"), "source name");
    name = imds_source_name(IMDS_SOURCE_CODE);
    CHECK(same_text(name.data, name.len, "code"), "code source name");
    name = imds_source_name(1234);
    CHECK(name.len == 0 && name.data != NULL, "unknown source name");

    static char report[IMDS_REPORT_CAPACITY];
    CHECK(imds_settings_report(settings, (uint8_t *)report, sizeof report, &len) ==
              IMDS_RESULT_OK,
          "report");
    CHECK(has_text(report, len, "timeout = 0.5 (profile metadata_service_timeout)\n"),
          "report names the profile key: %.*s", (int)len, report);
    CHECK(has_text(report, len, "attempts = 2 (env AWS_METADATA_SERVICE_NUM_ATTEMPTS)\n"),
          "report names the variable");
    size_t before = len;
    len = 4242;
    CHECK(imds_settings_report(settings, (uint8_t *)report, before - 1, &len) ==
                  IMDS_RESULT_INSUFFICIENT_SIZE &&
              len == 4242,
          "report one byte short");
    CHECK(imds_settings_report(settings, (uint8_t *)report, before, &len) == IMDS_RESULT_OK &&
              len == before,
          "report in an exact buffer");
    CHECK(imds_settings_report(settings, (uint8_t *)report, sizeof report, NULL) ==
              IMDS_RESULT_NULL_PARAMETER,
          "report NULL written_out");
    imds_settings_free(settings);
    imds_settings_free(NULL);

    /* An invalid value is reported when resolving, with key, source and value. */
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, STR("timeout"), STR("abc")) == IMDS_RESULT_OK,
          "set invalid timeout");
    settings = NULL;
    CHECK(imds_config_resolve(config, &settings) == IMDS_RESULT_INVALID_SETTING &&
              settings == NULL,
          "invalid timeout refused, no output");
    CHECK(imds_config_last_error(config, (uint8_t *)message, sizeof message, &len) ==
                  IMDS_RESULT_OK &&
              has_text(message, len, "timeout") && has_text(message, len, "`abc`"),
          "message: %.*s", (int)len, message);
    CHECK(imds_config_last_error_line(config, (uint8_t *)message, sizeof message, &len) ==
                  IMDS_RESULT_OK &&
              len > 7 && memcmp(message, "imds: ", 6) == 0 && message[len - 1] == '\n',
          "error line");
    len = 99;
    CHECK(imds_config_last_error(config, (uint8_t *)message, 3, &len) ==
                  IMDS_RESULT_INSUFFICIENT_SIZE &&
              len == 99,
          "small buffer for the message");
    CHECK(imds_config_last_error(NULL, (uint8_t *)message, sizeof message, &len) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL config");

    /* Environment and code: code wins, the environment beats the default. */
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, STR("timeout"), STR("")) == IMDS_RESULT_OK,
          "unset timeout");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
    setenv("AWS_METADATA_SERVICE_TIMEOUT", "3", 1);
    CHECK(imds_config_set(config, IMDS_SOURCE_CODE, STR("endpoint"), STR("http://[::1]:8")) ==
              IMDS_RESULT_OK,
          "code endpoint");
    CHECK(imds_config_load(config, &settings) == IMDS_RESULT_OK, "load");
    CHECK(imds_settings_value(settings, STR("endpoint"), (uint8_t *)value, sizeof value, &len,
                              &source) == IMDS_RESULT_OK &&
              same_text(value, len, "http://[::1]:8") && source == IMDS_SOURCE_CODE,
          "code beats env: %.*s", (int)len, value);
    CHECK(imds_settings_value(settings, STR("timeout"), (uint8_t *)value, sizeof value, &len,
                              &source) == IMDS_RESULT_OK &&
              same_text(value, len, "3") && source == IMDS_SOURCE_ENV,
          "env timeout: %.*s", (int)len, value);
    imds_settings_free(settings);
    setenv("AWS_METADATA_SERVICE_TIMEOUT", "nope", 1);
    settings = NULL;
    CHECK(imds_config_load(config, &settings) == IMDS_RESULT_INVALID_SETTING && settings == NULL,
          "invalid env timeout");
    CHECK(imds_config_last_error(config, (uint8_t *)message, sizeof message, &len) ==
                  IMDS_RESULT_OK &&
              has_text(message, len, "AWS_METADATA_SERVICE_TIMEOUT (env)"),
          "message names the variable: %.*s", (int)len, message);
    CHECK(imds_config_load(NULL, &settings) == IMDS_RESULT_NULL_PARAMETER, "load NULL config");
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    unsetenv("AWS_METADATA_SERVICE_TIMEOUT");
    imds_config_free(config);
}

static void test_client_lifecycle(void)
{
    static storage store;
    imds_settings *settings = settings_for_port(1);
    imds_client *client = NULL;
    size_t size = imds_client_size();
    size_t align = imds_client_align();
    CHECK(size > 0 && size <= sizeof store.bytes, "size %zu", size);
    CHECK(align > 0 && (align & (align - 1)) == 0 && align <= sizeof(max_align_t), "align %zu",
          align);

    CHECK(imds_client_new(NULL, 1, &client) == IMDS_RESULT_NULL_PARAMETER, "new NULL settings");
    CHECK(imds_client_new(settings, 1, NULL) == IMDS_RESULT_NULL_PARAMETER, "new NULL out");
    CHECK(imds_client_init(NULL, size, settings, 1, &client) == IMDS_RESULT_NULL_PARAMETER,
          "init NULL storage");
    CHECK(imds_client_init(store.bytes, size, NULL, 1, &client) == IMDS_RESULT_NULL_PARAMETER,
          "init NULL settings");
    CHECK(imds_client_init(store.bytes, size, settings, 1, NULL) == IMDS_RESULT_NULL_PARAMETER,
          "init NULL out");
    CHECK(imds_client_init(store.bytes, size - 1, settings, 1, &client) ==
              IMDS_RESULT_INSUFFICIENT_SIZE,
          "init short storage");
    if (align > 1) {
        CHECK(imds_client_init(store.bytes + 1, size, settings, 1, &client) ==
                  IMDS_RESULT_MISALIGNED,
              "init misaligned");
    }
    CHECK(client == NULL, "no output on failure");
    CHECK(imds_client_init(store.bytes, size, settings, 1, &client) == IMDS_RESULT_OK &&
              (void *)client == (void *)store.bytes,
          "init");
    imds_settings_free(settings); /* the client keeps its own copy */

    const imds_settings *own = NULL;
    char text[IMDS_REPORT_CAPACITY];
    size_t len = 0;
    CHECK(imds_client_settings(client, &own) == IMDS_RESULT_OK && own != NULL, "client settings");
    CHECK(imds_settings_report(own, (uint8_t *)text, sizeof text, &len) == IMDS_RESULT_OK &&
              has_text(text, len, "endpoint = http://127.0.0.1:1 (code endpoint)\n"),
          "client's settings report: %.*s", (int)len, text);

    /* Wrong call order. */
    imds_action action;
    CHECK(imds_client_poll(client, 1000, &action) == IMDS_RESULT_INVALID_STATE,
          "poll before start");
    CHECK(imds_client_last_error(client, (uint8_t *)text, sizeof text, &len) == IMDS_RESULT_OK &&
              has_text(text, len, "start_credentials"),
          "says what to do: %.*s", (int)len, text);
    CHECK(imds_client_handle_connected(client, 1000) == IMDS_RESULT_INVALID_STATE,
          "connected before start");
    CHECK(imds_client_handle_data(client, 1000, (const uint8_t *)"x", 1) ==
              IMDS_RESULT_INVALID_STATE,
          "data before start");
    CHECK(imds_client_handle_eof(client, 1000) == IMDS_RESULT_INVALID_STATE, "eof before start");
    CHECK(imds_client_handle_timeout(client, 1000) == IMDS_RESULT_INVALID_STATE,
          "timeout before start");
    imds_credentials credentials;
    imds_bytes body;
    CHECK(imds_client_credentials(client, &credentials) == IMDS_RESULT_NOT_AVAILABLE,
          "no credentials yet");
    CHECK(imds_client_credentials_json(client, (uint8_t *)text, sizeof text, &len) ==
              IMDS_RESULT_NOT_AVAILABLE,
          "no credentials JSON yet");
    CHECK(imds_client_body(client, &body) == IMDS_RESULT_NOT_AVAILABLE, "no body yet");
    imds_level level;
    CHECK(imds_client_next_diagnostic(client, (uint8_t *)text, sizeof text, &len, &level) ==
              IMDS_RESULT_NOT_AVAILABLE,
          "no diagnostics yet");
    CHECK(imds_client_start_credentials(client, 1000, 1700000000) == IMDS_RESULT_OK, "start");
    CHECK(imds_client_start_credentials(client, 1000, 1700000000) == IMDS_RESULT_INVALID_STATE,
          "start twice");
    CHECK(imds_client_start_get(client, 1000, STR("instance-id")) == IMDS_RESULT_INVALID_STATE,
          "get while running");
    CHECK(imds_client_handle_closed(client) == IMDS_RESULT_OK,
          "closed after the start, before the first action");
    CHECK(imds_client_poll(client, 1000, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_CONNECT,
          "connect");
    CHECK(imds_client_handle_closed(client) == IMDS_RESULT_INVALID_STATE,
          "closed while a connect is pending");
    CHECK(imds_client_poll(client, 999, &action) == IMDS_RESULT_INVALID_STATE, "time went back");
    CHECK(imds_client_cancel(client) == IMDS_RESULT_OK, "cancel");

    /* NULL arguments and impossible inputs on a live client. */
    CHECK(imds_client_start_credentials(NULL, 1000, 0) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_start_get(client, 1000, NULL, 3) == IMDS_RESULT_NULL_PARAMETER, "NULL path");
    CHECK(imds_client_start_get(client, 1000, STR("\xff")) == IMDS_RESULT_INVALID_ARGUMENT,
          "path not UTF-8");
    CHECK(imds_client_start_get(client, 1000, STR("a b")) == IMDS_RESULT_INVALID_ARGUMENT,
          "path with a space");
    static char long_path[100000];
    memset(long_path, 'p', sizeof long_path);
    CHECK(imds_client_start_get(client, 1000, long_path, sizeof long_path) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "oversized path");
    CHECK(imds_client_poll(client, 1000, NULL) == IMDS_RESULT_NULL_PARAMETER, "poll NULL out");
    CHECK(imds_client_poll(NULL, 1000, &action) == IMDS_RESULT_NULL_PARAMETER, "poll NULL");
    CHECK(imds_client_handle_data(client, 1000, NULL, 0) == IMDS_RESULT_NULL_PARAMETER,
          "data NULL");
    CHECK(imds_client_handle_data(client, 1000, (const uint8_t *)"x", SIZE_MAX) ==
              IMDS_RESULT_INVALID_ARGUMENT,
          "impossible data length");
    CHECK(imds_client_handle_io_error(client, 1000, 77) == IMDS_RESULT_INVALID_ARGUMENT,
          "unknown I/O error");
    CHECK(imds_client_handle_connected(NULL, 1000) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_handle_eof(NULL, 1000) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_handle_timeout(NULL, 1000) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_handle_io_error(NULL, 1000, IMDS_IO_ERROR_OTHER) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL");
    CHECK(imds_client_handle_closed(NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_handle_unsupported(NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_cancel(NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_credentials(NULL, &credentials) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_credentials(client, NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL out");
    CHECK(imds_client_body(client, NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL out");
    CHECK(imds_client_settings(client, NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL out");
    CHECK(imds_client_next_diagnostic(client, NULL, 10, &len, &level) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL buffer");
    CHECK(imds_client_next_diagnostic(client, (uint8_t *)text, 10, &len, NULL) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL level");
    CHECK(imds_client_next_trace_line(client, (uint8_t *)text, 10, NULL) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL written");
    CHECK(imds_client_last_error(client, (uint8_t *)text, sizeof text, NULL) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL written");
    CHECK(imds_client_last_error_line(NULL, (uint8_t *)text, sizeof text, &len) ==
              IMDS_RESULT_NULL_PARAMETER,
          "NULL client");
    CHECK(imds_fetch_credentials(NULL, &credentials) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_fetch_credentials(client, NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL out");
    CHECK(imds_client_last_error_line(client, (uint8_t *)text, sizeof text, &len) ==
                  IMDS_RESULT_OK &&
              memcmp(text, "imds: ", 6) == 0,
          "last error line");

    /* Deinitialised: every call says so; deinit and free again are harmless. */
    imds_client_deinit(client);
    CHECK(imds_client_poll(client, 2000, &action) == IMDS_RESULT_NOT_INITIALIZED,
          "poll after deinit");
    CHECK(imds_client_start_credentials(client, 2000, 0) == IMDS_RESULT_NOT_INITIALIZED,
          "start after deinit");
    CHECK(imds_client_credentials(client, &credentials) == IMDS_RESULT_NOT_INITIALIZED,
          "credentials after deinit");
    CHECK(imds_client_last_error(client, (uint8_t *)text, sizeof text, &len) ==
              IMDS_RESULT_NOT_INITIALIZED,
          "last error after deinit");
    CHECK(imds_fetch_credentials(client, &credentials) == IMDS_RESULT_NOT_INITIALIZED,
          "fetch after deinit");
    imds_client_deinit(client);
    imds_client_free(client);
    imds_client_deinit(NULL);
    imds_client_free(NULL);

    /* Reinitialised in the same storage: a fresh client. */
    settings = settings_for_port(2);
    imds_client *again = NULL;
    CHECK(imds_client_init(store.bytes, sizeof store.bytes, settings, 2, &again) ==
                  IMDS_RESULT_OK &&
              again == client,
          "reinit");
    CHECK(imds_client_last_error(again, (uint8_t *)text, sizeof text, &len) ==
              IMDS_RESULT_NOT_AVAILABLE,
          "fresh: no last error");
    CHECK(imds_client_start_credentials(again, 5, 1700000000) == IMDS_RESULT_OK,
          "fresh: start (time may start over)");
    CHECK(imds_client_poll(again, 5, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_CONNECT && action.port == 2,
          "fresh: connects to the new endpoint");
    imds_client_free(again); /* storage client: free deinitialises */
    CHECK(imds_client_poll(again, 6, &action) == IMDS_RESULT_NOT_INITIALIZED,
          "free deinitialised the storage client");

    /* Heap: new, free, new. */
    imds_client *heap = NULL;
    CHECK(imds_client_new(settings, 3, &heap) == IMDS_RESULT_OK && heap != NULL, "new");
    imds_client_deinit(heap); /* left alone: heap clients are freed */
    CHECK(imds_client_start_credentials(heap, 1, 1700000000) == IMDS_RESULT_OK,
          "deinit leaves heap clients alone");
    imds_client_free(heap);
    heap = NULL;
    CHECK(imds_client_new(settings, 3, &heap) == IMDS_RESULT_OK, "new again");
    imds_client_free(heap);
    imds_settings_free(settings);
}

/* Feeds one canned response and expects the client to ask for the next request. */
static void expect_request(imds_client *client, uint64_t now, const char *request_start,
                           const char *response)
{
    imds_action action;
    CHECK(imds_client_poll(client, now, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_SEND,
          "send %s", request_start);
    CHECK(action.data.len > strlen(request_start) &&
              memcmp(action.data.data, request_start, strlen(request_start)) == 0,
          "request: %.*s", (int)action.data.len, (const char *)action.data.data);
    CHECK(action.deadline_ms > now, "send deadline");
    CHECK(imds_client_poll(client, now, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_RECEIVE && action.deadline_ms > now,
          "receive");
    CHECK(imds_client_handle_data(client, now, (const uint8_t *)response, strlen(response)) ==
              IMDS_RESULT_OK,
          "data");
}

static const char CREDENTIALS_JSON[] =
    "{\"Code\":\"Success\",\"LastUpdated\":\"2024-01-01T00:00:00Z\",\"Type\":\"AWS-HMAC\","
    "\"AccessKeyId\":\"ASIATRANSCRIPT\",\"SecretAccessKey\":\"s3cr3t\",\"Token\":\"t0k3n\","
    "\"Expiration\":\"2030-01-01T00:00:00Z\"}";

/* The whole exchange through the C API with canned bytes: no sockets. */
static void test_transcript(void)
{
    imds_settings *settings = settings_for_port(1338);
    imds_client *client = NULL;
    CHECK(imds_client_new(settings, 7, &client) == IMDS_RESULT_OK, "new");
    imds_action action;
    CHECK(imds_client_start_credentials(client, 100, 1700000000) == IMDS_RESULT_OK, "start");
    CHECK(imds_client_poll(client, 100, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_CONNECT,
          "connect");
    CHECK(same_text(action.host.data, action.host.len, "127.0.0.1") && action.port == 1338 &&
              !action.tls && action.deadline_ms == 1100,
          "connect to 127.0.0.1:1338 within the 1 s timeout (deadline %llu)",
          (unsigned long long)action.deadline_ms);
    CHECK(imds_client_handle_connected(client, 101) == IMDS_RESULT_OK, "connected");
    char token_response[256];
    snprintf(token_response, sizeof token_response,
             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-aws-ec2-metadata-token-ttl-seconds: "
             "21600\r\n\r\nabcde");
    expect_request(client, 102, "PUT /latest/api/token HTTP/1.1\r\n", token_response);
    expect_request(client, 103, "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\n",
                   "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nrole");
    char credentials_response[512];
    snprintf(credentials_response, sizeof credentials_response,
             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(CREDENTIALS_JSON),
             CREDENTIALS_JSON);
    expect_request(client, 104, "GET /latest/meta-data/iam/security-credentials/role HTTP/1.1\r\n",
                   credentials_response);
    CHECK(imds_client_poll(client, 105, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_DONE && action.data.data != NULL &&
              action.host.data != NULL,
          "done, with non-NULL empty views");
    imds_credentials credentials;
    CHECK(imds_client_credentials(client, &credentials) == IMDS_RESULT_OK, "credentials");
    CHECK(same_text(credentials.access_key_id.data, credentials.access_key_id.len,
                    "ASIATRANSCRIPT") &&
              same_text(credentials.secret_access_key.data, credentials.secret_access_key.len,
                        "s3cr3t") &&
              same_text(credentials.session_token.data, credentials.session_token.len, "t0k3n"),
          "credential values");
    CHECK(credentials.expiration == 1893456000, "expiration %lld",
          (long long)credentials.expiration);
    CHECK(credentials.account_id.len == 0 && credentials.account_id.data != NULL, "no account");
    char json[IMDS_CREDENTIALS_JSON_CAPACITY];
    size_t len = 0;
    CHECK(imds_client_credentials_json(client, (uint8_t *)json, sizeof json, &len) ==
              IMDS_RESULT_OK,
          "json");
    CHECK(same_text(json, len,
                    "{\"Version\":1,\"AccessKeyId\":\"ASIATRANSCRIPT\",\"SecretAccessKey\":"
                    "\"s3cr3t\",\"SessionToken\":\"t0k3n\",\"Expiration\":\"2030-01-01T00:00:"
                    "00Z\"}"),
          "json: %.*s", (int)len, json);
    size_t whole = len;
    len = 7;
    CHECK(imds_client_credentials_json(client, (uint8_t *)json, whole - 1, &len) ==
                  IMDS_RESULT_INSUFFICIENT_SIZE &&
              len == 7,
          "json one byte short");

    /* Diagnostics: the trace of each request and status, never a secret. */
    char text[IMDS_TEXT_CAPACITY];
    imds_level level = (imds_level)0;
    CHECK(imds_client_next_diagnostic(client, (uint8_t *)text, 3, &len, &level) ==
              IMDS_RESULT_INSUFFICIENT_SIZE,
          "diagnostic in a small buffer stays queued");
    CHECK(imds_client_next_diagnostic(client, (uint8_t *)text, sizeof text, &len, &level) ==
                  IMDS_RESULT_OK &&
              same_text(text, len, "> PUT /latest/api/token") && level == IMDS_LEVEL_TRACE,
          "first diagnostic: %.*s", (int)len, text);
    CHECK(imds_client_next_trace_line(client, (uint8_t *)text, sizeof text, &len) ==
                  IMDS_RESULT_OK &&
              same_text(text, len, "imds: trace: < 200\n"),
          "trace line: %.*s", (int)len, text);
    int drained = 0;
    while (imds_client_next_diagnostic(client, (uint8_t *)text, sizeof text, &len, &level) ==
           IMDS_RESULT_OK) {
        CHECK(!has_text(text, len, "s3cr3t") && !has_text(text, len, "t0k3n") &&
                  !has_text(text, len, "abcde"),
              "no secret in diagnostics");
        drained++;
    }
    CHECK(drained == 4, "four more diagnostics, got %d", drained);

    /* Fresh cached credentials: done at once, no request. */
    CHECK(imds_client_start_credentials(client, 200, 1700000000) == IMDS_RESULT_OK, "again");
    CHECK(imds_client_poll(client, 200, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_DONE,
          "cached credentials");

    /* A metadata read on the kept connection, and a response larger than the buffer. */
    imds_bytes body;
    CHECK(imds_client_start_get(client, 300, STR("placement/region")) == IMDS_RESULT_OK, "get");
    expect_request(client, 301, "GET /latest/meta-data/placement/region HTTP/1.1\r\n",
                   "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nus-west-2");
    CHECK(imds_client_poll(client, 302, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_DONE,
          "get done");
    CHECK(imds_client_body(client, &body) == IMDS_RESULT_OK &&
              same_text(body.data, body.len, "us-west-2"),
          "body");
    CHECK(imds_client_start_get(client, 400, STR("instance-id")) == IMDS_RESULT_OK, "get");
    CHECK(imds_client_poll(client, 400, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_SEND,
          "send on the kept connection");
    CHECK(imds_client_poll(client, 400, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_RECEIVE,
          "receive");
    static char big[20000];
    memset(big, 'x', sizeof big);
    memcpy(big, "HTTP/1.1 200 OK\r\nContent-Length: 19000\r\n\r\n", 43);
    CHECK(imds_client_handle_data(client, 401, (const uint8_t *)big, sizeof big) ==
              IMDS_RESULT_OK,
          "oversized data accepted");
    CHECK(imds_client_poll(client, 401, &action) == IMDS_RESULT_RESPONSE_TOO_LARGE,
          "response too large");
    CHECK(imds_client_body(client, &body) == IMDS_RESULT_NOT_AVAILABLE, "no partial body");
    CHECK(imds_client_handle_closed(client) == IMDS_RESULT_OK, "closed between operations");

    /* https: a driver without TLS says so. */
    imds_client_free(client);
    imds_settings_free(settings);
    const char *https[] = {"endpoint", "https://127.0.0.1:1", NULL};
    settings = settings_with(https);
    CHECK(imds_client_new(settings, 7, &client) == IMDS_RESULT_OK, "new https");
    CHECK(imds_client_start_credentials(client, 1, 1700000000) == IMDS_RESULT_OK, "start");
    CHECK(imds_client_poll(client, 1, &action) == IMDS_RESULT_OK && action.tls, "tls connect");
    CHECK(imds_client_handle_unsupported(client) == IMDS_RESULT_UNSUPPORTED, "unsupported");
    CHECK(imds_client_last_error(client, (uint8_t *)text, sizeof text, &len) == IMDS_RESULT_OK &&
              has_text(text, len, "http://"),
          "unsupported message: %.*s", (int)len, text);
    drv driver;
    drv_init(&driver);
    imds_credentials credentials2;
    CHECK(drv_fetch_credentials(&driver, client, &credentials2) ==
              IMDS_RESULT_UNSUPPORTED,
          "the driver refuses https");
    CHECK(imds_fetch_credentials(client, &credentials2) == IMDS_RESULT_UNSUPPORTED,
          "the blocking fetch refuses https");
    imds_client_free(client);
    imds_settings_free(settings);

    /* Disabled: no request at all. */
    const char *disabled[] = {"disabled", "true", NULL};
    settings = settings_with(disabled);
    CHECK(imds_client_new(settings, 7, &client) == IMDS_RESULT_OK, "new disabled");
    CHECK(imds_client_start_credentials(client, 1, 1700000000) == IMDS_RESULT_DISABLED,
          "disabled");
    CHECK(imds_client_last_error(client, (uint8_t *)text, sizeof text, &len) == IMDS_RESULT_OK &&
              has_text(text, len, "disabled"),
          "disabled message: %.*s", (int)len, text);
    imds_client_free(client);
    imds_settings_free(settings);
}

static int trace_lines;

static void count_trace(void *context, imds_client *client)
{
    (void)context;
    char line[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    while (imds_client_next_trace_line(client, (uint8_t *)line, sizeof line, &len) ==
           IMDS_RESULT_OK) {
        CHECK(!has_text(line, len, "mockSecret") && !has_text(line, len, "mockSessionToken") &&
                  !has_text(line, len, "mock-imds-token"),
              "no secret in a trace line");
        trace_lines++;
    }
}

/* The calls every binding shares: the binding name in User-Agent, a pooled connection handed
 * over for a connect (and re-sent on once when the server had closed it), and reset. */
static void test_shared_operations(void)
{
    imds_settings *settings = settings_for_port(1338);
    imds_client *client = NULL;
    CHECK(imds_client_new(settings, 8, &client) == IMDS_RESULT_OK, "new");
    CHECK(imds_client_set_binding(client, STR("my-agent/1.2")) == IMDS_RESULT_OK, "binding");
    CHECK(imds_client_set_binding(client, STR("\xff")) == IMDS_RESULT_INVALID_ARGUMENT,
          "binding not UTF-8");
    CHECK(imds_client_set_binding(client, NULL, 1) == IMDS_RESULT_NULL_PARAMETER, "NULL name");
    CHECK(imds_client_set_binding(NULL, STR("x")) == IMDS_RESULT_NULL_PARAMETER, "NULL client");
    CHECK(imds_client_reset(NULL) == IMDS_RESULT_NULL_PARAMETER, "NULL client");
    CHECK(imds_client_handle_connected_reused(NULL, 1) == IMDS_RESULT_NULL_PARAMETER, "NULL");
    CHECK(imds_client_handle_connected_reused(client, 1) == IMDS_RESULT_INVALID_STATE,
          "pooled connection with no connect pending");

    imds_action action;
    CHECK(imds_client_start_get(client, 10, STR("instance-id")) == IMDS_RESULT_OK, "get");
    CHECK(imds_client_poll(client, 10, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_CONNECT,
          "connect");
    CHECK(imds_client_handle_connected_reused(client, 10) == IMDS_RESULT_OK, "pooled");
    CHECK(imds_client_poll(client, 10, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_SEND &&
              has_text((const char *)action.data.data, action.data.len,
                       "\r\nUser-Agent: " IMDS_VERSION_STRING " (my-agent/1.2)\r\n"),
          "User-Agent names the binding: %.*s", (int)action.data.len,
          (const char *)action.data.data);
    CHECK(imds_client_poll(client, 10, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_RECEIVE,
          "receive");
    CHECK(imds_client_handle_eof(client, 11) == IMDS_RESULT_OK, "the pooled one was closed");
    CHECK(imds_client_poll(client, 11, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_CLOSE,
          "close it");
    CHECK(imds_client_poll(client, 11, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_CONNECT,
          "and connect anew");
    CHECK(imds_client_handle_connected(client, 11) == IMDS_RESULT_OK, "connected");
    expect_request(client, 12, "PUT /latest/api/token HTTP/1.1\r\n",
                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde");
    expect_request(client, 13, "GET /latest/meta-data/instance-id HTTP/1.1\r\n",
                   "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ni-1");
    CHECK(imds_client_poll(client, 14, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_DONE,
          "done");

    /* Reset: the token and the connection are forgotten. */
    CHECK(imds_client_reset(client) == IMDS_RESULT_OK, "reset");
    imds_bytes body;
    CHECK(imds_client_body(client, &body) == IMDS_RESULT_NOT_AVAILABLE, "no body after reset");
    CHECK(imds_client_start_get(client, 20, STR("instance-id")) == IMDS_RESULT_OK, "get");
    CHECK(imds_client_poll(client, 20, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_CONNECT,
          "connect after reset");
    CHECK(imds_client_handle_connected(client, 20) == IMDS_RESULT_OK, "connected");
    CHECK(imds_client_poll(client, 20, &action) == IMDS_RESULT_OK &&
              action.kind == IMDS_ACTION_KIND_SEND &&
              has_text((const char *)action.data.data, action.data.len,
                       "PUT /latest/api/token"),
          "a new token after reset");
    imds_client_free(client);
    imds_settings_free(settings);
}

static int instance_id_requests;
static int token_requests;
static int unsolicited_warnings;

static void count_diagnostics(void *context, imds_client *client)
{
    (void)context;
    char line[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    imds_level level;
    while (imds_client_next_diagnostic(client, (uint8_t *)line, sizeof line, &len, &level) ==
           IMDS_RESULT_OK) {
        instance_id_requests += has_text(line, len, "> GET /latest/meta-data/instance-id");
        token_requests += has_text(line, len, "> PUT /latest/api/token");
        unsolicited_warnings += level == IMDS_LEVEL_WARN &&
                                has_text(line, len, "bytes that no request asked for");
    }
}

/* Against a mock serving `script`: reads the region, waits until something arrives on the kept
 * connection, then reads the instance id with the same client and driver (the counters above see
 * every diagnostic). */
static void region_then_instance_id(const char *script, uint64_t seed)
{
    instance_id_requests = 0;
    token_requests = 0;
    unsolicited_warnings = 0;
    mock m;
    if (mock_start(mock_path, script, &m) != 0) {
        CHECK(0, "could not start the mock with a script");
        return;
    }
    imds_settings *settings = settings_for_port(m.port);
    imds_client *client = NULL;
    CHECK(imds_client_new(settings, seed, &client) == IMDS_RESULT_OK, "new");
    drv driver;
    drv_init(&driver);
    driver.on_step = count_diagnostics;
    imds_bytes body;
    imds_result r = drv_get(&driver, client, STR("placement/region"), &body);
    CHECK(r == IMDS_RESULT_OK && same_text(body.data, body.len, "us-east-1"), "region: %u", r);
    CHECK(driver.fd >= 0, "kept: the answer did not say it closes");
    struct pollfd pfd;
    pfd.fd = driver.fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    CHECK(poll(&pfd, 1, 5000) == 1, "something arrives on the kept connection");
    r = drv_get(&driver, client, STR("instance-id"), &body);
    CHECK(r == IMDS_RESULT_OK && same_text(body.data, body.len, "i-0123456789abcdef0"),
          "the instance id, on a new connection: %u %.*s", r, (int)body.len,
          (const char *)body.data);
    drv_close(&driver, client);
    imds_client_free(client);
    imds_settings_free(settings);
    mock_stop(&m);
}

/* The server closes the kept connection after answering: the driver finds it closed before
 * writing the next request, and the client connects anew without a request on the dead one. */
static void test_server_closes_the_kept_connection(void)
{
    region_then_instance_id("{\"responses\":[{\"path\":\"/latest/meta-data/placement/region\","
                            "\"raw\":\"HTTP/1.1 200 OK\\r\\nContent-Length: 9\\r\\n\\r\\n"
                            "us-east-1\"}]}",
                            16);
    CHECK(instance_id_requests == 1, "one request, none on the dead connection: %d",
          instance_id_requests);
    CHECK(unsolicited_warnings == 0, "a close is not unsolicited bytes");
    CHECK(token_requests == 1, "the token is used again: %d token requests", token_requests);
}

/* An answer nobody asked for arrives on the kept connection between operations: the driver finds
 * it before writing the next request, the client discards it, closes the connection, drops the
 * token that came on it and sends the request on a new one, with a new token. */
static void test_unsolicited_bytes_on_the_kept_connection(void)
{
    region_then_instance_id("{\"responses\":[{\"path\":\"/latest/meta-data/placement/region\","
                            "\"then_send\":\"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\n"
                            "early\",\"then_send_after_ms\":50}]}",
                            17);
    CHECK(unsolicited_warnings == 1, "one warning: %d", unsolicited_warnings);
    CHECK(instance_id_requests == 1, "one request, on the new connection: %d",
          instance_id_requests);
    CHECK(token_requests == 2, "a new token on the new connection: %d token requests",
          token_requests);
}

/* Real exchanges over loopback against imds-mock. */
static void test_against_mock(void)
{
    mock m;
    if (mock_start(mock_path, NULL, &m) != 0) {
        CHECK(0, "could not start %s", mock_path);
        return;
    }
    imds_settings *settings = settings_for_port(m.port);
    static storage store;
    imds_client *client = NULL;
    CHECK(imds_client_init(store.bytes, sizeof store.bytes, settings, 11, &client) ==
              IMDS_RESULT_OK,
          "init");
    drv driver;
    drv_init(&driver);
    driver.on_step = count_trace;
    imds_credentials credentials;
    imds_result r = drv_fetch_credentials(&driver, client, &credentials);
    CHECK(r == IMDS_RESULT_OK, "driver fetch: %u", r);
    if (r == IMDS_RESULT_OK) {
        CHECK(same_text(credentials.access_key_id.data, credentials.access_key_id.len,
                        "ASIAMOCKEXAMPLE00001"),
              "access key id");
        CHECK(same_text(credentials.secret_access_key.data, credentials.secret_access_key.len,
                        "mockSecret/EXAMPLE+Key0123456789abcdefghi"),
              "secret");
        CHECK(same_text(credentials.session_token.data, credentials.session_token.len,
                        "mockSessionToken/EXAMPLE+Token0123456789=="),
              "session token");
        CHECK(credentials.expiration == 1893456000, "expiration");
    }
    CHECK(trace_lines == 6, "three requests and three statuses traced, got %d", trace_lines);
    CHECK(driver.fd >= 0, "connection kept open");

    imds_bytes body;
    r = drv_get(&driver, client, STR("placement/region"), &body);
    CHECK(r == IMDS_RESULT_OK && same_text(body.data, body.len, "us-east-1"), "region: %u", r);
    r = drv_get(&driver, client, STR("no/such/path"), &body);
    CHECK(r == IMDS_RESULT_HTTP_STATUS, "404: %u", r);
    char text[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    CHECK(imds_client_last_error(client, (uint8_t *)text, sizeof text, &len) == IMDS_RESULT_OK &&
              has_text(text, len, "404"),
          "404 message: %.*s", (int)len, text);
    r = drv_get(&driver, client, STR("instance-id"), &body);
    CHECK(r == IMDS_RESULT_OK && same_text(body.data, body.len, "i-0123456789abcdef0"),
          "instance id after an error: %u", r);
    drv_close(&driver, client);
    CHECK(driver.fd == -1, "closed");
    imds_client_deinit(client);

    /* The blocking convenience on a fresh heap client. */
    imds_client *heap = NULL;
    CHECK(imds_client_new(settings, 12, &heap) == IMDS_RESULT_OK, "new");
    r = imds_fetch_credentials(heap, &credentials);
    CHECK(r == IMDS_RESULT_OK && same_text(credentials.access_key_id.data,
                                           credentials.access_key_id.len,
                                           "ASIAMOCKEXAMPLE00001"),
          "blocking fetch: %u", r);
    r = imds_fetch_credentials(heap, &credentials);
    CHECK(r == IMDS_RESULT_OK, "blocking fetch from the cache: %u", r);
    int cached = 0;
    imds_level level;
    while (imds_client_next_diagnostic(heap, (uint8_t *)text, sizeof text, &len, &level) ==
           IMDS_RESULT_OK) {
        cached |= same_text(text, len, "using cached credentials");
    }
    CHECK(cached, "the second fetch used the cache");
    imds_client_free(heap);
    imds_settings_free(settings);

    /* Extended API with AccountId, and an error document, from scripts. */
    mock_stop(&m);
    const char *script = "{\"credentials\":{\"Code\":\"AssumeRoleUnauthorizedAccess\","
                         "\"Message\":\"not allowed\"}}";
    if (mock_start(mock_path, script, &m) == 0) {
        settings = settings_for_port(m.port);
        CHECK(imds_client_new(settings, 13, &heap) == IMDS_RESULT_OK, "new");
        drv_init(&driver);
        r = drv_fetch_credentials(&driver, heap, &credentials);
        CHECK(r == IMDS_RESULT_CREDENTIALS_REJECTED, "rejected: %u", r);
        CHECK(imds_client_last_error(heap, (uint8_t *)text, sizeof text, &len) ==
                      IMDS_RESULT_OK &&
                  has_text(text, len, "AssumeRoleUnauthorizedAccess") &&
                  has_text(text, len, "trust relationship"),
              "message with hint: %.*s", (int)len, text);
        CHECK(driver.fd == -1, "connection closed after an error");
        imds_client_free(heap);
        imds_settings_free(settings);
        mock_stop(&m);
    } else {
        CHECK(0, "could not start the mock with a script");
    }
    const char *extended = "{\"extended_api\":true}";
    if (mock_start(mock_path, extended, &m) == 0) {
        char endpoint[64];
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", m.port);
        const char *pairs[] = {"endpoint", endpoint, "credentials_api", "extended", NULL};
        settings = settings_with(pairs);
        CHECK(imds_client_new(settings, 14, &heap) == IMDS_RESULT_OK, "new");
        drv_init(&driver);
        r = drv_fetch_credentials(&driver, heap, &credentials);
        CHECK(r == IMDS_RESULT_OK && same_text(credentials.account_id.data,
                                               credentials.account_id.len, "123456789012"),
              "account id from the extended API: %u", r);
        drv_close(&driver, heap);
        imds_client_free(heap);
        imds_settings_free(settings);
        mock_stop(&m);
    } else {
        CHECK(0, "could not start the mock with the extended API");
    }

    /* Nothing listens: connect failed (after the attempts), with the core's message naming the
     * endpoint, from both drivers. */
    unsigned port = closed_port();
    settings = settings_for_port(port);
    CHECK(imds_client_new(settings, 15, &heap) == IMDS_RESULT_OK, "new");
    drv_init(&driver);
    r = drv_fetch_credentials(&driver, heap, &credentials);
    CHECK(r == IMDS_RESULT_CONNECT_FAILED, "refused: %u", r);
    char named[96];
    snprintf(named, sizeof named, "could not connect to IMDS at http://127.0.0.1:%u (connection refused)",
             port);
    CHECK(imds_client_last_error(heap, (uint8_t *)text, sizeof text, &len) == IMDS_RESULT_OK &&
              has_text(text, len, named),
          "message: %.*s", (int)len, text);
    r = imds_fetch_credentials(heap, &credentials);
    CHECK(r == IMDS_RESULT_CONNECT_FAILED, "blocking refused: %u", r);
    imds_client_free(heap);
    imds_settings_free(settings);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_api PATH/TO/imds-mock\n");
        return 2;
    }
    mock_path = argv[1];
    test_version_and_results();
    test_cli();
    test_config();
    test_client_lifecycle();
    test_transcript();
    test_shared_operations();
    test_against_mock();
    test_server_closes_the_kept_connection();
    test_unsolicited_bytes_on_the_kept_connection();
    return test_summary();
}
