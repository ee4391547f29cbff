/*
 * sched.c - rounds and status.csv (see sched.h).
 *
 * Owns: the slots and their latest results, the running jobs (until their
 * done callback), the rounds in progress, and the status sink.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pghealthd/csvout.h"
#include "pghealthd/job.h"
#include "pghealthd/log.h"
#include "pghealthd/page.h"
#include "pghealthd/sched.h"
#include "pghealthd/status.h"
#include "pghealthd/sweep.h"

/* Row counts kept per check for the page's sparkline. */
#define HISTORY_RUNS 30

struct pgh_round {
	struct pgh_sched *s;
	uint64_t no;
	uint64_t t0;                  /* uv_hrtime() */
	unsigned pending;             /* jobs still running, +1 while launching */
	struct pgh_round *next;       /* in a status waiting list */
	struct pgh_round_summary sum; /* counts, as its jobs finish */
};

struct pgh_slot {
	const struct pgh_check *check;
	struct pgh_job *running; /* NULL when idle */
	struct pgh_csv_out *out; /* running's output */
	struct pgh_sweep *sweep; /* database scope: the run over the databases */
	bool listing;            /* database scope: waiting for the round's databases */
	bool backlog;            /* due, waiting for its turn to start (see sched_launch) */
	struct pgh_round *round; /* the round that launched running */
	struct pgh_result last;  /* latest finished run */
	bool has_result;
	bool skipped; /* a round skipped it while running was in flight */
	bool file;    /* before any result: <check>.csv was in output_dir */
	/* What status.csv shows, and since when (kept across restarts). */
	enum pgh_check_state shown;
	bool has_shown;
	uint64_t since_ms;
	uint32_t *history; /* rows of the latest runs, oldest first; only for the page */
	unsigned n_history;
	char *kept;        /* state_sql: the latest run's value, or NULL */
	bool kept_writing; /* output_dir/.state/NAME is being written */
};

/* The write of a check's kept state; its round waits for it. */
struct kept_write {
	struct pgh_sink sink;
	struct pgh_slot *slot;
	struct pgh_sched *s;
	struct pgh_round *round;
};

struct pgh_sched {
	uv_loop_t *loop;
	const struct pgh_config *cfg;
	struct pgh_pool *pool;
	struct pgh_slot *slots;
	size_t n_slots;
	uint64_t round_no;
	unsigned running; /* runs not finished: started, listing or in the backlog */
	unsigned started; /* cluster-scoped jobs started and not finished */
	size_t *backlog;  /* slot indices waiting to start, oldest first */
	size_t backlog_head, backlog_len;
	struct pgh_sink status;
	struct pgh_sink prom;    /* the Prometheus textfile, when configured */
	struct pgh_sink page;    /* the HTML page, when configured */
	unsigned status_pending; /* sinks of the current write still finishing */
	unsigned kept_pending;   /* state files being written */
	uint64_t rounds_done;
	bool status_busy;
	bool status_failed;               /* the latest status.csv write failed */
	struct pgh_round *status_waiting; /* covered by the write in flight */
	struct pgh_round *status_next;    /* need the next write */
	pgh_round_cb cb;
	void *arg;
	bool stopping;
	void (*stopped_cb)(void *arg);
	void *stopped_arg;
};

static void status_kick(struct pgh_sched *s);

/*
 * The file a failed run leaves in place, or NULL: the latest run's file,
 * or, before any run here, one an earlier process or configuration
 * published.  status.csv names it.
 */
static char *slot_kept_file(const struct pgh_slot *slot)
{
	if (slot->has_result)
		return slot->last.file != NULL ? pgh_xstrdup(slot->last.file) : NULL;
	return slot->file ? pgh_csv_file_name(slot->check->name) : NULL;
}

/* Whether the check's CSV may exist now (a stale one is removed on "no rows"). */
static bool slot_may_have_file(const struct pgh_slot *slot)
{
	return slot->has_result ? slot->last.file != NULL : slot->file;
}

/*
 * Which checks have a CSV in output_dir already: one listing, instead of a
 * stat (or an unlink) per check.  A directory that cannot be read counts
 * every file as present, which only costs the unlinks.
 */
