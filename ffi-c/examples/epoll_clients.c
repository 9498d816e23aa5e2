/*
 * epoll_clients.c: several imds_clients in flight at once in one epoll event loop, the way an
 * agent built on epoll (or on libuv / libev / libevent, which wrap it) drives the sans-IO client.
 *
 *   epoll_clients [--trace]
 *
 * Three clients, one operation each: credentials, `placement/region` and `instance-id`. Settings
 * come from the environment and ~/.aws/config as the AWS SDKs read them (imds_config_load()). Each
 * client's actions become non-blocking socket calls and epoll interest:
 *
 *   CONNECT  a non-blocking connect(); wait for EPOLLOUT, then imds_client_handle_connected()
 *   SEND     first recv(MSG_DONTWAIT): whatever is already on the connection (bytes no request
 *            asked for, the end of a kept connection) is reported instead of sending, and the
 *            client decides; else send() what fits; wait for EPOLLOUT for the rest
 *   RECEIVE  wait for EPOLLIN, then imds_client_handle_data() / imds_client_handle_eof()
 *   CLOSE    close()
 *   WAIT     nothing until the deadline (retry back-off); a connection kept open meanwhile is
 *            watched for EPOLLIN: the server closed it (or sent what no request asked for), so
 *            it is closed and the client told with imds_client_handle_closed(), and the retry
 *            connects anew instead of going out on a dead connection
 *   DONE     the operation succeeded
 *
 * and the earliest deadline of all clients is epoll_wait()'s timeout: a CONNECT, SEND or RECEIVE
 * whose deadline passes is reported with imds_client_handle_timeout(), a WAIT polls again.
 * Nothing blocks except epoll_wait() (and getaddrinfo() for an endpoint given by name; IMDS
 * endpoints are IP literals, which it parses without a lookup). Plain http endpoints only.
 *
 * Prints one line per operation (`credentials: ASIA... expires 1893456000`,
 * `placement/region: us-east-1`, or `NAME: failed: MESSAGE`), then how many clients were waiting
 * for an answer at the same moment at most, and how many kept connections the server closed
 * during a back-off. With --trace, each client's requests and statuses go
 * to stderr as they happen, prefixed with the operation's name. Exits 0 when every operation
 * succeeded, 1 otherwise.
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "imds.h"

#define JOB_COUNT 3
/* Bytes read at a time; the client copies them. */
#define READ_CHUNK 4096

/* One client and the one operation it runs. */
typedef struct job {
    /* "credentials", or the metadata path to read. */
    const char *name;
    imds_client *client;
    /* The connection, or -1. */
    int fd;
    /* The epoll events fd is registered for (0: not registered). */
    uint32_t registered;
    /* The action being carried out (CONNECT, SEND, RECEIVE or WAIT), or 0 when none. */
    uint32_t pending;
    /* When the pending action gives up (CONNECT, SEND, RECEIVE) or ends (WAIT). */
    uint64_t deadline_ms;
    /* SEND: the request (a view into the client, valid until the next call on it) and how
     * much of it went out. */
    imds_bytes request;
    size_t sent;
    /* Set once the operation ended. */
    int finished;
    imds_result result;
} job;

static int epoll_fd = -1;
static int trace;
/* Kept connections the server closed while their client was backing off. */
static int closed_during_back_off;

static uint64_t now_ms(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) {
        return 0;
    }
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

/* Registers fd for `events` only (0 removes it from the set). */
static void watch(job *j, uint32_t events)
{
    if (j->fd < 0 || events == j->registered) {
        return;
    }
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = events;
    event.data.ptr = j;
    int op = events == 0 ? EPOLL_CTL_DEL : j->registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(epoll_fd, op, j->fd, &event) == 0) {
        j->registered = events;
    }
}

static void drop_connection(job *j)
{
    if (j->fd >= 0) {
        watch(j, 0);
        close(j->fd);
        j->fd = -1;
        j->registered = 0;
    }
}

/* Waits for `events` on the connection until deadline_ms. */
static void await(job *j, uint32_t action, uint32_t events, uint64_t deadline_ms)
{
    j->pending = action;
    j->deadline_ms = deadline_ms;
    watch(j, events);
}

