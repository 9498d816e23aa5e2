/*
 * driver.c: the reference driver for libimds (see driver.h).
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include "driver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Upper bound on actions for one operation; the client's attempts end it long before. */
#define MAX_ACTIONS 100000
/* Bytes read at a time. */
#define READ_CHUNK 4096

uint64_t drv_now_ms(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) {
        return 0;
    }
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

void drv_init(drv *driver)
{
    driver->fd = -1;
    driver->on_step = NULL;
    driver->context = NULL;
}

static void drop_connection(drv *driver)
{
    if (driver->fd >= 0) {
        close(driver->fd);
        driver->fd = -1;
    }
}

void drv_close(drv *driver, imds_client *client)
{
    drop_connection(driver);
    if (client != NULL) {
        (void)imds_client_handle_closed(client);
    }
}

/* Milliseconds left until deadline_ms, capped for poll(). */
static int time_left(uint64_t deadline_ms)
{
    uint64_t now = drv_now_ms();
    if (deadline_ms <= now) {
        return 0;
    }
    uint64_t left = deadline_ms - now;
    return left > (uint64_t)INT_MAX ? INT_MAX : (int)left;
}

/* Waits until fd is ready for events: 1 ready, 0 deadline passed, -1 error. */
static int wait_ready(int fd, short events, uint64_t deadline_ms)
{
    for (;;) {
        struct pollfd pfd;
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        int left = time_left(deadline_ms);
        int n = poll(&pfd, 1, left);
        if (n > 0) {
            return 1;
        }
        if (n == 0) {
            if (time_left(deadline_ms) == 0) {
                return 0;
            }
            continue;
        }
        if (errno != EINTR) {
            return -1;
        }
    }
}

/* Fills addr from an IP literal (no allocation), else from the resolver. */
static int resolve(const imds_str *host, uint16_t port, struct sockaddr_storage *addr,
                   socklen_t *addr_len)
{
    char name[256];
    if (host->len == 0 || host->len >= sizeof name) {
        return -1;
    }
    memcpy(name, host->data, host->len);
    name[host->len] = '\0';
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, name, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *addr_len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, name, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *addr_len = sizeof *v6;
        return 0;
    }
    struct addrinfo hints;
    struct addrinfo *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, NULL, &hints, &found) != 0 || found == NULL) {
        return -1;
    }
    memcpy(addr, found->ai_addr, found->ai_addrlen);
    *addr_len = found->ai_addrlen;
    freeaddrinfo(found);
    if (addr->ss_family == AF_INET) {
        v4->sin_port = htons(port);
    } else {
        v6->sin6_port = htons(port);
    }
    return 0;
}

static imds_io_error classify(int error)
{
    return error == ECONNRESET || error == EPIPE || error == ECONNABORTED
               ? IMDS_IO_ERROR_CONNECTION_RESET
               : IMDS_IO_ERROR_OTHER;
}

/* A connect's error: refused, a reset that came as the connect completed (IMDS accepted, then
 * dropped the connection), or another failure (unreachable, ...). */
static imds_io_error classify_connect(int error)
{
    if (error == ECONNREFUSED) {
        return IMDS_IO_ERROR_CONNECTION_REFUSED;
    }
    return classify(error) == IMDS_IO_ERROR_CONNECTION_RESET ? IMDS_IO_ERROR_CONNECTION_RESET
                                                             : IMDS_IO_ERROR_CONNECT_FAILED;
}

static imds_result do_connect(drv *driver, imds_client *client, const imds_action *action)
{
    drop_connection(driver);
    if (action->tls) {
        return imds_client_handle_unsupported(client);
    }
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    if (resolve(&action->host, action->port, &addr, &addr_len) != 0) {
        return imds_client_handle_io_error(client, drv_now_ms(),
                                           IMDS_IO_ERROR_CONNECT_FAILED);
    }
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return imds_client_handle_io_error(client, drv_now_ms(),
                                           IMDS_IO_ERROR_CONNECT_FAILED);
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int error = 0;
    if (connect(fd, (struct sockaddr *)&addr, addr_len) != 0) {
        error = errno;
        if (error == EINPROGRESS || error == EINTR) {
            int ready = wait_ready(fd, POLLOUT, action->deadline_ms);
            if (ready == 0) {
                close(fd);
                return imds_client_handle_timeout(client, drv_now_ms());
            }
            socklen_t len = sizeof error;
            if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) {
                error = ready < 0 ? errno : EIO;
            }
        }
    }
    if (error != 0) {
        close(fd);
        return imds_client_handle_io_error(client, drv_now_ms(), classify_connect(error));
    }
    driver->fd = fd;
    return imds_client_handle_connected(client, drv_now_ms());
}

/* What is already on the connection before a request is written, read without blocking: 1 when
 * something was (bytes, the end of the stream, an error) and has been reported to the client in
 * *result, 0 when nothing is there. */
