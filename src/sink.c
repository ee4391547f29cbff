/*
 * sink.c - the durable-write helper (see sink.h).
 *
 * Owns: the two buffers, the temp file's descriptor, and its name until the
 * temp file is renamed or removed.  Writes are issued with an explicit
 * offset and never more than one at a time, so data lands in order.  The
 * final steps (fsync, close, link, rename, directory fsync, history pruning)
 * are a handful of blocking syscalls that run as one job on the libuv
 * threadpool, so the loop never blocks on the disk.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pghealthd/log.h"
#include "pghealthd/sink.h"

/* The first buffer; it grows to PGH_SINK_FLUSH_BYTES and more as needed. */
#define SMALL_BUFFER (4 * 1024)
#define BIG_BUFFER   (PGH_SINK_FLUSH_BYTES + 64 * 1024)
#define OPEN_FLAGS   (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

static void sink_open_cb(uv_fs_t *req);
static void sink_write_cb(uv_fs_t *req);

static void sink_fail(struct pgh_sink *s, int err, const char *what, const char *path)
{
	if (s->error != 0)
		return;
	s->error = err;
	s->errmsg = pgh_xasprintf("%s %s: %s", what, path, strerror(-err));
}

static const char *const sink_state_names[] = {
    [PGH_SINK_NEW] = "new",         [PGH_SINK_OPENING] = "opening", [PGH_SINK_OPEN] = "open",
    [PGH_SINK_CLOSING] = "closing", [PGH_SINK_DONE] = "done",
};

const char *pgh_sink_state_str(enum pgh_sink_state st)
{
	return pgh_enum_name(sink_state_names, PGH_ARRAY_LEN(sink_state_names), (unsigned)st);
}

/* The one writer of s->state. */
static void sink_set_state(struct pgh_sink *s, enum pgh_sink_state st)
{
	pgh_debug("file %s: %s -> %s", s->path, pgh_sink_state_str(s->state),
	          pgh_sink_state_str(st));
	s->state = st;
}

void pgh_sink_init(struct pgh_sink *s, uv_loop_t *loop, const struct pgh_sink_opts *o)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->fd = -1;
	s->fsync = o->fsync;
	s->in_memory = o->in_memory;
	s->dir = pgh_xstrdup(o->dir);
	s->path = pgh_xasprintf("%s/%s", o->dir, o->name);
	s->tmp_path = pgh_xasprintf("%s/.%s.tmp", o->dir, o->name);
	s->tmp_name = pgh_xasprintf(".%s.tmp", o->name);
	if (o->history != NULL && o->history_keep > 0) {
		s->history_dir = pgh_xasprintf("%s/history/%s", o->dir, o->history);
		s->history_name = pgh_xstrdup(o->history);
		s->stamp_name = pgh_xstrdup(o->stamp);
		s->history_keep = o->history_keep;
	} else if (o->spare) {
		s->spare_dir = pgh_xasprintf("%s/" PGH_SINK_SPARE_DIR, o->dir);
	}
	/* Small first: most results are a few rows.  No file yet either: a
	 * result that fits in memory is written, and published, by one job
	 * on the threadpool at pgh_sink_finish(). */
	s->fill_cap = SMALL_BUFFER;
	s->fill = pgh_xmalloc(s->fill_cap);
	s->state = PGH_SINK_NEW;
	pgh_debug("file %s: buffering", s->path);
}

/* The result outgrew memory: open the temp file and stream from now on. */
static void sink_open_start(struct pgh_sink *s)
{
	int r;

	sink_set_state(s, PGH_SINK_OPENING);
	s->open_req.data = s;
	/* O_EXCL|O_NOFOLLOW: never write through a planted file or symlink. */
	r = uv_fs_open(s->loop, &s->open_req, s->tmp_path, OPEN_FLAGS, 0640, sink_open_cb);
	if (r < 0) {
		/* The callback will not run: treat it as a failed open. */
		s->open_req.result = r;
		uv_fs_req_cleanup(&s->open_req);
		sink_fail(s, r, "open", s->tmp_path);
		sink_set_state(s, PGH_SINK_OPEN);
	}
}

