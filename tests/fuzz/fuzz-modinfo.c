/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The .modinfo/ELF reader staprun-auth runs on a user's file: every accessor
 * on whatever sc_modinfo_parse accepts. The input is copied into a buffer of
 * exactly its size so that ASan sees any read past the end.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/modinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"name", "vermagic", "license",
					   "parm", "parmtype", ""};
	struct sc_modinfo *mi = NULL;
	struct sc_error err = {{0}};
	char rel[128], tiny[4];
	size_t i;
	int r;

	r = sc_modinfo_parse(data, size, &mi, &err);
	if (r != 0) {
		if ((r != -ENOEXEC && r != -ENOMEM) || mi)
			abort();
		return 0;
	}
	if (!sc_module_name_ok(sc_modinfo_name(mi)))
		abort();
	(void)sc_modinfo_get(mi, "vermagic");
	r = sc_modinfo_release(mi, rel, sizeof(rel));
	if (r == 0 && strlen(rel) >= sizeof(rel))
		abort();
	(void)sc_modinfo_release(mi, tiny, sizeof(tiny));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = sc_modinfo_get(mi, keys[i]);

		if (v)
			(void)strlen(v);
	}
	(void)sc_modinfo_param_count(mi);
	(void)sc_modinfo_has_param(mi, "greeting");
	(void)sc_modinfo_has_param(mi, "");
	r = sc_modinfo_stap_version(mi, rel, sizeof(rel));
	if (r == 0 && !strchr(rel, '/'))
		abort();
	(void)sc_modinfo_stap_version(mi, tiny, sizeof(tiny));
	sc_modinfo_free(mi);
	return 0;
}