/* Takes the client's queued diagnostics: with --trace, on stderr. */
static void drain_diagnostics(job *j)
{
    char text[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    imds_level level;
    while (imds_client_next_diagnostic(j->client, (uint8_t *)text, sizeof text, &len, &level) ==
           IMDS_RESULT_OK) {
        if (trace || level == IMDS_LEVEL_WARN) {
            fprintf(stderr, "[%s] %.*s\n", j->name, (int)len, text);
        }
    }
}

static imds_io_error classify(int error)
{
    return error == ECONNRESET || error == EPIPE || error == ECONNABORTED
               ? IMDS_IO_ERROR_CONNECTION_RESET
               : IMDS_IO_ERROR_OTHER;
}

/* What is already on the connection before a request is sent, read without blocking: 1 when
 * something was (bytes, the end of the stream, an error) and was reported to the client, 0 when
 * nothing is there. */
static int report_already_there(job *j)
{
    uint8_t buf[READ_CHUNK];
    ssize_t n;
    do {
        n = recv(j->fd, buf, sizeof buf, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        (void)imds_client_handle_data(j->client, now_ms(), buf, (size_t)n);
        /* Whatever came may hold a token: wiped as a receive's bytes are. */
        explicit_bzero(buf, (size_t)n);
    } else if (n == 0) {
        (void)imds_client_handle_eof(j->client, now_ms());
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return 0;
    } else {
        (void)imds_client_handle_io_error(j->client, now_ms(), classify(errno));
    }
    return 1;
}

/* The address to connect to: getaddrinfo() parses an IP literal without a lookup (a name is
 * looked up, blocking the loop: IMDS endpoints are IP literals). */
static int resolve(imds_str host, uint16_t port, struct sockaddr_storage *addr,
                   socklen_t *addr_len)
{
    char name[256];
    char service[8];
    if (host.len == 0 || host.len >= sizeof name) {
        return -1;
    }
    memcpy(name, host.data, host.len);
    name[host.len] = '\0';
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints;
    struct addrinfo *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(name, service, &hints, &found) != 0 || found == NULL) {
        return -1;
    }
    memcpy(addr, found->ai_addr, found->ai_addrlen);
    *addr_len = found->ai_addrlen;
    freeaddrinfo(found);
    return 0;
}

/* Starts a non-blocking connect: the result of handle_connected() / handle_io_error() when it
 * ended at once, else IMDS_RESULT_OK with the job awaiting EPOLLOUT. */
static imds_result start_connect(job *j, const imds_action *action)
{
    drop_connection(j);
    if (action->tls) {
        return imds_client_handle_unsupported(j->client);
    }
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    if (resolve(action->host, action->port, &addr, &addr_len) != 0) {
        return imds_client_handle_io_error(j->client, now_ms(), IMDS_IO_ERROR_CONNECT_FAILED);
    }
    j->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (j->fd < 0) {
        return imds_client_handle_io_error(j->client, now_ms(), IMDS_IO_ERROR_CONNECT_FAILED);
    }
    int one = 1;
    (void)setsockopt(j->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(j->fd, (struct sockaddr *)&addr, addr_len) == 0) {
        return imds_client_handle_connected(j->client, now_ms());
    }
    if (errno == EINPROGRESS) {
        await(j, IMDS_ACTION_KIND_CONNECT, EPOLLOUT, action->deadline_ms);
        return IMDS_RESULT_OK;
    }
    int error = errno;
    drop_connection(j);
    return imds_client_handle_io_error(j->client, now_ms(),
                                       error == ECONNREFUSED ? IMDS_IO_ERROR_CONNECTION_REFUSED
                                                             : IMDS_IO_ERROR_CONNECT_FAILED);
}

/* Sends what the socket takes: 1 when all is sent, 0 when the job awaits EPOLLOUT for the rest,
 * -1 after reporting a failure to the client. */
static int send_some(job *j)
{
    while (j->sent < j->request.len) {
        ssize_t n = send(j->fd, j->request.data + j->sent, j->request.len - j->sent, MSG_NOSIGNAL);
        if (n > 0) {
            j->sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            await(j, IMDS_ACTION_KIND_SEND, EPOLLOUT, j->deadline_ms);
            return 0;
        } else {
            (void)imds_client_handle_io_error(j->client, now_ms(), classify(errno));
            return -1;
        }
    }
    return 1;
}

static void finish(job *j, imds_result result)
{
    j->finished = 1;
    j->result = result;
    j->pending = 0;
    /* After a failure the client forgets the connection; so do we. After DONE it could be kept
     * for the client's next operation, but each client here runs only one. */
    drop_connection(j);
}

/* Polls the client and carries out its actions until one has to wait for the socket or a
 * deadline, or the operation ends. Failures of the handle_*() calls show up in the next poll. */
static void advance(job *j)
{
    j->pending = 0;
    for (;;) {
        drain_diagnostics(j);
        imds_action action;
        imds_result result = imds_client_poll(j->client, now_ms(), &action);
        if (result != IMDS_RESULT_OK) {
            finish(j, result);
            return;
        }
        switch (action.kind) {
        case IMDS_ACTION_KIND_DONE:
            finish(j, IMDS_RESULT_OK);
            return;
        case IMDS_ACTION_KIND_CONNECT:
            (void)start_connect(j, &action);
            if (j->pending == IMDS_ACTION_KIND_CONNECT) {
                return;
            }
            break;
        case IMDS_ACTION_KIND_SEND:
            if (j->fd < 0) {
                (void)imds_client_handle_io_error(j->client, now_ms(),
                                                  IMDS_IO_ERROR_CONNECTION_RESET);
                break;
            }
            if (report_already_there(j)) {
                break;
            }
            j->request = action.data;
            j->sent = 0;
            j->deadline_ms = action.deadline_ms;
            if (send_some(j) == 0) {
                return;
            }
            break;
        case IMDS_ACTION_KIND_RECEIVE:
            if (j->fd < 0) {
                (void)imds_client_handle_io_error(j->client, now_ms(),
                                                  IMDS_IO_ERROR_CONNECTION_RESET);
                break;
            }
            await(j, IMDS_ACTION_KIND_RECEIVE, EPOLLIN, action.deadline_ms);
            return;
        case IMDS_ACTION_KIND_CLOSE:
            drop_connection(j);
            break;
        case IMDS_ACTION_KIND_WAIT:
            /* An open connection is kept for the retry; watch it in case the server closes it. */
            await(j, IMDS_ACTION_KIND_WAIT, EPOLLIN, action.deadline_ms);
            return;
        default:
            (void)imds_client_handle_unsupported(j->client);
            break;
        }
    }
}

/* The socket is ready for what the pending action waits for (or has an error to report). */
static void on_ready(job *j)
{
    uint64_t now = now_ms();
    if (j->pending == IMDS_ACTION_KIND_CONNECT) {
        int error = 0;
        socklen_t len = sizeof error;
        if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
            error = errno;
        }
        if (error == 0) {
            (void)imds_client_handle_connected(j->client, now);
        } else {
            drop_connection(j);
            /* Refused; reset as the connect completed (IMDS accepted, then dropped it); or
             * another failure (unreachable, ...). */
            imds_io_error kind = error == ECONNREFUSED ? IMDS_IO_ERROR_CONNECTION_REFUSED
                                 : classify(error) == IMDS_IO_ERROR_CONNECTION_RESET
                                     ? IMDS_IO_ERROR_CONNECTION_RESET
                                     : IMDS_IO_ERROR_CONNECT_FAILED;
            (void)imds_client_handle_io_error(j->client, now, kind);
        }
    } else if (j->pending == IMDS_ACTION_KIND_SEND) {
        if (send_some(j) == 0) {
            return;
        }
    } else if (j->pending == IMDS_ACTION_KIND_RECEIVE) {
        uint8_t buf[READ_CHUNK];
        ssize_t n = recv(j->fd, buf, sizeof buf, 0);
        if (n > 0) {
            (void)imds_client_handle_data(j->client, now, buf, (size_t)n);
            /* The bytes may hold the token or credentials: the client keeps its own copy. */
            explicit_bzero(buf, (size_t)n);
        } else if (n == 0) {
            (void)imds_client_handle_eof(j->client, now);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return;
        } else {
            (void)imds_client_handle_io_error(j->client, now, classify(errno));
        }
    } else if (j->pending == IMDS_ACTION_KIND_WAIT) {
        /* Nothing may arrive on a connection no request is using: the end of the stream, an
         * error or stray bytes all mean it cannot carry the retry. The back-off goes on. */
        drop_connection(j);
        (void)imds_client_handle_closed(j->client);
        closed_during_back_off++;
        return;
    } else {
        return;
    }
    advance(j);
}

