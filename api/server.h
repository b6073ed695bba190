/* server.h - between rdns-api's connections (server.c) and its requests (http.c, offload.c).
 *
 * server.c accepts, frames requests with http1.c, enforces the connection limits and
 * deadlines, and writes answers; http.c routes a request and builds its answer. A handler
 * that must wait for something slow (a forward check) parks its request with
 * api_offload() (offload.h) and the connection's worker goes on with other connections;
 * the request is answered when its work is done. */
#ifndef RDNS_API_SERVER_H
#define RDNS_API_SERVER_H

#include "api/http.h"

/* Routes a complete request and answers it, or leaves it parked (r->parked). http.c. */
void api_handle(api_req_t *r);
/* A parked request's work is done: answers it (r->done) and finishes it. http.c; called on
 * the request's own worker thread by server.c. */
void api_handle_resumed(api_req_t *r);
/* Frees a request and everything it owns (not its connection). http.c. */
void api_req_free(api_req_t *r);

/* This worker thread's database handle, created on first use; NULL if it cannot be. */
db_t *api_thread_db(api_app_t *app);

/* The request of a parsed head (its field values are NUL-terminated in place) and its
 * body (taken, malloc'd or NULL), from client (an address's text). A request-target that
 * is not acceptable (not UTF-8) gives a request already answered (status set, 400).
 * NULL without memory. Used by the connections and by the HTTP fuzz target. */
api_req_t *api_req_new(api_app_t *app, h1_request_t *q, char *body, size_t body_len, const char *client);

/* From any thread: the work of a parked request is done; its worker answers it. */
void api_req_resume(api_req_t *r);

#endif
