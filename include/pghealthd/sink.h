/*
 * sink.h - the one durable-write helper: every file pghealthd publishes
 * (check CSVs, status.csv, the Prometheus textfile) goes through it.
 *
 * A sink collects in memory first.  A content that stays under
 * PGH_SINK_FLUSH_BYTES is written whole by one threadpool job at
 * pgh_sink_finish(); a bigger one goes to a hidden temp file ".<name>.tmp"
 * in the target directory with uv_fs, double-buffered with exactly one
 * write in flight.  Then, on pgh_sink_finish(publish = true): fsync (when
 * asked), close, hard-link into history/<history>/ (when asked), rename over
 * <name>, fsync the directory.
 * On any error, or on pgh_sink_finish(publish = false), the temp file is
 * removed.  A reader of the directory never sees a partial file.
 *
 * Spares (opts.spare, without history): a small content is written into
 * <dir>/.spare/<name>, the copy that <name> replaced last time, and swapped
 * with <name> in one rename (RENAME_EXCHANGE).  Rewriting an inode and its
 * block in place costs a filesystem far less than creating a file and
 * freeing the replaced one.  A spare is reused only while nobody has it
 * open (a write lease says so), so a reader that opened <name> keeps what
 * it opened; otherwise it gets a new file, as does a filesystem without
 * RENAME_EXCHANGE.
 *
 * Ownership: the caller embeds or allocates the struct and owns it; after
 * pgh_sink_init() it must call pgh_sink_finish() exactly once and must not
 * free the sink before the done callback ran.  The done callback is always
 * called asynchronously, and it is the last thing the sink does: the callback
 * may free the sink's memory (after pgh_sink_release()).
 */
#ifndef PGHEALTHD_SINK_H
#define PGHEALTHD_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "pghealthd/common.h"

#define PGH_SINK_FLUSH_BYTES (256 * 1024)

struct pgh_sink;

/* status: 0, or a negative errno; sink->errmsg then says what failed. */
typedef void (*pgh_sink_done_cb)(struct pgh_sink *sink, int status);
/* Called after a write completes and the sink is no longer full. */
typedef void (*pgh_sink_drain_cb)(struct pgh_sink *sink);

struct pgh_sink_opts {
	const char *dir;       /* target directory (must exist) */
	const char *name;      /* final file name inside dir */
	bool fsync;            /* fsync file and directory on publish */
	const char *history;   /* NULL, or a sub-directory of dir/history to keep copies in */
	const char *stamp;     /* the history copy's file name */
	unsigned history_keep; /* newest copies kept in dir/history/<history> */
	bool spare;            /* keep the replaced copy in dir/.spare to reuse */
	bool in_memory;        /* produced all at once: never streamed, one job writes it */
};

#define PGH_SINK_SPARE_DIR ".spare"
/* A replaced copy bigger than this is removed, not kept as a spare. */
#define PGH_SINK_SPARE_MAX (64 * 1024)

enum pgh_sink_state {
	PGH_SINK_NEW,     /* in memory only: no file until the buffer fills or finish */
	PGH_SINK_OPENING, /* uv_fs_open in flight; data accumulates */
	PGH_SINK_OPEN,    /* writing; at most one write in flight */
	PGH_SINK_CLOSING, /* publish or discard job on the threadpool */
	PGH_SINK_DONE,
};

const char *pgh_sink_state_str(enum pgh_sink_state st);

struct pgh_sink {
	uv_loop_t *loop;
	enum pgh_sink_state state; /* written by sink_set_state() only */
	char *path;                /* dir/name */
	char *tmp_path;            /* dir/.name.tmp */
	char *dir;
	char *tmp_name;     /* .name.tmp */
	char *spare_dir;    /* dir/.spare, or NULL: no spare is kept */
	char *history_dir;  /* dir/history/<history>, or NULL (for messages) */
	char *history_name; /* <history>: the check's directory under history/ */
	char *stamp_name;   /* the history copy's file name */
	unsigned history_keep;
	bool fsync;
	bool finishing; /* pgh_sink_finish() was called */
	bool publish;   /* when finishing: rename (true) or discard */
	bool whole;     /* finished while NEW: the closing job writes it all */
	bool in_memory; /* stays NEW whatever its size (opts.in_memory) */
	uv_file fd;     /* -1 until opened, and again after close */
	int error;      /* first error, sticky (negative errno) */
	char *errmsg;   /* what failed, with the path; NULL when error == 0 */

	char *fill; /* buffer being filled by the producer */
	size_t fill_len, fill_cap;
	char *flight; /* buffer being written by uv_fs_write */
	size_t flight_len, flight_cap;
	size_t flight_done; /* bytes of flight already written (short writes) */
	bool writing;       /* write_req in flight */
	int64_t offset;     /* file offset of the next write */

	uv_fs_t open_req;
	uv_fs_t write_req;
	uv_work_t work;

	pgh_sink_drain_cb drain_cb;
	pgh_sink_done_cb done_cb;
	void *data; /* the owner's */
};

/* Set up and start opening the temp file; never fails synchronously. */
void pgh_sink_init(struct pgh_sink *s, uv_loop_t *loop, const struct pgh_sink_opts *opts);

/* A pointer to at least n writable bytes at the end of the fill buffer. */
char *pgh_sink_reserve(struct pgh_sink *s, size_t n);

/* Account for n bytes written at pgh_sink_reserve()'s pointer. */
void pgh_sink_commit(struct pgh_sink *s, size_t n);

/* Append bytes (reserve + copy + commit). */
void pgh_sink_append(struct pgh_sink *s, const void *p, size_t n);

/* Append formatted text, of any length. */
void pgh_sink_printf(struct pgh_sink *s, const char *fmt, ...) PGH_PRINTF(2, 3);

/* True while the producer should pause: both buffers are full. */
static inline bool pgh_sink_full(const struct pgh_sink *s)
{
	return s->fill_len >= PGH_SINK_FLUSH_BYTES && (s->writing || s->state == PGH_SINK_OPENING);
}

/* Flush and publish (publish = true) or discard; done_cb runs once, later. */
void pgh_sink_finish(struct pgh_sink *s, bool publish, pgh_sink_done_cb done_cb);

/* Free what the sink allocated (not the struct); call after done_cb. */
void pgh_sink_release(struct pgh_sink *s);

/* Remove dir/name and its spare if they exist (a check that now has no findings). */
void pgh_sink_unlink(uv_loop_t *loop, const char *dir, const char *name);

/* The same, synchronous, at start: 0 when dir/name was there, or -errno. */
int pgh_sink_remove(const char *dir, const char *name);

/*
 * Remove stale ".*.tmp" files left in dir by a crash, and the spares of
 * files that are gone; synchronous, at start.
 */
int pgh_sink_remove_stale(const char *dir) PGH_MUSTCHECK;

#endif