static void sched_scan_files(struct pgh_sched *s)
{
	DIR *d = opendir(s->cfg->output_dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < s->n_slots; i++)
		s->slots[i].file = d == NULL;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		size_t ext = sizeof(PGH_CSV_EXT) - 1;

		if (len <= ext || e->d_name[0] == '.' ||
		    strcmp(e->d_name + len - ext, PGH_CSV_EXT) != 0)
			continue;
		if (n == cap) {
			cap = cap > 0 ? cap * 2 : 64;
			names = pgh_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = pgh_xstrndup(e->d_name, len - ext);
	}
	closedir(d);
	if (n > 0) /* qsort and bsearch want an array, even an empty one */
		qsort(names, n, sizeof(*names), pgh_str_cmp_cb);
	for (size_t i = 0; i < s->n_slots; i++) {
		const char *key = s->slots[i].check->name;

		s->slots[i].file =
		    n > 0 && bsearch(&key, names, n, sizeof(*names), pgh_str_cmp_cb) != NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int slot_name_cmp_cb(const void *a, const void *b)
{
	const struct pgh_slot *const *x = a, *const *y = b;

	return strcmp((*x)->check->name, (*y)->check->name);
}

/* The slots sorted by check name (one spare entry: never a NULL array). */
static struct pgh_slot **slots_by_name(struct pgh_sched *s)
{
	struct pgh_slot **by_name = pgh_xcalloc(s->n_slots + 1, sizeof(*by_name));

	for (size_t i = 0; i < s->n_slots; i++)
		by_name[i] = &s->slots[i];
	qsort(by_name, s->n_slots, sizeof(*by_name), slot_name_cmp_cb);
	return by_name;
}

static struct pgh_slot *slot_find(struct pgh_slot **by_name, size_t n, const char *name)
{
	struct pgh_check key_check = {.name = (char *)name};
	struct pgh_slot key_slot = {.check = &key_check}, *key = &key_slot, **found;

	found = bsearch(&key, by_name, n, sizeof(*by_name), slot_name_cmp_cb);
	return found != NULL ? *found : NULL;
}

struct since_seed {
	struct pgh_slot **by_name;
	size_t n;
};

static void since_seed_cb(void *arg, const char *check, enum pgh_check_state st, uint64_t since_ms)
{
	struct since_seed *seed = arg;
	struct pgh_slot *slot = slot_find(seed->by_name, seed->n, check);

	if (slot == NULL || since_ms == 0)
		return;
	slot->shown = st;
	slot->has_shown = true;
	slot->since_ms = since_ms;
}

/* since survives a restart: the previous status.csv says it. */
static void sched_read_since(struct pgh_sched *s)
{
	struct since_seed seed = {.by_name = slots_by_name(s), .n = s->n_slots};

	if (pgh_status_read_since(s->cfg->output_dir, since_seed_cb, &seed) == -EINVAL)
		for (size_t i = 0; i < s->n_slots; i++) { /* not a status file's word */
			s->slots[i].has_shown = false;
			s->slots[i].since_ms = 0;
		}
	free(seed.by_name);
}

/*
 * What the checks with a state_sql kept last time, from output_dir/.state:
 * a restart (or `once` from cron) compares with the run before it.  Read
 * once at start, as status.csv is; a missing or unreadable file is a first
 * run.  (Stale temp files there are removed at start, with output_dir's.)
 */
static void sched_read_kept(struct pgh_sched *s)
{
	char *dir = pgh_xasprintf("%s/" PGH_STATE_DIR, s->cfg->output_dir);
	bool any = false;

	for (size_t i = 0; i < s->n_slots; i++) {
		struct pgh_slot *slot = &s->slots[i];
		char *path;
		FILE *f;
		size_t n;

		if (slot->check->state_sql == NULL)
			continue;
		any = true;
		path = pgh_xasprintf("%s/%s", dir, slot->check->name);
		f = fopen(path, "rb");
		free(path);
		if (f == NULL)
			continue;
		slot->kept = pgh_xmalloc(PGH_KEPT_MAX + 2);
		n = fread(slot->kept, 1, PGH_KEPT_MAX + 1, f);
		fclose(f);
		slot->kept[n] = '\0';
		if (n == 0 || n > PGH_KEPT_MAX || strlen(slot->kept) != n) {
			free(slot->kept);
			slot->kept = NULL;
		} else {
			slot->kept = pgh_xrealloc(slot->kept, n + 1);
		}
	}
	if (any && mkdir(dir, 0755) != 0 && errno != EEXIST)
		pgh_warn("%s: %s: the checks' state is not kept across restarts", dir,
		         strerror(errno));
	free(dir);
}

struct pgh_sched *pgh_sched_new(uv_loop_t *loop, const struct pgh_config *cfg,
                                struct pgh_pool *pool, pgh_round_cb cb, void *arg)
{
	struct pgh_sched *s = pgh_xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->cfg = cfg;
	s->pool = pool;
	s->cb = cb;
	s->arg = arg;
	s->n_slots = cfg->n_checks;
	s->slots = pgh_xcalloc(cfg->n_checks, sizeof(*s->slots));
	s->backlog = pgh_xcalloc(cfg->n_checks > 0 ? cfg->n_checks : 1, sizeof(*s->backlog));
	for (size_t i = 0; i < cfg->n_checks; i++)
		s->slots[i].check = &cfg->checks[i];
	sched_scan_files(s);
	sched_read_since(s);
	sched_read_kept(s);
	return s;
}

void pgh_sched_free(struct pgh_sched *s)
{
	if (s == NULL)
		return;
	if (s->running > 0 || s->status_busy || s->status_next != NULL || s->kept_pending > 0)
		pgh_bug("scheduler freed with %u jobs running", s->running);
	for (size_t i = 0; i < s->n_slots; i++) {
		pgh_result_clear(&s->slots[i].last);
		free(s->slots[i].history);
		free(s->slots[i].kept);
	}
	free(s->slots);
	free(s->backlog);
	free(s);
}

static void sched_maybe_stopped(struct pgh_sched *s)
{
	void (*cb)(void *);

	if (!s->stopping || s->running > 0 || s->status_busy || s->kept_pending > 0 ||
	    s->stopped_cb == NULL)
		return;
	cb = s->stopped_cb;
	s->stopped_cb = NULL;
	cb(s->stopped_arg);
}

/* The entries of status.csv: every enabled check that ran or was skipped. */
static size_t status_entries(struct pgh_sched *s, struct pgh_status_entry *e)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_slots; i++) {
		struct pgh_slot *slot = &s->slots[i];

		if (!slot->check->enabled || (!slot->has_result && !slot->skipped))
			continue;
		e[n].check = slot->check->name;
		e[n].severity = slot->check->severity;
		e[n].state = slot->skipped ? PGH_CHECK_SKIPPED : slot->last.state;
		e[n].result = &slot->last;
		e[n].since_ms = slot->since_ms;
		e[n].history = slot->history;
		e[n].n_history = slot->n_history;
		n++;
	}
	return n;
}

