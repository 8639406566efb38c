/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.yaml: sc_config_parse on arbitrary bytes, then a merge of the result. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_config *cfg = NULL, *base = NULL;
	struct sc_error err = {{0}};
	int r;

	r = sc_config_parse("fuzz", "/home/fuzz", (const char *)data, size, &cfg, &err);
	if (r != 0) {
		if (cfg)
			abort();
		return 0;
	}
	if (sc_config_parse("base", NULL, "stap: /usr/bin/stap\n", 20, &base, &err) != 0)
		abort();
	if (sc_config_merge(base, cfg) != 0)
		abort();
	sc_config_free(base);
	sc_config_free(cfg);
	return 0;
}
