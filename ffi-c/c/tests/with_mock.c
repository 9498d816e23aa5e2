/*
 * with_mock: runs a command with AWS_EC2_METADATA_SERVICE_ENDPOINT pointing at a fresh imds-mock
 * on loopback, and checks its exit status and that its stdout contains each expected text (used
 * to run the README's example and ffi-c/examples).
 *
 *   with_mock PATH/TO/imds-mock [--script-json JSON] [--status N] --expect TEXT [--expect TEXT...]
 *             -- COMMAND [ARGS...]
 *
 * The mock serves JSON as its script (default: its defaults); N is the expected exit status
 * (default 0). Exits 0 when every check passed; ends with the line `N passed, N failed`.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include "harness.h"

static int usage(void)
{
    fprintf(stderr, "usage: with_mock PATH/TO/imds-mock [--script-json JSON] [--status N] "
                    "--expect TEXT [--expect TEXT...] -- COMMAND [ARGS...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *script = NULL;
    int expected_status = 0;
    int first_expect = 0, expects = 0;
    int at = 2;
    for (; at + 1 < argc && strcmp(argv[at], "--") != 0; at += 2) {
        if (strcmp(argv[at], "--script-json") == 0) {
            script = argv[at + 1];
        } else if (strcmp(argv[at], "--status") == 0) {
            expected_status = atoi(argv[at + 1]);
        } else if (strcmp(argv[at], "--expect") == 0) {
            /* The expectations are read back from argv: keep them together. */
            if (expects > 0 && first_expect + 2 * expects != at) {
                return usage();
            }
            first_expect = expects == 0 ? at : first_expect;
            expects++;
        } else {
            return usage();
        }
    }
    if (argc < 2 || expects == 0 || at + 1 >= argc || strcmp(argv[at], "--") != 0) {
        return usage();
    }
    char **command = argv + at + 1;
    mock m;
    if (mock_start(argv[1], script, &m) != 0) {
        CHECK(0, "could not start %s", argv[1]);
        return test_summary();
    }
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", m.port);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint, 1);
    int out[2];
    if (pipe(out) != 0) {
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(command[0], command);
        _exit(127);
    }
    close(out[1]);
    static char output[65536];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof output && (n = read(out[0], output + len, sizeof output - len)) > 0) {
        len += (size_t)n;
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    mock_stop(&m);
    fwrite(output, 1, len, stdout);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == expected_status,
          "%s exited with status %d, expected %d", command[0],
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, expected_status);
    for (int i = 0; i < expects; i++) {
        const char *text = argv[first_expect + 2 * i + 1];
        CHECK(has_text(output, len, text), "the output contains `%s`", text);
    }
    return test_summary();
}