static void round_summarize(struct pgh_sched *s, struct pgh_round *r, struct pgh_round_summary *sum)
{
	struct pgh_status_entry *e = pgh_xcalloc(s->n_slots, sizeof(*e));
	size_t n = status_entries(s, e);

	*sum = r->sum;
	sum->no = r->no;
	sum->duration_ms = (uv_hrtime() - r->t0) / 1000000;
	sum->verdict = pgh_status_verdict(e, n);
	sum->status_written = !s->stopping && !s->status_failed;
	free(e);
}

/* Count a finished run in the round that launched it. */
static void round_count(struct pgh_round *r, enum pgh_check_state st)
{
	r->sum.ran++;
	switch (st) {
	case PGH_CHECK_OK:
		r->sum.ok++;
		break;
	case PGH_CHECK_FINDINGS:
	case PGH_CHECK_TRUNCATED:
		r->sum.findings++;
		break;
	case PGH_CHECK_TIMEOUT:
		r->sum.timeouts++;
		break;
	default:
		r->sum.errors++;
		break;
	}
}

static void round_finish(struct pgh_round *r)
{
	struct pgh_sched *s = r->s;
	struct pgh_round_summary sum;

	round_summarize(s, r, &sum);
	s->rounds_done++;
	free(r);
	if (s->cb != NULL)
		s->cb(s, &sum, s->arg);
}

