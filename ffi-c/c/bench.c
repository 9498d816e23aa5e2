/*
 * bench: per-fetch time of libimds with driver.c against imds-mock, next to a plain-socket C
 * client doing the same three requests (token, role, credentials) on one keep-alive connection:
 * the floor any client pays for the mock and loopback TCP. Also the stripped sizes of libimds.so
 * and libimds.a. A program that prints figures, not a test (`make bench-c`).
 *
 *   bench PATH/TO/imds-mock PATH/TO/libimds.so PATH/TO/libimds.a [PATH/TO/imds]
 *
 * Each fetch opens a connection, makes the three requests and closes it; the libimds client is
 * reinitialised in the same storage before each fetch, so no cache answers. Rounds of both
 * clients alternate; the figures are the median round.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "driver.h"
#include "harness.h"
#include "imds.h"

#define ROUNDS 15
#define FETCHES_PER_ROUND 300

static unsigned port;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Reads one HTTP response with a Content-Length body; returns the body length (body copied to
 * body_out, NUL-terminated) or -1. */
static int read_response(int fd, char *body_out, size_t body_cap)
{
    static char buf[16384];
    size_t len = 0;
    for (;;) {
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0) {
            return -1;
        }
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL) {
            continue;
        }
        const char *cl = strcasestr(buf, "content-length:");
        if (cl == NULL || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
            return -1;
        }
        size_t body_len = strtoul(cl + 15, NULL, 10);
        size_t head = (size_t)(end + 4 - buf);
        if (len < head + body_len) {
            continue;
        }
        if (body_len >= body_cap) {
            return -1;
        }
        memcpy(body_out, buf + head, body_len);
        body_out[body_len] = '\0';
        return (int)body_len;
    }
}

static int send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The floor: blocking socket, three requests, minimal parsing. */
static int plain_fetch(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = -1;
    char request[1024], token[1024], role[256], credentials[8192];
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        goto out;
    }
    int n = snprintf(request, sizeof request,
                     "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                     "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n",
                     port);
    if (send_all(fd, request, (size_t)n) != 0 || read_response(fd, token, sizeof token) <= 0) {
        goto out;
    }
    n = snprintf(request, sizeof request,
                 "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: "
                 "127.0.0.1:%u\r\nx-aws-ec2-metadata-token: %s\r\n\r\n",
                 port, token);
    if (send_all(fd, request, (size_t)n) != 0 || read_response(fd, role, sizeof role) <= 0) {
        goto out;
    }
    n = snprintf(request, sizeof request,
                 "GET /latest/meta-data/iam/security-credentials/%s HTTP/1.1\r\nHost: "
                 "127.0.0.1:%u\r\nx-aws-ec2-metadata-token: %s\r\n\r\n",
                 role, port, token);
    if (send_all(fd, request, (size_t)n) != 0 ||
        read_response(fd, credentials, sizeof credentials) <= 0 ||
        strstr(credentials, "AccessKeyId") == NULL) {
        goto out;
    }
    ok = 0;
out:
    close(fd);
    return ok;
}

static union {
    max_align_t align;
    unsigned char bytes[64 * 1024];
} storage;