/* The pending action's deadline passed. */
static void on_deadline(job *j)
{
    if (j->pending != IMDS_ACTION_KIND_WAIT) {
        if (j->pending == IMDS_ACTION_KIND_CONNECT) {
            drop_connection(j);
        }
        (void)imds_client_handle_timeout(j->client, now_ms());
    }
    advance(j);
}

/* Milliseconds until the earliest deadline of a running job, for epoll_wait(). */
static int next_timeout(const job *jobs)
{
    uint64_t now = now_ms();
    uint64_t earliest = UINT64_MAX;
    for (int i = 0; i < JOB_COUNT; i++) {
        if (!jobs[i].finished && jobs[i].pending != 0 && jobs[i].deadline_ms < earliest) {
            earliest = jobs[i].deadline_ms;
        }
    }
    if (earliest == UINT64_MAX) {
        return -1;
    }
    if (earliest <= now) {
        return 0;
    }
    return earliest - now > (uint64_t)INT_MAX ? INT_MAX : (int)(earliest - now);
}

/* How many jobs are waiting for an answer from IMDS right now. */
static int awaiting_answers(const job *jobs)
{
    int count = 0;
    for (int i = 0; i < JOB_COUNT; i++) {
        count += !jobs[i].finished && jobs[i].pending == IMDS_ACTION_KIND_RECEIVE;
    }
    return count;
}