static void status_done_cb(struct pgh_sink *sink, int status)
{
	struct pgh_sched *s = sink->data;
	struct pgh_round *r, *next;

	if (status < 0)
		pgh_error("%s not written: %s",
		          sink == &s->prom   ? "Prometheus file"
		          : sink == &s->page ? "HTML page"
		                             : "status.csv",
		          sink->errmsg);
	if (status < 0 && sink == &s->status)
		s->status_failed = true;
	pgh_sink_release(sink);
	if (--s->status_pending > 0)
		return;
	s->status_busy = false;
	r = s->status_waiting;
	s->status_waiting = NULL;
	for (; r != NULL; r = next) {
		next = r->next;
		round_finish(r);
	}
	if (s->stopping) {
		/* No more writes: finish the rounds that waited for one. */
		for (r = s->status_next, s->status_next = NULL; r != NULL; r = next) {
			next = r->next;
			round_finish(r);
		}
	}
	status_kick(s);
	sched_maybe_stopped(s);
}

/*
 * Open a sink for a file that goes to output_dir, or where an absolute
 * name says (the textfile, the page).  Returns whether it is in output_dir.
 */
static bool extra_file_init(struct pgh_sched *s, struct pgh_sink *sink, const char *name)
{
	char *path =
	    name[0] == '/' ? pgh_xstrdup(name) : pgh_xasprintf("%s/%s", s->cfg->output_dir, name);
	char *slash = strrchr(path, '/');
	struct pgh_sink_opts o = {.fsync = s->cfg->fsync, .in_memory = true};
	bool in_dir;

	*slash = '\0';
	o.dir = path[0] != '\0' ? path : "/";
	o.name = slash + 1;
	in_dir = strcmp(o.dir, s->cfg->output_dir) == 0;
	pgh_sink_init(sink, s->loop, &o);
	sink->data = s;
	free(path);
	s->status_pending++;
	return in_dir;
}

static void prom_start(struct pgh_sched *s, const struct pgh_status_entry *e, size_t n,
                       struct pgh_round *newest)
{
	struct pgh_pool_stats ps;
	struct pgh_prom_extra x;

	pgh_pool_get_stats(s->pool, &ps);
	x = (struct pgh_prom_extra){
	    .rounds = s->rounds_done + 1,
	    .round_duration_ms = (uv_hrtime() - newest->t0) / 1000000,
	    .round_end_ms = pgh_now_ms(),
	    .verdict = pgh_status_verdict(e, n),
	    .conns_open = ps.open,
	    .conns_busy = ps.busy,
	    .conns_peak = ps.peak,
	    .connects = ps.connects,
	    .conn_failures = ps.failures,
	};
	extra_file_init(s, &s->prom, s->cfg->prometheus_file);
	pgh_status_render_prom(&s->prom, e, n, &x);
	pgh_sink_finish(&s->prom, true, status_done_cb);
}

static void page_start(struct pgh_sched *s, const struct pgh_status_entry *e, size_t n,
                       struct pgh_round *newest)
{
	struct pgh_page_info x = {
	    .verdict = pgh_status_verdict(e, n),
	    .round_end_ms = pgh_now_ms(),
	    .round_duration_ms = (uv_hrtime() - newest->t0) / 1000000,
	    .interval_ms = s->cfg->interval_ms,
	};

	x.links = extra_file_init(s, &s->page, s->cfg->html_file);
	pgh_page_render(&s->page, e, n, &x);
	pgh_sink_finish(&s->page, true, status_done_cb);
}

/* Write status.csv for every round waiting for it, unless a write is in flight. */
static void status_kick(struct pgh_sched *s)
{
	struct pgh_sink_opts o = {
	    .dir = s->cfg->output_dir,
	    .name = "status.csv",
	    .fsync = s->cfg->fsync,
	    .in_memory = true, /* rendered at once: streaming would only add a buffer */
	};
	struct pgh_status_entry *e;
	size_t n;

	if (s->status_busy || s->status_next == NULL)
		return;
	s->status_waiting = s->status_next;
	s->status_next = NULL;
	s->status_busy = true;
	s->status_failed = false;
	s->status_pending = 1;
	pgh_sink_init(&s->status, s->loop, &o);
	s->status.data = s;
	e = pgh_xcalloc(s->n_slots, sizeof(*e));
	n = status_entries(s, e);
	pgh_status_render(&s->status, e, n);
	if (s->cfg->prometheus_file != NULL && s->cfg->prometheus_file[0] != '\0')
		prom_start(s, e, n, s->status_waiting);
	if (s->cfg->html_file != NULL && s->cfg->html_file[0] != '\0')
		page_start(s, e, n, s->status_waiting);
	free(e);
	pgh_sink_finish(&s->status, true, status_done_cb);
}

