/*
 * runner_c: the C contenders behind the bench runner protocol (see tests/bench/bench.py):
 *
 *   runner_c imds|floor http://127.0.0.1:PORT
 *
 * imds: libimds with the reference driver (ffi-c/c/driver.c). Cold: a client initialised in
 * caller storage per fetch, connection closed after it (bench.c's imds_fetch). Warm: one
 * long-lived client and driver, refresh window 3600 s (the mock's credentials expire 30 min
 * after the bench starts), so every fetch refreshes with the cached token and role.
 *
 * floor: a plain-socket client that does the least any client must. Cold: connect, token, role,
 * credentials, close (bench.c's plain_fetch). Warm: one GET of the credentials on a kept-alive
 * connection with the token and role it learnt once.
 *
 * Commands on stdin: `cold N`, `prime`, `warm N`, `quit`; one JSON line per command on stdout.
 */
#define IMDS_BENCH_NO_MAIN
#include "../../../ffi-c/c/bench.c"

static const char *expected_key;
static imds_settings *bench_settings;
static drv warm_driver;
static union {
    max_align_t align;
    unsigned char bytes[64 * 1024];
} warm_storage;
static imds_client *warm_client;

static drv cold_driver;

static int imds_cold(void)
{
    return imds_fetch(bench_settings, &cold_driver);
}

static int key_matches(const imds_credentials *c)
{
    return expected_key == NULL || (c->access_key_id.len == strlen(expected_key) &&
                                    memcmp(c->access_key_id.data, expected_key, c->access_key_id.len) == 0);
}

static int imds_warm(void)
{
    if (warm_client == NULL &&
        imds_client_init(warm_storage.bytes, sizeof warm_storage.bytes, bench_settings, 7, &warm_client) !=
            IMDS_RESULT_OK) {
        return -1;
    }
    imds_credentials credentials;
    if (drv_fetch_credentials(&warm_driver, warm_client, &credentials) != IMDS_RESULT_OK) {
        return -1;
    }
    return key_matches(&credentials) ? 0 : -1;
}

/* The floor's kept-alive state: a connection, the token and the role. */
static int floor_fd = -1;
static char floor_token[1024], floor_role[256];

static int floor_connect(void)
{
    floor_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(floor_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(floor_fd, (struct sockaddr *)&addr, sizeof addr);
}

static int floor_warm(void)
{
    char request[2048], credentials[8192];
    int n;
    if (floor_fd < 0) {
        if (floor_connect() != 0) {
            return -1;
        }
        n = snprintf(request, sizeof request,
                     "PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                     "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n",
                     port);
        if (send_all(floor_fd, request, (size_t)n) != 0 ||
            read_response(floor_fd, floor_token, sizeof floor_token) <= 0) {
            return -1;
        }
        n = snprintf(request, sizeof request,
                     "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: "
                     "127.0.0.1:%u\r\nx-aws-ec2-metadata-token: %s\r\n\r\n",
                     port, floor_token);
        if (send_all(floor_fd, request, (size_t)n) != 0 ||
            read_response(floor_fd, floor_role, sizeof floor_role) <= 0) {
            return -1;
        }
    }
    n = snprintf(request, sizeof request,
                 "GET /latest/meta-data/iam/security-credentials/%s HTTP/1.1\r\nHost: "
                 "127.0.0.1:%u\r\nx-aws-ec2-metadata-token: %s\r\n\r\n",
                 floor_role, port, floor_token);
    if (send_all(floor_fd, request, (size_t)n) != 0 ||
        read_response(floor_fd, credentials, sizeof credentials) <= 0 ||
        strstr(credentials, "AccessKeyId") == NULL) {
        close(floor_fd);
        floor_fd = -1;
        return -1;
    }
    return 0;
}

static void run(int (*fetch)(void), long count)
{
    static double samples[1 << 16];
    if (count < 1 || count > (long)(sizeof samples / sizeof samples[0])) {
        printf("{\"error\":\"count out of range\"}\n");
        return;
    }
    for (long i = 0; i < count; i++) {
        double start = now_us();
        if (fetch() != 0) {
            printf("{\"error\":\"fetch failed\"}\n");
            return;
        }
        samples[i] = now_us() - start;
    }
    printf("{\"us\":[");
    for (long i = 0; i < count; i++) {
        printf(i ? ",%.2f" : "%.2f", samples[i]);
    }
    printf("]}\n");
}

int main(int argc, char **argv)
{
    const char *prefix = "http://127.0.0.1:";
    if (argc != 3 || strncmp(argv[2], prefix, strlen(prefix)) != 0 ||
        (strcmp(argv[1], "imds") != 0 && strcmp(argv[1], "floor") != 0)) {
        fprintf(stderr, "usage: runner_c imds|floor http://127.0.0.1:PORT\n");
        return 2;
    }
    int floor_mode = strcmp(argv[1], "floor") == 0;
    port = (unsigned)strtoul(argv[2] + strlen(prefix), NULL, 10);
    expected_key = getenv("BENCH_EXPECT_KEY");
    imds_config *config = NULL;
    imds_config_new(&config);
    imds_config_set(config, IMDS_SOURCE_CODE, "endpoint", 8, argv[2], strlen(argv[2]));
    imds_config_set(config, IMDS_SOURCE_CODE, "refresh_window", 14, "3600", 4);
    if (imds_config_resolve(config, &bench_settings) != IMDS_RESULT_OK) {
        fprintf(stderr, "runner_c: settings failed\n");
        return 2;
    }
    imds_config_free(config);
    drv_init(&warm_driver);
    drv_init(&cold_driver);
    setvbuf(stdout, NULL, _IOFBF, 1 << 20);
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        char command[16] = "";
        long count = 1;
        if (sscanf(line, "%15s %ld", command, &count) < 1 || strcmp(command, "quit") == 0) {
            break;
        }
        if (strcmp(command, "cold") == 0) {
            run(floor_mode ? plain_fetch : imds_cold, count);
        } else if (strcmp(command, "warm") == 0 || strcmp(command, "prime") == 0) {
            run(floor_mode ? floor_warm : imds_warm, count);
        } else {
            printf("{\"error\":\"unknown command\"}\n");
        }
        fflush(stdout);
    }
    return 0;
}
