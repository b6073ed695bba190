/* tls.h - rdns-api's HTTPS: GnuTLS credentials (reloadable, refcounted) and one
 * non-blocking TLS session per connection, used by server.c in its read/write path.
 *
 * The credentials hold the certificate chain and key of api_tls_cert / api_tls_key and
 * the priority cache of api_tls_priority. A connection takes a reference for its whole
 * life; a reload (SIGHUP) makes new credentials for the connections that come after, and
 * the old ones are freed when the last connection that uses them closes. */
#ifndef RDNS_API_TLS_H
#define RDNS_API_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/conf.h"

typedef struct api_tls_creds api_tls_creds_t;
typedef struct api_tls api_tls_t;

/* api_tls_cert and api_tls_key are set (conf_load makes sure both are or neither). */
bool api_tls_configured(const rdns_conf_t *conf);

/* Loads the certificate chain, the key and the priority string with GnuTLS; NULL with a
 * message naming the option, the file and GnuTLS's reason (unreadable, not PEM, the key
 * does not match the certificate, a bad priority string). The reference is the caller's. */
api_tls_creds_t *api_tls_creds_load(const rdns_conf_t *conf, char *msg, size_t len);
/* "subject ..., expires ..." of the loaded leaf certificate. */
const char *api_tls_creds_describe(const api_tls_creds_t *cr);
void api_tls_creds_ref(api_tls_creds_t *cr);
void api_tls_creds_unref(api_tls_creds_t *cr);

/* For --check-config and the start: RDNS_OK when TLS is off or its files load. */
int api_tls_conf_check(const rdns_conf_t *conf, char *msg, size_t len);

/* A server session on the non-blocking socket fd with credentials cr (one reference
 * taken); NULL without memory. */
api_tls_t *api_tls_new(api_tls_creds_t *cr, int fd);
void api_tls_free(api_tls_t *t);
/* Bytes read from the socket before TLS began (after a PROXY header): GnuTLS reads them
 * first. false without memory. */
bool api_tls_prebuffer(api_tls_t *t, const char *data, size_t len);
bool api_tls_ready(const api_tls_t *t); /* the handshake is done */

enum { API_TLS_DONE = 0, API_TLS_AGAIN = 1, API_TLS_FAILED = -1 };
/* One step of the handshake: DONE, AGAIN (wait for the direction api_tls_want_write
 * says) or FAILED (*why: GnuTLS's reason). */
int api_tls_handshake(api_tls_t *t, const char **why);
/* As recv(2) and send(2): > 0 bytes, 0 the peer closed (recv), -1 with errno EAGAIN
 * (wait for the direction api_tls_want_write says) or another errno (close). A send
 * that gave EAGAIN must be repeated with the same bytes (server.c's output buffer does
 * not move while an answer is written). */
ssize_t api_tls_recv(api_tls_t *t, char *buf, size_t len);
ssize_t api_tls_send(api_tls_t *t, const char *buf, size_t len);
/* Sends a small constant message out of the answer stream (100 Continue), best effort:
 * if it cannot go at once, the next api_tls_send finishes it first. */
void api_tls_send_aside(api_tls_t *t, const char *buf, size_t len);
/* The last EAGAIN waits for the socket to be writable (else readable). */
bool api_tls_want_write(const api_tls_t *t);
/* Decrypted bytes are waiting in GnuTLS (epoll does not see them). */
bool api_tls_pending(const api_tls_t *t);
/* close_notify, best effort, without waiting for the peer's. */
void api_tls_bye(api_tls_t *t);
/* GnuTLS's text of the last error of a session. */
const char *api_tls_last_error(const api_tls_t *t);

#endif