static void round_unref(struct pgh_round *r)
{
	struct pgh_sched *s = r->s;

	if (--r->pending > 0)
		return;
	if (s->stopping) {
		round_finish(r);
		return;
	}
	r->next = s->status_next;
	s->status_next = r;
	status_kick(s);
}

static void sched_launch(struct pgh_sched *s);

/* status.csv's since: it moves only when the state shown changes. */
static void slot_note_state(struct pgh_slot *slot, enum pgh_check_state st, uint64_t at_ms)
{
	if (slot->has_shown && slot->shown == st)
		return;
	slot->shown = st;
	slot->has_shown = true;
	slot->since_ms = at_ms;
}

static void slot_note_rows(struct pgh_slot *slot, const struct pgh_config *cfg, uint64_t rows)
{
	if (cfg->html_file == NULL)
		return;
	if (slot->history == NULL)
		slot->history = pgh_xcalloc(HISTORY_RUNS, sizeof(*slot->history));
	if (slot->n_history == HISTORY_RUNS) {
		memmove(slot->history, slot->history + 1,
		        (HISTORY_RUNS - 1) * sizeof(*slot->history));
		slot->n_history--;
	}
	slot->history[slot->n_history++] = rows > UINT32_MAX ? UINT32_MAX : (uint32_t)rows;
}

/* A run is over (res is moved out): its round counts it, the slot keeps it. */
static void slot_finish(struct pgh_slot *slot, struct pgh_result *res)
{
	struct pgh_round *r = slot->round;
	struct pgh_sched *s = r->s;

	round_count(r, res->state);
	slot_note_state(slot, res->state, res->started_ms);
	slot_note_rows(slot, s->cfg, res->rows);
	/* A failed run left the previous file in place: status.csv keeps
	 * naming it (and only it), so it never names a file that is gone. */
	if (res->file == NULL && res->state != PGH_CHECK_OK)
		res->file = slot_kept_file(slot);
	pgh_result_move(&slot->last, res);
	slot->has_result = true;
	slot->skipped = false; /* skipped only while this run was in flight */
	slot->round = NULL;
	s->running--;
	round_unref(r);
	sched_maybe_stopped(s);
}

static void kept_done_cb(struct pgh_sink *sink, int status)
{
	struct kept_write *w = PGH_CONTAINER_OF(sink, struct kept_write, sink);
	struct pgh_sched *s = w->s;

	if (status < 0)
		pgh_warn("check %s: its state was not kept: %s", w->slot->check->name,
		         sink->errmsg);
	w->slot->kept_writing = false;
	pgh_sink_release(sink);
	s->kept_pending--;
	round_unref(w->round);
	free(w);
	sched_maybe_stopped(s);
}

/*
 * A run's state_sql value: the next run reads it, and output_dir/.state
 * keeps it for the next process.  While one write is in flight the next
 * value is only in memory (the run after writes it).
 */
static void slot_keep(struct pgh_sched *s, struct pgh_slot *slot, char *kept)
{
	char *dir;
	struct pgh_sink_opts o = {
	    .name = slot->check->name, .fsync = s->cfg->fsync, .in_memory = true};
	struct kept_write *w;

	free(slot->kept);
	slot->kept = kept;
	if (slot->kept_writing)
		return;
	dir = pgh_xasprintf("%s/" PGH_STATE_DIR, s->cfg->output_dir);
	o.dir = dir;
	w = pgh_xcalloc(1, sizeof(*w));
	w->slot = slot;
	w->s = s;
	w->round = slot->round;
	w->round->pending++; /* status.csv follows the state it reports on */
	pgh_sink_init(&w->sink, s->loop, &o);
	free(dir);
	pgh_sink_append(&w->sink, kept, strlen(kept));
	slot->kept_writing = true;
	s->kept_pending++;
	pgh_sink_finish(&w->sink, true, kept_done_cb);
}