/* Write the rest of the flight buffer at its offset; one write in flight. */
static void sink_write_flight(struct pgh_sink *s)
{
	uv_buf_t buf =
	    uv_buf_init(s->flight + s->flight_done, (unsigned)(s->flight_len - s->flight_done));
	int r;

	s->write_req.data = s;
	r = uv_fs_write(s->loop, &s->write_req, s->fd, &buf, 1, s->offset + (int64_t)s->flight_done,
	                sink_write_cb);
	if (r < 0) {
		uv_fs_req_cleanup(&s->write_req);
		sink_fail(s, r, "write", s->tmp_path);
		s->flight_len = s->flight_done = 0;
		return;
	}
	s->writing = true;
}

/* Swap buffers and write what was filled, at the current offset. */
static void sink_write_start(struct pgh_sink *s)
{
	char *tmp = s->flight;
	size_t cap = s->flight_cap;

	s->flight = s->fill;
	s->flight_cap = s->fill_cap;
	s->flight_len = s->fill_len;
	s->flight_done = 0;
	s->fill = tmp != NULL ? tmp : pgh_xmalloc(BIG_BUFFER);
	s->fill_cap = tmp != NULL ? cap : BIG_BUFFER;
	s->fill_len = 0;
	sink_write_flight(s);
}

static void sink_close_start(struct pgh_sink *s);

/*
 * Decide what to do next when no write is in flight: write the next full
 * buffer, or, once finishing, write the rest and then close.
 */
static void sink_pump(struct pgh_sink *s)
{
	if (s->state == PGH_SINK_NEW) {
		if (s->finishing) {
			/* Everything in memory: one job.  Until it runs (the pool
			 * may be busy), the buffer holds no more than the file. */
			if (s->fill_cap > s->fill_len + 64) {
				s->fill_cap = s->fill_len + 64;
				s->fill = pgh_xrealloc(s->fill, s->fill_cap);
			}
			sink_close_start(s);
		} else if (s->fill_len >= PGH_SINK_FLUSH_BYTES && !s->in_memory)
			sink_open_start(s);
		return;
	}
	if (s->writing || s->state != PGH_SINK_OPEN)
		return;
	if (s->error != 0)
		s->fill_len = 0;
	if (s->fill_len >= PGH_SINK_FLUSH_BYTES || (s->finishing && s->fill_len > 0)) {
		sink_write_start(s);
		if (s->writing)
			return;
	}
	if (s->finishing)
		sink_close_start(s);
}

/* After a write or the open completes: move on, and wake a paused producer. */
static void sink_progress(struct pgh_sink *s)
{
	sink_pump(s);
	if (s->state == PGH_SINK_OPEN && !s->finishing && s->drain_cb != NULL && !pgh_sink_full(s))
		s->drain_cb(s);
}

static void sink_open_cb(uv_fs_t *req)
{
	struct pgh_sink *s = req->data;
	ssize_t r = req->result;

	uv_fs_req_cleanup(req);
	if (r < 0)
		sink_fail(s, (int)r, "open", s->tmp_path);
	else
		s->fd = (uv_file)r;
	sink_set_state(s, PGH_SINK_OPEN);
	sink_progress(s);
}

static void sink_write_cb(uv_fs_t *req)
{
	struct pgh_sink *s = req->data;
	ssize_t r = req->result;

	uv_fs_req_cleanup(req);
	s->writing = false;
	if (r > 0 && s->flight_done + (size_t)r < s->flight_len) {
		/* libuv returns the partial count and drops the errno (ENOSPC,
		 * EFBIG): writing the rest reports the real error. */
		s->flight_done += (size_t)r;
		sink_write_flight(s);
		if (s->writing)
			return;
	} else if (r < 0) {
		sink_fail(s, (int)r, "write", s->tmp_path);
	} else if (r == 0 && s->flight_len > s->flight_done) {
		sink_fail(s, -EIO, "write (no progress) to", s->tmp_path);
	}
	s->offset += (int64_t)s->flight_len;
	s->flight_len = s->flight_done = 0;
	sink_progress(s);
}

