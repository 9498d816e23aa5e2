/*
 * fleet_c: the C `imds` command behind the fleet barrier (see tests/bench/fleet.py).
 *
 *   fleet_c [imds arguments...]        (FLEET_BARRIER, FLEET_REPORT, FLEET_ID in the environment)
 *
 * This file includes ffi-c/c/imds.c unchanged, with its `main` renamed, so the process runs
 * exactly the command's code; only the order differs from `imds credentials` started by a shell:
 * the process is started and its libraries mapped first, it reports `ready` and blocks on the
 * barrier (a FIFO the harness holds open for writing), and the command's `main` (settings, the
 * exchange, printing) runs only when the harness closes the FIFO. It then reports the time it
 * was released and the time the command returned, on CLOCK_MONOTONIC as the harness reads it.
 */
#define main imds_command_main
#include "../../../ffi-c/c/imds.c"
#undef main

#include <errno.h>
#include <fcntl.h>

static uint64_t monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void report(int fd, const char *line, size_t len)
{
    /* One write of less than PIPE_BUF bytes: never interleaved with another process's line. */
    while (write(fd, line, len) < 0 && errno == EINTR) {
    }
}

int main(int argc, char **argv)
{
    const char *barrier_path = getenv("FLEET_BARRIER");
    const char *report_path = getenv("FLEET_REPORT");
    const char *id = getenv("FLEET_ID");
    if (barrier_path == NULL || report_path == NULL || id == NULL) {
        fprintf(stderr, "fleet_c: FLEET_BARRIER, FLEET_REPORT and FLEET_ID must be set\n");
        return 2;
    }
    int report_fd = open(report_path, O_WRONLY | O_CLOEXEC);
    int barrier_fd = open(barrier_path, O_RDONLY | O_CLOEXEC);
    if (report_fd < 0 || barrier_fd < 0) {
        fprintf(stderr, "fleet_c: cannot open the barrier or report FIFO\n");
        return 2;
    }
    char line[160];
    int len = snprintf(line, sizeof line, "ready %s\n", id);
    report(report_fd, line, (size_t)len);
    for (;;) {
        char byte;
        ssize_t n = read(barrier_fd, &byte, 1);
        if (n == 0 || (n < 0 && errno != EINTR)) {
            break; /* end of file: released (an error releases too) */
        }
    }
    uint64_t released = monotonic_ns();
    close(barrier_fd);

    int status = imds_command_main(argc, argv);

    uint64_t done = monotonic_ns();
    len = snprintf(line, sizeof line, "done %s %llu %llu %d\n", id, (unsigned long long)released,
                   (unsigned long long)done, status);
    report(report_fd, line, (size_t)len);
    close(report_fd);
    return status;
}