static void sched_job_done_cb(struct pgh_job *job)
{
	struct pgh_slot *slot = job->data;

	struct pgh_sched *s = slot->round->s;

	slot->running = NULL;
	s->started--;
	if (job->result.kept != NULL) {
		slot_keep(s, slot, job->result.kept);
		job->result.kept = NULL;
	}
	slot_finish(slot, &job->result);
	pgh_job_free(job);
	pgh_csv_out_clear(slot->out);
	free(slot->out);
	slot->out = NULL;
	sched_launch(s);
}

static void sched_sweep_done_cb(struct pgh_sweep *sw, struct pgh_result *res, void *arg)
{
	struct pgh_slot *slot = arg;

	slot->sweep = NULL;
	slot_finish(slot, res);
	pgh_sweep_free(sw);
}

static bool check_due(const struct pgh_sched *s, const struct pgh_check *c, uint64_t round_no)
{
	uint64_t every;

	if (c->interval_ms == 0 || c->interval_ms <= s->cfg->interval_ms)
		return true;
	every = c->interval_ms / s->cfg->interval_ms;
	return (round_no - 1) % every == 0;
}

/* A run of the slot's check, writing its CSV. */
static struct pgh_job *sched_job_new(struct pgh_sched *s, struct pgh_slot *slot)
{
	const struct pgh_check *c = slot->check;
	struct pgh_query q = pgh_query_for_check(c);

	q.previous = slot->kept;
	slot->out = pgh_xmalloc(sizeof(*slot->out));
	pgh_csv_out_init(slot->out, s->loop, s->cfg, c, !slot_may_have_file(slot));
	return pgh_job_new(s->loop, s->pool, s->cfg, &q, &pgh_csv_output, slot->out,
	                   sched_job_done_cb, slot);
}

static bool slot_busy(const struct pgh_slot *slot)
{
	return slot->running != NULL || slot->sweep != NULL || slot->listing || slot->backlog;
}

/*
 * Start due checks while fewer than a few per connection are under way:
 * a round of thousands of checks holds a bounded number of jobs, results
 * and files waiting to be published, not one per check.  A shutdown
 * finishes the rest as not run.
 */
static void sched_launch(struct pgh_sched *s)
{
	unsigned limit = 4 * s->cfg->max_connections;
	struct pgh_slot *slot;

	while (s->backlog_head < s->backlog_len && (s->started < limit || s->stopping)) {
		slot = &s->slots[s->backlog[s->backlog_head++]];
		slot->backlog = false;
		if (s->stopping) {
			struct pgh_result res = {.state = PGH_CHECK_ERROR,
			                         .started_ms = pgh_now_ms()};

			res.error = pgh_xstrdup("pghealthd is shutting down");
			slot_finish(slot, &res);
			continue;
		}
		slot->running = sched_job_new(s, slot);
		s->started++;
		pgh_job_start(slot->running);
	}
	if (s->backlog_head == s->backlog_len)
		s->backlog_head = s->backlog_len = 0;
}

/* The round's databases are known: its database-scoped checks start. */
static void sched_dblist_cb(struct pgh_dblist *l, void *arg)
{
	struct pgh_round *r = arg;
	struct pgh_sched *s = r->s;

	for (size_t i = 0; i < s->n_slots; i++) {
		struct pgh_slot *slot = &s->slots[i];
		struct pgh_result res = {.state = PGH_CHECK_ERROR, .started_ms = pgh_now_ms()};

		if (!slot->listing || slot->round != r)
			continue;
		slot->listing = false;
		if (l->error != NULL || s->stopping) {
			res.error =
			    pgh_xstrdup(l->error != NULL ? l->error : "pghealthd is shutting down");
			pgh_warn("check %s: %s", slot->check->name, res.error);
			slot_finish(slot, &res);
			continue;
		}
		slot->sweep = pgh_sweep_start(s->loop, s->pool, s->cfg, slot->check, l,
		                              !slot_may_have_file(slot), sched_sweep_done_cb, slot);
	}
	pgh_dblist_unref(l);
	round_unref(r); /* the listing's hold */
}