char *pgh_sink_reserve(struct pgh_sink *s, size_t n)
{
	size_t cap;

	if (s->fill_cap - s->fill_len < n) {
		/* Doubling up to a full buffer, then exactly what a value needs;
		 * a content kept in memory doubles all the way. */
		cap = s->fill_cap < BIG_BUFFER || s->in_memory ? 2 * s->fill_cap : s->fill_cap;
		if (cap > BIG_BUFFER && !s->in_memory)
			cap = BIG_BUFFER;
		if (cap < s->fill_len + n)
			cap = s->fill_len + n + PGH_SINK_FLUSH_BYTES;
		s->fill_cap = cap;
		s->fill = pgh_xrealloc(s->fill, s->fill_cap);
	}
	return s->fill + s->fill_len;
}

void pgh_sink_commit(struct pgh_sink *s, size_t n)
{
	s->fill_len += n;
	if (s->fill_len >= PGH_SINK_FLUSH_BYTES)
		sink_pump(s);
}

void pgh_sink_append(struct pgh_sink *s, const void *p, size_t n)
{
	memcpy(pgh_sink_reserve(s, n), p, n);
	pgh_sink_commit(s, n);
}

void pgh_sink_printf(struct pgh_sink *s, const char *fmt, ...)
{
	va_list ap, again;
	int n;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n > 0) {
		vsnprintf(pgh_sink_reserve(s, (size_t)n + 1), (size_t)n + 1, fmt, again);
		pgh_sink_commit(s, (size_t)n);
	}
	va_end(again);
	va_end(ap);
}

void pgh_sink_finish(struct pgh_sink *s, bool publish, pgh_sink_done_cb done_cb)
{
	if (s->finishing)
		pgh_bug("pgh_sink_finish called twice on %s", s->path);
	s->finishing = true;
	s->publish = publish;
	s->done_cb = done_cb;
	s->drain_cb = NULL;
	if (!publish)
		s->fill_len = 0;
	sink_pump(s); /* when OPENING, sink_open_cb pumps */
}

/*
 * Open (creating it, 0750, if needed) the directory `name` inside the one
 * dirfd refers to, never through a symlink: a link planted at history/ or
 * history/<check> must not send copies, or the pruning, elsewhere.
 */
static int open_subdir(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0750) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * Keep the newest `keep` copies in the history directory hfd refers to.
 * Names are UTC stamps, so name order is time order.  Runs on the
 * threadpool.
 */
static void prune_history(int hfd, unsigned keep)
{
	int fd = dup(hfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || e->d_type == DT_DIR)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = pgh_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = pgh_xstrdup(e->d_name);
	}
	if (n > keep) {
		qsort(names, n, sizeof(*names), pgh_str_cmp_cb);
		for (size_t i = 0; i < n - keep; i++)
			(void)unlinkat(hfd, names[i], 0);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Hard-link the finished temp file into history/<check>/, then prune. */
static void publish_history(struct pgh_sink *s)
{
	int dfd, top = -1, hfd = -1;

	dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		sink_fail(s, -errno, "open", s->dir);
		return;
	}
	top = open_subdir(dfd, "history");
	hfd = top >= 0 ? open_subdir(top, s->history_name) : top;
	if (hfd < 0) {
		sink_fail(s, hfd, "open (no symlinks) history directory", s->history_dir);
		goto out;
	}
	if (linkat(dfd, s->tmp_name, hfd, s->stamp_name, 0) < 0) {
		/* Two runs in one second: the newer one wins. */
		if (errno != EEXIST || unlinkat(hfd, s->stamp_name, 0) < 0 ||
		    linkat(dfd, s->tmp_name, hfd, s->stamp_name, 0) < 0) {
			sink_fail(s, -errno, "link into", s->history_dir);
			goto out;
		}
	}
	if (s->fsync && fsync(hfd) < 0)
		sink_fail(s, -errno, "fsync", s->history_dir);
	else
		prune_history(hfd, s->history_keep);
out:
	if (hfd >= 0)
		close(hfd);
	if (top >= 0)
		close(top);
	close(dfd);
}