static int report_already_there(drv *driver, imds_client *client, imds_result *result)
{
    uint8_t buf[READ_CHUNK];
    for (;;) {
        ssize_t n = recv(driver->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            *result = imds_client_handle_data(client, drv_now_ms(), buf, (size_t)n);
            /* Whatever came may hold a token: wiped as a receive's bytes are. */
            explicit_bzero(buf, (size_t)n);
            return 1;
        }
        if (n == 0) {
            *result = imds_client_handle_eof(client, drv_now_ms());
            return 1;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        *result = imds_client_handle_io_error(client, drv_now_ms(), classify(errno));
        return 1;
    }
}

static imds_result do_send(drv *driver, imds_client *client, const imds_action *action)
{
    if (driver->fd < 0) {
        return imds_client_handle_io_error(client, drv_now_ms(),
                                           IMDS_IO_ERROR_CONNECTION_RESET);
    }
    /* Bytes no request asked for, or a kept connection the server closed: the client judges. */
    imds_result found = IMDS_RESULT_OK;
    if (report_already_there(driver, client, &found)) {
        return found;
    }
    size_t sent = 0;
    while (sent < action->data.len) {
        ssize_t n = send(driver->fd, action->data.data + sent, action->data.len - sent,
                         MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int ready = wait_ready(driver->fd, POLLOUT, action->deadline_ms);
            if (ready > 0) {
                continue;
            }
            if (ready == 0) {
                return imds_client_handle_timeout(client, drv_now_ms());
            }
        }
        return imds_client_handle_io_error(client, drv_now_ms(), classify(errno));
    }
    return IMDS_RESULT_OK;
}

static imds_result do_receive(drv *driver, imds_client *client, const imds_action *action)
{
    if (driver->fd < 0) {
        return imds_client_handle_io_error(client, drv_now_ms(),
                                           IMDS_IO_ERROR_CONNECTION_RESET);
    }
    uint8_t buf[READ_CHUNK];
    for (;;) {
        int ready = wait_ready(driver->fd, POLLIN, action->deadline_ms);
        if (ready == 0) {
            return imds_client_handle_timeout(client, drv_now_ms());
        }
        if (ready < 0) {
            return imds_client_handle_io_error(client, drv_now_ms(), classify(errno));
        }
        ssize_t n = recv(driver->fd, buf, sizeof buf, 0);
        if (n > 0) {
            imds_result result = imds_client_handle_data(client, drv_now_ms(), buf, (size_t)n);
            /* The bytes may hold the token or credentials: the client keeps its own copy. */
            explicit_bzero(buf, (size_t)n);
            return result;
        }
        if (n == 0) {
            return imds_client_handle_eof(client, drv_now_ms());
        }
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
            continue;
        }
        return imds_client_handle_io_error(client, drv_now_ms(), classify(errno));
    }
}

static void do_wait(uint64_t until_ms)
{
    int left;
    while ((left = time_left(until_ms)) > 0) {
        (void)poll(NULL, 0, left);
    }
}

imds_result drv_run(drv *driver, imds_client *client)
{
    imds_result result = IMDS_RESULT_INVALID_STATE;
    for (int step = 0; step < MAX_ACTIONS; step++) {
        if (driver->on_step != NULL) {
            driver->on_step(driver->context, client);
        }
        imds_action action;
        result = imds_client_poll(client, drv_now_ms(), &action);
        if (result != IMDS_RESULT_OK) {
            break;
        }
        switch (action.kind) {
        case IMDS_ACTION_KIND_DONE:
            if (driver->on_step != NULL) {
                driver->on_step(driver->context, client);
            }
            return IMDS_RESULT_OK;
        case IMDS_ACTION_KIND_CONNECT:
            result = do_connect(driver, client, &action);
            break;
        case IMDS_ACTION_KIND_SEND:
            result = do_send(driver, client, &action);
            break;
        case IMDS_ACTION_KIND_RECEIVE:
            /* The request's trace line, queued by this poll, goes out before the answer is
             * awaited (a RECEIVE holds no view into the client). */
            if (driver->on_step != NULL) {
                driver->on_step(driver->context, client);
            }
            result = do_receive(driver, client, &action);
            break;
        case IMDS_ACTION_KIND_CLOSE:
            drop_connection(driver);
            result = IMDS_RESULT_OK;
            break;
        case IMDS_ACTION_KIND_WAIT:
            do_wait(action.deadline_ms);
            result = IMDS_RESULT_OK;
            break;
        default:
            result = imds_client_handle_unsupported(client);
            break;
        }
        if (result != IMDS_RESULT_OK) {
            break;
        }
    }
    if (result == IMDS_RESULT_OK) {
        /* The action bound ran out (a bug in the client, never seen). */
        (void)imds_client_cancel(client);
        result = IMDS_RESULT_INVALID_STATE;
    }
    /* After an error the client forgets the connection; so does the driver. */
    drop_connection(driver);
    if (driver->on_step != NULL) {
        driver->on_step(driver->context, client);
    }
    return result;
}

imds_result drv_fetch_credentials(drv *driver, imds_client *client,
                                          imds_credentials *credentials_out)
{
    imds_result result = imds_client_start_credentials(client, drv_now_ms(),
                                                       (int64_t)time(NULL));
    if (result == IMDS_RESULT_OK) {
        result = drv_run(driver, client);
    }
    if (result == IMDS_RESULT_OK) {
        result = imds_client_credentials(client, credentials_out);
    }
    return result;
}

imds_result drv_get(drv *driver, imds_client *client, const char *path,
                            size_t path_len, imds_bytes *body_out)
{
    imds_result result = imds_client_start_get(client, drv_now_ms(), path, path_len);
    if (result == IMDS_RESULT_OK) {
        result = drv_run(driver, client);
    }
    if (result == IMDS_RESULT_OK) {
        result = imds_client_body(client, body_out);
    }
    return result;
}