uint64_t pgh_sched_round(struct pgh_sched *s)
{
	struct pgh_round *r = pgh_xcalloc(1, sizeof(*r));
	unsigned listing = 0;
	uint64_t no;

	r->s = s;
	r->no = ++s->round_no;
	r->t0 = uv_hrtime();
	r->pending = 1; /* held while launching */
	for (size_t i = 0; i < s->n_slots; i++) {
		struct pgh_slot *slot = &s->slots[i];

		if (!slot->check->enabled || !check_due(s, slot->check, r->no))
			continue;
		if (slot_busy(slot)) {
			pgh_notice("check %s: previous run still in progress, skipped",
			           slot->check->name);
			slot->skipped = true;
			slot_note_state(slot, PGH_CHECK_SKIPPED, pgh_now_ms());
			r->sum.skipped++;
			continue;
		}
		slot->round = r;
		r->pending++;
		s->running++;
		if (slot->check->scope == PGH_SCOPE_DATABASE) {
			slot->listing = true; /* started once the databases are known */
			listing++;
			continue;
		}
		slot->backlog = true;
		s->backlog[s->backlog_len++] = i;
	}
	sched_launch(s);
	if (listing > 0) {
		r->pending++; /* the listing's hold */
		pgh_dblist_read(s->loop, s->pool, s->cfg, sched_dblist_cb, r);
	}
	/* Every round gets its connection attempt, however long the pool's
	 * backoff has grown during an outage; made once its work is queued,
	 * so that an attempt that fails at once fails this round's checks at
	 * once, rather than leaving them queued for the grown backoff. */
	pgh_pool_hurry(s->pool);
	no = r->no;
	round_unref(r);
	return no;
}

void pgh_sched_print_plugin(struct pgh_sched *s, const struct pgh_round_summary *sum, FILE *out)
{
	struct pgh_status_entry *e = pgh_xcalloc(s->n_slots, sizeof(*e));
	size_t n = status_entries(s, e);

	pgh_status_plugin_line(out, e, n, sum->verdict, sum->duration_ms);
	free(e);
}

unsigned pgh_sched_running(const struct pgh_sched *s)
{
	return s->running;
}

unsigned pgh_sched_waiting(const struct pgh_sched *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < s->n_slots; i++)
		if ((s->slots[i].running != NULL && s->slots[i].running->phase == PGH_JOB_QUEUED) ||
		    (s->slots[i].sweep != NULL && pgh_sweep_queued(s->slots[i].sweep)) ||
		    s->slots[i].listing || s->slots[i].backlog)
			n++;
	return n;
}

bool pgh_sched_idle(const struct pgh_sched *s)
{
	return s->running == 0 && !s->status_busy && s->status_next == NULL && s->kept_pending == 0;
}

void pgh_sched_adopt(struct pgh_sched *dst, struct pgh_sched *src)
{
	struct pgh_slot **by_name = slots_by_name(src);

	for (size_t i = 0; i < dst->n_slots; i++) {
		struct pgh_slot *to = &dst->slots[i];
		struct pgh_slot *from = slot_find(by_name, src->n_slots, to->check->name);

		if (from == NULL || !from->has_result)
			continue;
		pgh_result_move(&to->last, &from->last);
		to->has_result = true;
		to->shown = from->shown;
		to->has_shown = from->has_shown;
		to->since_ms = from->since_ms;
		to->history = from->history;
		to->n_history = from->n_history;
		from->history = NULL;
		if (from->kept != NULL && to->check->state_sql != NULL) {
			free(to->kept);
			to->kept = from->kept;
			from->kept = NULL;
		}
		from->has_result = false;
	}
	free(by_name);
	dst->round_no = src->round_no;
}

void pgh_sched_stop(struct pgh_sched *s, void (*done)(void *arg), void *arg)
{
	s->stopping = true;
	for (size_t i = 0; i < s->n_slots; i++)
		if (s->slots[i].sweep != NULL)
			pgh_sweep_stop(s->slots[i].sweep);
	s->stopped_cb = done;
	s->stopped_arg = arg;
	sched_launch(s); /* the backlog ends as not run */
	sched_maybe_stopped(s);
}