/* Write all of p at offset 0; 0 or a negative errno. */
static int write_all(int fd, const char *p, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, p + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* On the threadpool: a result that never left memory, written in full. */
static void sink_write_whole(struct pgh_sink *s)
{
	int r;

	s->fd = open(s->tmp_path, OPEN_FLAGS, 0640);
	if (s->fd < 0) {
		sink_fail(s, -errno, "open", s->tmp_path);
		return;
	}
	if ((r = write_all(s->fd, s->fill, s->fill_len)) < 0) {
		sink_fail(s, r, "write", s->tmp_path);
		return;
	}
	s->fill_len = 0;
}

/*
 * Open the spare in the directory sfd refers to for rewriting in place, or
 * create it.  It is reused only when it is a plain file of ours with no
 * other link (a history copy) and nobody else has it open: the kernel
 * grants a write lease only then.  Should a reader open it while the lease
 * is held, the kernel signals SIGURG (ignored) instead of SIGIO (fatal).
 * Otherwise the name gets a new inode, and the old one stays with whoever
 * holds it.
 */
static int spare_open(int sfd, const char *name, bool *fresh)
{
	struct stat st;
	int fd = openat(sfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	int err = errno;

	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
		    st.st_size <= PGH_SINK_SPARE_MAX && fcntl(fd, F_SETSIG, SIGURG) == 0 &&
		    fcntl(fd, F_SETLEASE, F_WRLCK) == 0) {
			*fresh = false;
			return fd;
		}
		close(fd);
	}
	if (fd >= 0 || err != ENOENT)
		(void)unlinkat(sfd, name, 0);
	*fresh = true;
	return openat(sfd, name, OPEN_FLAGS, 0640);
}

/*
 * On the threadpool: publish a result that never left memory through the
 * spare (see sink.h).  False when nothing was published, and the usual
 * temp file takes over (and reports what fails there too).
 */
