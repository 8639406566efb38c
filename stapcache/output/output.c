/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A run's output as text or JSON lines (output.h). JSON is written by json-c
 * only; what goes into a JSON string is made valid UTF-8 first (a byte that
 * is not becomes U+FFFD), since a target may print any bytes.
 */
#include "build-config.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/event.h"
#include "output/output.h"

#define TOP_SLOTS 4096 /* distinct pids counted per target; the rest are "other" */
#define TOP_SHOWN 5

struct top {
	long long pid;
	unsigned long long events;
	char comm[32];
	bool used;
};

struct target {
	const char *name;
	FILE *fp; /* stdout, or the temporary file */
	char *path, *tmp;
	unsigned long long lines, bytes, events, other;
	struct top *top;
};

struct sc_output {
	struct sc_output_opts o;
	pthread_mutex_t lock;
	volatile bool failed; /* a write failed (a closed pipe, a full disk) */
	struct target *t;
	size_t n;
};

/* ---------------------------------------------------------------- JSON helpers */

static size_t utf8_len(const unsigned char *s, size_t avail)
{
	size_t need;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (avail < need)
		return 0;
	for (size_t k = 1; k < need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

/* A JSON string of s[0..len), valid UTF-8 whatever s holds. */
static json_object *jstr(const char *s, size_t len)
{
	char *v = malloc(len * 3 + 1), *w = v;
	json_object *j;

	if (!v)
		return NULL;
	for (size_t k = 0; k < len;) {
		size_t l = utf8_len((const unsigned char *)s + k, len - k);

		if (l == 0) {
			memcpy(w, "\xef\xbf\xbd", 3);
			w += 3;
			k++;
			continue;
		}
		memcpy(w, s + k, l);
		w += l;
		k += l;
	}
	j = json_object_new_string_len(v, (int)(w - v));
	free(v);
	return j;
}

static void jset(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *jtime(long long ns)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%lld.%06lld", ns / 1000000000,
		 (ns % 1000000000) / 1000);
	return json_object_new_double_s((double)ns / 1e9, buf);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void written(struct sc_output *o, FILE *fp)
{
	if (fflush(fp) != 0 || ferror(fp))
		o->failed = true;
}

static void write_json(struct sc_output *out, struct target *t, json_object *o)
{
	const char *s =
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);

	fputs(s, t->fp);
	fputc('\n', t->fp);
	written(out, t->fp);
	json_object_put(o);
}

/* ---------------------------------------------------------------- counting */

static void count_process(struct target *t, const struct sc_event *ev)
{
	size_t h = (size_t)((unsigned long long)ev->pid * 2654435761u) % TOP_SLOTS;

	if (!t->top)
		return;
	for (size_t k = 0; k < TOP_SLOTS; k++) {
		struct top *s = &t->top[(h + k) % TOP_SLOTS];

		if (!s->used || s->pid == ev->pid) {
			s->used = true;
			s->pid = ev->pid;
			s->events++;
			snprintf(s->comm, sizeof(s->comm), "%s", ev->comm);
			return;
		}
	}
	t->other++;
}

static int by_events(const void *a, const void *b)
{
	const struct top *x = a, *y = b;

	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static json_object *top_array(struct target *t)
{
	json_object *a = json_object_new_array();
	size_t used = 0;

	if (!t->top)
		return a;
	for (size_t k = 0; k < TOP_SLOTS; k++)
		if (t->top[k].used)
			t->top[used++] = t->top[k];
	qsort(t->top, used, sizeof(*t->top), by_events);
	for (size_t k = 0; k < used && k < TOP_SHOWN; k++) {
		json_object *p = json_object_new_object();

		jset(p, "pid", json_object_new_int64(t->top[k].pid));
		jset(p, "comm", jstr(t->top[k].comm, strlen(t->top[k].comm)));
		jset(p, "events", json_object_new_uint64(t->top[k].events));
		json_object_array_add(a, p);
	}
	for (size_t k = used; k < TOP_SLOTS; k++)
		t->top[k].used = false;
	return a;
}

/* ---------------------------------------------------------------- lines */

static void text_event(struct sc_output *o, struct target *t, const struct sc_event *ev)
{
	time_t sec = (time_t)(ev->time_ns / 1000000000);
	struct tm tm;
	char when[16] = "--:--:--";

	if (localtime_r(&sec, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (o->o.prefix && !o->o.file)
		fprintf(t->fp, "%s: ", t->name);
	fprintf(t->fp, "%s.%06lld %-7lld %-7lld %-16s %-20s %s\n", when,
		(ev->time_ns % 1000000000) / 1000, ev->pid, ev->tid, ev->comm, ev->probe,
		ev->message);
	written(o, t->fp);
}

static void json_event(struct sc_output *o, struct target *t, const struct sc_event *ev)
{
	json_object *j = json_object_new_object(), *args = json_object_new_array();

	jset(j, "type", json_object_new_string("event"));
	jset(j, "target", jstr(t->name, strlen(t->name)));
	jset(j, "stream", json_object_new_string("stdout"));
	jset(j, "time", jtime(ev->time_ns));
	jset(j, "pid", json_object_new_int64(ev->pid));
	jset(j, "tid", json_object_new_int64(ev->tid));
	jset(j, "comm", jstr(ev->comm, strlen(ev->comm)));
	jset(j, "probe", jstr(ev->probe, strlen(ev->probe)));
	jset(j, "message", jstr(ev->message, strlen(ev->message)));
	for (size_t k = 0; k < ev->nargs; k++) {
		char *v = sc_event_arg_value(ev->args[k]);

		json_object_array_add(args, jstr(v, strlen(v)));
		free(v);
	}
	jset(j, "args", args);
	write_json(o, t, j);
}

static void plain_line(struct sc_output *o, struct target *t, bool is_stderr,
		       const char *line, size_t len)
{
	if (o->o.json) {
		json_object *j = json_object_new_object();

		jset(j, "type", json_object_new_string("line"));
		jset(j, "target", jstr(t->name, strlen(t->name)));
		jset(j, "stream",
		     json_object_new_string(is_stderr ? "stderr" : "stdout"));
		jset(j, "time", jtime(now_ns()));
		jset(j, "line", jstr(line, len));
		write_json(o, t, j);
		return;
	}
	FILE *fp = is_stderr ? stderr : t->fp;

	/* A file of its own needs no name before each line. */
	if (o->o.prefix && (is_stderr || !o->o.file))
		fprintf(fp, "%s: ", t->name);
	fwrite(line, 1, len, fp);
	fputc('\n', fp);
	if (!is_stderr)
		written(o, fp);
	else
		fflush(fp);
}

void sc_output_line(struct sc_output *o, size_t i, bool is_stderr, const char *line,
		    size_t len)
{
	struct target *t = &o->t[i];
	struct sc_event ev;
	int r = 1;

	pthread_mutex_lock(&o->lock);
	t->lines++;
	t->bytes += len + 1;
	if (o->o.trace && !is_stderr)
		r = sc_event_parse(line, len, &ev);
	if (r == 0) {
		t->events++;
		count_process(t, &ev);
		if (o->o.json)
			json_event(o, t, &ev);
		else
			text_event(o, t, &ev);
		sc_event_clear(&ev);
	} else {
		plain_line(o, t, is_stderr, line, len);
	}
	pthread_mutex_unlock(&o->lock);
}

void sc_output_summary(struct sc_output *o, size_t i, int status, double seconds,
		       const char *state)
{
	struct target *t = &o->t[i];
	json_object *j;
	char eps[32];

	if (!o->o.json)
		return;
	pthread_mutex_lock(&o->lock);
	j = json_object_new_object();
	jset(j, "type", json_object_new_string("summary"));
	jset(j, "target", jstr(t->name, strlen(t->name)));
	jset(j, "status", json_object_new_int(status));
	jset(j, "state", json_object_new_string(state));
	snprintf(eps, sizeof(eps), "%.3f", seconds);
	jset(j, "duration", json_object_new_double_s(seconds, eps));
	jset(j, "lines", json_object_new_uint64(t->lines));
	jset(j, "bytes", json_object_new_uint64(t->bytes));
	if (o->o.trace) {
		double rate = seconds > 0 ? (double)t->events / seconds : 0;

		jset(j, "events", json_object_new_uint64(t->events));
		snprintf(eps, sizeof(eps), "%.1f", rate);
		jset(j, "events_per_second", json_object_new_double_s(rate, eps));
		jset(j, "top", top_array(t));
		if (t->other)
			jset(j, "other_processes_events",
			     json_object_new_uint64(t->other));
	}
	write_json(o, t, j);
	pthread_mutex_unlock(&o->lock);
}

/* ---------------------------------------------------------------- files */

static int open_file(struct sc_output *o, struct target *t, struct sc_error *err)
{
	int fd;

	t->path = o->n > 1 ? NULL : strdup(o->o.file);
	if (o->n > 1 && asprintf(&t->path, "%s.%s", o->o.file, t->name) < 0)
		t->path = NULL;
	if (!t->path || asprintf(&t->tmp, "%s.tmp.XXXXXX", t->path) < 0) {
		t->tmp = NULL;
		sc_error_set(err, "out of memory");
		return -ENOMEM;
	}
	fd = mkstemp(t->tmp);
	if (fd < 0) {
		int e = errno;

		sc_error_set(err, "-o %s: cannot create a file next to it: %s", t->path,
			     strerror(e));
		free(t->tmp);
		t->tmp = NULL;
		return -e;
	}
	(void)fchmod(fd, 0644); /* mkstemp made it 0600; an output file is 0644 */
	t->fp = fdopen(fd, "w");
	if (!t->fp) {
		close(fd);
		unlink(t->tmp);
		sc_error_set(err, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int sc_output_new(const struct sc_output_opts *opts, const char *const *names, size_t n,
		  struct sc_output **out, struct sc_error *err)
{
	struct sc_output *o = calloc(1, sizeof(*o));
	int r = -ENOMEM;

	if (!o || !(o->t = calloc(n ? n : 1, sizeof(*o->t)))) {
		free(o);
		sc_error_set(err, "out of memory");
		return -ENOMEM;
	}
	o->o = *opts;
	o->n = n;
	pthread_mutex_init(&o->lock, NULL);
	for (size_t i = 0; i < n; i++) {
		struct target *t = &o->t[i];

		t->name = names[i];
		t->fp = stdout;
		if (opts->trace && !(t->top = calloc(TOP_SLOTS, sizeof(*t->top))))
			goto fail;
		if (opts->file && (r = open_file(o, t, err)) < 0)
			goto fail;
	}
	*out = o;
	return 0;
fail:
	if (r == -ENOMEM)
		sc_error_set(err, "out of memory");
	sc_output_free(o);
	return r;
}

bool sc_output_failed(const struct sc_output *o)
{
	return o->failed;
}

int sc_output_finish(struct sc_output *o, struct sc_error *err)
{
	int r = 0;

	for (size_t i = 0; i < o->n; i++) {
		struct target *t = &o->t[i];

		if (!t->tmp) {
			fflush(t->fp);
			continue;
		}
		if ((fflush(t->fp) != 0 || fsync(fileno(t->fp)) != 0 ||
		     fclose(t->fp) != 0 || rename(t->tmp, t->path) != 0) &&
		    r == 0) {
			r = -errno;
			sc_error_set(err, "-o %s: cannot write it: %s", t->path,
				     strerror(errno));
		}
		if (r < 0)
			unlink(t->tmp);
		t->fp = NULL;
		free(t->tmp);
		t->tmp = NULL;
	}
	return r;
}

void sc_output_free(struct sc_output *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		struct target *t = &o->t[i];

		if (t->tmp) {
			if (t->fp)
				fclose(t->fp);
			unlink(t->tmp);
			free(t->tmp);
		}
		free(t->path);
		free(t->top);
	}
	pthread_mutex_destroy(&o->lock);
	free(o->t);
	free(o);
}