static int imds_fetch(const imds_settings *settings, drv *driver)
{
    imds_client *client = NULL;
    imds_credentials credentials;
    if (imds_client_init(storage.bytes, sizeof storage.bytes, settings, 1, &client) !=
        IMDS_RESULT_OK) {
        return -1;
    }
    imds_result r = drv_fetch_credentials(driver, client, &credentials);
    drv_close(driver, client);
    imds_client_deinit(client);
    return r == IMDS_RESULT_OK ? 0 : -1;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static long stripped_size(const char *path, const char *flags, const char *out)
{
    char command[2048];
    snprintf(command, sizeof command, "strip %s -o '%s' '%s'", flags, out, path);
    return system(command) == 0 ? file_size(out) : -1;
}

/* tests/bench/runners/runner_c.c includes this file for plain_fetch() and imds_fetch(). */
#ifndef IMDS_BENCH_NO_MAIN
int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench PATH/TO/imds-mock PATH/TO/libimds.so PATH/TO/libimds.a\n");
        return 2;
    }
    mock m;
    if (mock_start(argv[1], NULL, &m) != 0) {
        fprintf(stderr, "bench: could not start %s\n", argv[1]);
        return 1;
    }
    port = m.port;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", port);
    imds_config *config = NULL;
    imds_settings *settings = NULL;
    imds_config_new(&config);
    imds_config_set(config, IMDS_SOURCE_CODE, "endpoint", 8, endpoint, strlen(endpoint));
    if (imds_config_resolve(config, &settings) != IMDS_RESULT_OK) {
        fprintf(stderr, "bench: settings failed\n");
        return 1;
    }
    imds_config_free(config);
    drv driver;
    drv_init(&driver);

    for (int i = 0; i < 200; i++) { /* warm up both */
        if (plain_fetch() != 0 || imds_fetch(settings, &driver) != 0) {
            fprintf(stderr, "bench: a warm-up fetch failed\n");
            return 1;
        }
    }
    double plain[ROUNDS], lib[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        double start = now_us();
        for (int i = 0; i < FETCHES_PER_ROUND; i++) {
            if (plain_fetch() != 0) {
                fprintf(stderr, "bench: plain fetch failed\n");
                return 1;
            }
        }
        plain[round] = (now_us() - start) / FETCHES_PER_ROUND;
        start = now_us();
        for (int i = 0; i < FETCHES_PER_ROUND; i++) {
            if (imds_fetch(settings, &driver) != 0) {
                fprintf(stderr, "bench: libimds fetch failed\n");
                return 1;
            }
        }
        lib[round] = (now_us() - start) / FETCHES_PER_ROUND;
    }
    qsort(plain, ROUNDS, sizeof plain[0], compare);
    qsort(lib, ROUNDS, sizeof lib[0], compare);
    double plain_median = plain[ROUNDS / 2], lib_median = lib[ROUNDS / 2];
    printf("per fetch (connect + token + role + credentials on one connection, %d rounds x %d, "
           "median round):\n",
           ROUNDS, FETCHES_PER_ROUND);
    printf("  plain-socket C client (floor)  %8.1f us  (best round %.1f)\n", plain_median,
           plain[0]);
    printf("  libimds + driver.c             %8.1f us  (best round %.1f)\n", lib_median, lib[0]);
    printf("  ratio                          %8.3f x  (target <= 1.15)\n",
           lib_median / plain_median);

    long so = file_size(argv[2]), a = file_size(argv[3]);
    long so_stripped = stripped_size(argv[2], "--strip-all", "/tmp/imds-bench-libimds.so");
    long a_stripped = stripped_size(argv[3], "--strip-debug", "/tmp/imds-bench-libimds.a");
    printf("libimds.so  %8ld bytes, stripped (--strip-all)   %8ld bytes = %.1f KiB (target < 300 "
           "KiB)\n",
           so, so_stripped, (double)so_stripped / 1024.0);
    printf("libimds.a   %8ld bytes, stripped (--strip-debug) %8ld bytes = %.1f KiB (an archive "
           "of all of std; a program links only what it uses)\n",
           a, a_stripped, (double)a_stripped / 1024.0);
    if (argc > 4) {
        long command = stripped_size(argv[4], "--strip-all", "/tmp/imds-bench-imds");
        printf("imds command, linked with libimds.a, stripped: %ld bytes = %.1f KiB\n", command,
               (double)command / 1024.0);
    }
    printf("client in caller storage: %zu bytes, align %zu\n", imds_client_size(),
           imds_client_align());
    imds_settings_free(settings);
    mock_stop(&m);
    return 0;
}
#endif /* IMDS_BENCH_NO_MAIN */