static bool sink_publish_spare(struct pgh_sink *s)
{
	const char *name = s->path + strlen(s->dir) + 1; /* the spare's name too */
	struct stat st;
	bool fresh, done = false;
	int sfd, fd, r;

	sfd = open(s->spare_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 && errno == ENOENT && mkdir(s->spare_dir, 0750) == 0)
		sfd = open(s->spare_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return false;
	fd = spare_open(sfd, name, &fresh);
	if (fd < 0)
		goto out;
	r = write_all(fd, s->fill, s->fill_len);
	if (r == 0 && !fresh && ftruncate(fd, (off_t)s->fill_len) < 0)
		r = -errno;
	if (r == 0 && s->fsync && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && errno != EINTR)
		r = -errno;
	if (r < 0) {
		/* Half a copy is no spare, and a full disk wants its blocks. */
		(void)unlinkat(sfd, name, 0);
		goto out;
	}
	if (renameat2(sfd, name, AT_FDCWD, s->path, RENAME_EXCHANGE) == 0) {
		/* The spare is now the copy just replaced: kept if reusable. */
		done = true;
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (!S_ISREG(st.st_mode) || st.st_nlink > 1 || st.st_size > PGH_SINK_SPARE_MAX))
			(void)unlinkat(sfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
	} else if (errno == ENOENT || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
		/* Nothing to swap with yet, or no swapping here. */
		done = renameat(sfd, name, AT_FDCWD, s->path) == 0;
	}
	if (done) {
		s->fill_len = 0;
		if (s->fsync && (r = fsync_dir(s->dir)) < 0)
			sink_fail(s, r, "fsync", s->dir);
	}
out:
	close(sfd);
	return done;
}

/*
 * The blocking tail of a sink, on the threadpool: make the bytes durable,
 * close, then either publish (link into history, rename, fsync the
 * directory) or remove the temp file.  Only this thread touches the sink
 * until sink_close_done_cb() runs on the loop.
 */
static void sink_close_work_cb(uv_work_t *w)
{
	struct pgh_sink *s = w->data;
	bool publish;
	int r;

	if (s->whole && s->publish) {
		if (s->spare_dir != NULL && sink_publish_spare(s))
			return;
		sink_write_whole(s);
	}
	publish = s->publish && s->error == 0 && s->fd >= 0;
	if (s->fd >= 0) {
		if (publish && s->fsync && fsync(s->fd) < 0)
			sink_fail(s, -errno, "fsync", s->tmp_path);
		if (close(s->fd) < 0 && errno != EINTR)
			sink_fail(s, -errno, "close", s->tmp_path);
		s->fd = -1;
		publish = publish && s->error == 0;
	}
	if (publish && s->history_dir != NULL) {
		publish_history(s);
		publish = s->error == 0;
	}
	if (publish && rename(s->tmp_path, s->path) < 0) {
		sink_fail(s, -errno, "rename to", s->path);
		publish = false;
	}
	if (publish && s->fsync && (r = fsync_dir(s->dir)) < 0)
		sink_fail(s, r, "fsync", s->dir);
	if (!publish && !(s->whole && !s->publish))
		(void)unlink(s->tmp_path);
}

static void sink_close_done_cb(uv_work_t *w, int status)
{
	struct pgh_sink *s = w->data;

	(void)status; /* uv_queue_work jobs are never cancelled here */
	sink_set_state(s, PGH_SINK_DONE);
	s->done_cb(s, s->error);
}

static void sink_close_start(struct pgh_sink *s)
{
	int r;

	s->whole = s->state == PGH_SINK_NEW;
	sink_set_state(s, PGH_SINK_CLOSING);
	s->work.data = s;
	r = uv_queue_work(s->loop, &s->work, sink_close_work_cb, sink_close_done_cb);
	if (r < 0)
		pgh_bug("uv_queue_work: %s", uv_strerror(r));
}

void pgh_sink_release(struct pgh_sink *s)
{
	free(s->fill);
	free(s->flight);
	free(s->path);
	free(s->tmp_path);
	free(s->dir);
	free(s->history_dir);
	free(s->history_name);
	free(s->stamp_name);
	free(s->tmp_name);
	free(s->spare_dir);
	free(s->errmsg);
	s->fill = s->flight = s->path = s->tmp_path = s->dir = NULL;
	s->history_dir = s->history_name = s->stamp_name = s->tmp_name = s->errmsg = NULL;
	s->spare_dir = NULL;
}

static void unlink_cb(uv_fs_t *req)
{
	uv_fs_req_cleanup(req);
	free(req);
}

static void unlink_start(uv_loop_t *loop, char *path)
{
	uv_fs_t *req = pgh_xmalloc(sizeof(*req));

	if (uv_fs_unlink(loop, req, path, unlink_cb) < 0) {
		uv_fs_req_cleanup(req);
		free(req);
	}
	free(path);
}

void pgh_sink_unlink(uv_loop_t *loop, const char *dir, const char *name)
{
	unlink_start(loop, pgh_xasprintf("%s/%s", dir, name));
	unlink_start(loop, pgh_xasprintf("%s/" PGH_SINK_SPARE_DIR "/%s", dir, name));
}

int pgh_sink_remove(const char *dir, const char *name)
{
	char *path = pgh_xasprintf("%s/%s", dir, name);
	int r = unlink(path) < 0 ? -errno : 0;

	free(path);
	if (r == 0) {
		path = pgh_xasprintf("%s/" PGH_SINK_SPARE_DIR "/%s", dir, name);
		(void)unlink(path);
		free(path);
	}
	return r;
}

/* Spares whose file is gone (removed by hand, or by an empty result). */
static int remove_lone_spares(int dfd)
{
	int sfd = openat(dfd, PGH_SINK_SPARE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = sfd >= 0 ? fdopendir(sfd) : NULL;
	struct dirent *e;
	struct stat st;
	int n = 0;

	if (d == NULL) {
		if (sfd >= 0)
			close(sfd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
			continue;
		if (unlinkat(sfd, e->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int pgh_sink_remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] != '.' || len < 6 || strcmp(e->d_name + len - 4, ".tmp") != 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
			pgh_info("removed stale temp file %s/%s", dir, e->d_name);
			n++;
		}
	}
	n += remove_lone_spares(dirfd(d));
	closedir(d);
	return n;
}
