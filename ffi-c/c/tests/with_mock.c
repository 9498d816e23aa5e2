/*
 * with_mock: runs a command with AWS_EC2_METADATA_SERVICE_ENDPOINT pointing at a fresh imds-mock
 * on loopback, and checks that its stdout contains a text (used to run the README's example).
 *
 *   with_mock PATH/TO/imds-mock --expect TEXT -- COMMAND [ARGS...]
 *
 * Exits 0 when the command exits 0 and printed TEXT; ends with the line `N passed, N failed`.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include "harness.h"

int main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[2], "--expect") != 0 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: with_mock PATH/TO/imds-mock --expect TEXT -- COMMAND [ARGS...]\n");
        return 2;
    }
    mock m;
    if (mock_start(argv[1], NULL, &m) != 0) {
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
        execv(argv[5], argv + 5);
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
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited with status %d", argv[5],
          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    CHECK(has_text(output, len, argv[3]), "the output contains `%s`", argv[3]);
    return test_summary();
}
