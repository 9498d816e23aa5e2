/*
 * driver.h: the reference driver for libimds, over non-blocking sockets and poll().
 *
 * It carries out the actions an imds_client asks for (connect, send, receive, close, wait) with
 * the deadlines the actions carry, and keeps the connection open across operations (keep-alive)
 * unless the server or the client closes it. Before each request it checks the connection without
 * blocking and reports what is already there (bytes no request asked for, or the end of a kept
 * connection the server closed while idle) instead of writing, as IMDS_ACTION_KIND_SEND asks;
 * the client decides what follows. Plain
 * http endpoints only: an https endpoint ends the operation with IMDS_RESULT_UNSUPPORTED. Time is
 * CLOCK_MONOTONIC in milliseconds, the clock imds_fetch_credentials() uses too.
 *
 * It is source to build with your program, not part of libimds: its names (drv, drv_*) are its
 * own, and libimds exports only imds_* names. Copy it into an event loop of your own (each case
 * of drv_run() is one readiness wait) and rename at will.
 */
#ifndef DRV_DRIVER_H
#define DRV_DRIVER_H

#include "imds.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A driver: one connection, reused across operations. Initialise with drv_init(). */
typedef struct drv {
    /* The open connection, or -1. */
    int fd;
    /* Called after every step with the client (e.g. to drain diagnostics); may be NULL. */
    void (*on_step)(void *context, imds_client *client);
    /* Passed to on_step. */
    void *context;
} drv;

/* A driver with no connection and no callback. */
void drv_init(drv *driver);

/* CLOCK_MONOTONIC in milliseconds: the now_ms of every call. */
uint64_t drv_now_ms(void);

/* Carries out the started operation on client until it ends: IMDS_RESULT_OK when poll says
 * DONE, else the failure (the message is in imds_client_last_error()). */
imds_result drv_run(drv *driver, imds_client *client);

/* Starts a credentials operation and runs it; on success stores views of the credentials in
 * *credentials_out (valid until the next non-const call on client). */
imds_result drv_fetch_credentials(drv *driver, imds_client *client,
                                          imds_credentials *credentials_out);

/* Starts reading a metadata path and runs it; on success stores a view of the body in
 * *body_out (valid until the next non-const call on client). */
imds_result drv_get(drv *driver, imds_client *client, const char *path,
                            size_t path_len, imds_bytes *body_out);

/* Closes the connection, if open, and tells client (which may be NULL) so. */
void drv_close(drv *driver, imds_client *client);

#ifdef __cplusplus
}
#endif

#endif /* DRV_DRIVER_H */
