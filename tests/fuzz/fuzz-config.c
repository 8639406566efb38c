/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.yaml: sc_config_parse on arbitrary bytes, then a merge of the result
 * over a base that already sets a value. The base is parsed once, in
 * LLVMFuzzerInitialize, and each input gets a fresh copy of it made by
 * sc_config_merge into an empty config (what sc_config_load hands out for a
 * missing file): the same code under test as parsing the base anew for
 * every input, without a second libyaml parser per input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/config.h"

static struct sc_config *base0;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sc_error err = {{0}};

	(void)argc;
	(void)argv;
	if (sc_config_parse("base", NULL, "stap: /usr/bin/stap\n", 20, &base0, &err) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_config *cfg = NULL, *base;
	struct sc_error err = {{0}};
	int r;

	r = sc_config_parse("fuzz", "/home/fuzz", (const char *)data, size, &cfg, &err);
	if (r != 0) {
		if (cfg)
			abort();
		return 0;
	}
	base = calloc(1, sizeof(*base));
	if (!base || sc_config_merge(base, base0) != 0 || !base->stap)
		abort();
	if (sc_config_merge(base, cfg) != 0)
		abort();
	sc_config_free(base);
	sc_config_free(cfg);
	return 0;
}
