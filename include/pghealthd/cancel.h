/*
 * cancel.h - a cancel request with a deadline, on a libuv loop.
 *
 * A cancel request is a connection of its own to the server (a TCP connect
 * and a round trip).  When the server's host is gone or the network is
 * silent, that connect waits for the kernel to give up (about two minutes):
 * nothing may wait for it that long.  A request here ends by its deadline
 * whatever the network does:
 *
 *  - with libpq 17 (LIBPQ_HAS_ASYNC_CANCEL) it is nonblocking on the loop
 *    (PQcancelStart/PQcancelPoll on a uv_poll) and closed at the deadline;
 *  - before that, PQcancel() blocks, so it runs on a detached thread of its
 *    own; at the deadline the loop stops waiting and the thread, whenever
 *    its connect returns, frees what it used and ends, touching nothing
 *    of the loop's.
 *
 * Ownership: pgh_cancel_start() returns a request that frees itself (its
 * handles close, then the memory goes) once it is over.  Its owner hears
 * how it went once, through done, unless it called pgh_cancel_detach()
 * first.  The loop stays alive until every request has ended: at most the
 * deadline after the last one started.
 */
#ifndef PGHEALTHD_CANCEL_H
#define PGHEALTHD_CANCEL_H

#include <libpq-fe.h>
#include <stdint.h>
#include <uv.h>

struct pgh_cancel;

/* err is NULL when the server took the request, else why it did not (a
 * connect error, "no answer ... within N ms").  Runs on the loop, never
 * synchronously from pgh_cancel_start(). */
typedef void (*pgh_cancel_done_cb)(void *arg, const char *err);

/*
 * Ask the server to cancel what pg is running; give up after deadline_ms.
 * id names the connection in log lines.  NULL when pg has no cancel key (a
 * proxy that sends none): then nothing runs, and dropping the connection is
 * what stops the query.
 */
struct pgh_cancel *pgh_cancel_start(uv_loop_t *loop, PGconn *pg, uint64_t deadline_ms, unsigned id,
                                    pgh_cancel_done_cb done, void *arg);

/* The owner goes away: done never runs; the request goes on to its end
 * (delivered, failed, or its deadline), logs how it went, and frees itself. */
void pgh_cancel_detach(struct pgh_cancel *k);

#endif