static void report(const job *j)
{
    char text[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    if (j->result != IMDS_RESULT_OK) {
        if (imds_client_last_error(j->client, (uint8_t *)text, sizeof text, &len) !=
            IMDS_RESULT_OK) {
            len = (size_t)snprintf(text, sizeof text, "%s", imds_result_str(j->result));
        }
        printf("%s: failed: %.*s\n", j->name, (int)len, text);
        return;
    }
    if (strcmp(j->name, "credentials") == 0) {
        imds_credentials credentials;
        if (imds_client_credentials(j->client, &credentials) == IMDS_RESULT_OK) {
            /* Never print the secret access key or the session token. */
            printf("credentials: %.*s expires %lld\n", (int)credentials.access_key_id.len,
                   credentials.access_key_id.data, (long long)credentials.expiration);
        }
        return;
    }
    imds_bytes body;
    if (imds_client_body(j->client, &body) == IMDS_RESULT_OK) {
        printf("%s: %.*s\n", j->name, (int)body.len, (const char *)body.data);
    }
}

int main(int argc, char **argv)
{
    trace = argc > 1 && strcmp(argv[1], "--trace") == 0;
    imds_config *config = NULL;
    imds_settings *settings = NULL;
    char text[IMDS_TEXT_CAPACITY];
    size_t len = 0;
    if (imds_config_new(&config) != IMDS_RESULT_OK) {
        return 1;
    }
    if (imds_config_load(config, &settings) != IMDS_RESULT_OK) {
        imds_config_last_error(config, (uint8_t *)text, sizeof text, &len);
        fprintf(stderr, "epoll_clients: %.*s\n", (int)len, text);
        imds_config_free(config);
        return 2;
    }
    imds_config_free(config);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
        perror("epoll_create1");
        imds_settings_free(settings);
        return 1;
    }

    job jobs[JOB_COUNT] = {
        {.name = "credentials", .fd = -1},
        {.name = "placement/region", .fd = -1},
        {.name = "instance-id", .fd = -1},
    };
    int running = 0;
    for (int i = 0; i < JOB_COUNT; i++) {
        job *j = &jobs[i];
        imds_result result = imds_client_new(settings, /* jitter seed */ (uint64_t)i + 1, &j->client);
        if (result == IMDS_RESULT_OK) {
            result = i == 0 ? imds_client_start_credentials(j->client, now_ms(), (int64_t)time(NULL))
                            : imds_client_start_get(j->client, now_ms(), j->name, strlen(j->name));
        }
        if (result != IMDS_RESULT_OK) {
            finish(j, result);
            continue;
        }
        advance(j);
        running++;
    }
    imds_settings_free(settings);

    /* The loop: readiness and deadlines of every client, until all operations ended. */
    int most_awaiting = awaiting_answers(jobs);
    while (running > 0) {
        struct epoll_event events[JOB_COUNT];
        int n = epoll_wait(epoll_fd, events, JOB_COUNT, next_timeout(jobs));
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            job *j = events[i].data.ptr;
            if (!j->finished) {
                on_ready(j);
            }
        }
        uint64_t now = now_ms();
        for (int i = 0; i < JOB_COUNT; i++) {
            if (!jobs[i].finished && jobs[i].pending != 0 && jobs[i].deadline_ms <= now) {
                on_deadline(&jobs[i]);
            }
        }
        int awaiting = awaiting_answers(jobs);
        most_awaiting = awaiting > most_awaiting ? awaiting : most_awaiting;
        running = 0;
        for (int i = 0; i < JOB_COUNT; i++) {
            running += !jobs[i].finished;
        }
    }

    int failed = 0;
    for (int i = 0; i < JOB_COUNT; i++) {
        drain_diagnostics(&jobs[i]);
        if (jobs[i].client != NULL) {
            report(&jobs[i]);
        }
        failed += jobs[i].result != IMDS_RESULT_OK || !jobs[i].finished;
        drop_connection(&jobs[i]);
        imds_client_free(jobs[i].client);
    }
    printf("most clients awaiting an answer at once: %d\n", most_awaiting);
    printf("kept connections the server closed during a back-off: %d\n", closed_during_back_off);
    close(epoll_fd);
    return failed == 0 ? 0 : 1;
}
