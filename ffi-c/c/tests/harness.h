/*
 * harness.h: a tiny test harness for the C tests (valid C11 and C++).
 *
 * CHECK() counts passes and failures; test_summary() prints `N passed, N failed` (the line CI
 * reads) and gives the exit status. mock_start() runs the loopback `imds-mock` with a script and
 * learns its port; mock_stop() ends it. closed_port() gives a loopback port nothing listens on.
 */
#ifndef IMDS_TEST_HARNESS_H
#define IMDS_TEST_HARNESS_H

#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int test_passed;
static int test_failed;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            test_passed++;                                                                     \
        } else {                                                                               \
            test_failed++;                                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                  \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fprintf(stderr, "\n");                                                             \
        }                                                                                      \
    } while (0)

/* Prints the summary line and returns the exit status. */
static inline int test_summary(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed == 0 ? 0 : 1;
}

/* Whether len bytes at data equal the NUL-terminated text. */
static inline int same_text(const void *data, size_t len, const char *text)
{
    return len == strlen(text) && memcmp(data, text, len) == 0;
}

/* Whether len bytes at data contain the NUL-terminated needle. */
static inline int has_text(const void *data, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    const char *bytes = (const char *)data;
    for (size_t i = 0; n <= len && i <= len - n; i++) {
        if (memcmp(bytes + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A running imds-mock. */
typedef struct mock {
    pid_t pid;
    int stdin_fd;  /* closing it stops the mock (--until-stdin-closes) */
    int stdout_fd;
    unsigned port;
} mock;

/* Starts `mock_path --until-stdin-closes [--script-json script]` and reads its port from
 * `listening 127.0.0.1:PORT`. Returns 0 on success. */
static inline int mock_start(const char *mock_path, const char *script, mock *m)
{
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        if (script != NULL) {
            execl(mock_path, mock_path, "--until-stdin-closes", "--script-json", script,
                  (char *)NULL);
        } else {
            execl(mock_path, mock_path, "--until-stdin-closes", (char *)NULL);
        }
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    m->pid = pid;
    m->stdin_fd = in[1];
    m->stdout_fd = out[0];
    m->port = 0;
    char line[256];
    size_t len = 0;
    while (len + 1 < sizeof line) {
        ssize_t n = read(m->stdout_fd, line + len, 1);
        if (n <= 0 || line[len] == '\n') {
            break;
        }
        len++;
    }
    line[len] = '\0';
    const char *colon = strrchr(line, ':');
    if (strncmp(line, "listening ", 10) != 0 || colon == NULL) {
        fprintf(stderr, "mock_start: unexpected first line `%s`\n", line);
        return -1;
    }
    m->port = (unsigned)strtoul(colon + 1, NULL, 10);
    return m->port == 0 ? -1 : 0;
}

/* Stops the mock and waits for it. */
static inline void mock_stop(mock *m)
{
    if (m->pid <= 0) {
        return;
    }
    close(m->stdin_fd);
    int status = 0;
    waitpid(m->pid, &status, 0);
    close(m->stdout_fd);
    m->pid = 0;
}

/* A loopback port nothing listens on (bound, then released). */
static inline unsigned closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    unsigned port = 0;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
}

#endif /* IMDS_TEST_HARNESS_H */
