/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "build-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cache/job.h"

int sc_job_parse(struct sc_job *j, int argc, char **argv, bool as_stap, const char *who)
{
	struct sc_error err = {{0}};
	int r = sc_options_parse_as(argc, argv, as_stap, &j->req, &err);

	if (r < 0 && who) /* a subcommand: the one convention (core/cmdopt.h) */
		fprintf(stderr, "stapcache %s: %s\nTry 'stapcache %s --help'.\n", who,
			err.msg, who);
	else if (r < 0)
		fprintf(stderr, "stapcache: %s\n", err.msg);
	if (r == 0)
		sc_env_read(&j->env);
	return r < 0 ? -1 : r > 0;
}

int sc_job_open(struct sc_job *j, struct sc_error *err)
{
	if (sc_ctx_init(&j->ctx, &j->env, err) < 0 ||
	    sc_cache_open(j->ctx.cache_dir, j->ctx.max_size, &j->cache, err) < 0)
		return -1;
	return 0;
}

int sc_job_key(struct sc_job *j, struct sc_error *err)
{
	if (sc_kernel_resolve(j->req.kernel, j->req.arch, &j->kernel, err) < 0 ||
	    sc_key_compute(&j->req, &j->ctx, &j->kernel, sc_cache_memo_dir(j->cache),
			   &j->key, err) < 0)
		return -1;
	return 0;
}

void sc_job_clear(struct sc_job *j)
{
	sc_key_clear(&j->key);
	sc_cache_free(j->cache);
	j->cache = NULL;
	sc_kernel_clear(&j->kernel);
	sc_ctx_clear(&j->ctx);
	sc_options_free(&j->req);
}

void sc_key_explain_head(const struct sc_key *key, struct sc_cache *c, FILE *out)
{
	char *path = NULL;

	fprintf(out, "# key: %s\n# module: %s.ko\n", key->hex, key->module);
	if (sc_cache_peek(c, key, &path) == 0)
		fprintf(out, "# cached: %s\n", path);
	else
		fprintf(out, "# cached: no\n");
	free(path);
}

int sc_key_explain_record(const struct sc_key *key, FILE *out)
{
	char *rec;
	size_t len;

	if (sc_record_serialize(key->record, &rec, &len) < 0)
		return -ENOMEM;
	fwrite(rec, 1, len, out);
	free(rec);
	return fflush(out) == 0 ? 0 : -EIO;
}
