/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's view of a module: running release, live or not, which instance, unload. */
#include "build-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libkmod.h>

#include "auth.h"

int sa_kernel_release(char *buf, size_t n)
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	if (strlen(u.release) >= n)
		return -ENOSPC;
	strcpy(buf, u.release);
	return 0;
}

/*
 * 1 when a module called name is in the kernel (live, coming, going or built
 * in), 0 when not, or -errno. libkmod reads /sys/module/NAME (no
 * configuration is parsed and nothing is inserted through it). Names are
 * [A-Za-z0-9_] only, so libkmod's '-' to '_' folding cannot change which
 * module is asked about.
 */
int sa_kernel_live(const char *name)
{
	const char *no_config[] = {NULL};
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int r;

	if (!sc_module_name_ok(name))
		return -EINVAL;
	ctx = kmod_new(NULL, no_config);
	if (!ctx)
		return -ENOMEM;
	r = kmod_module_new_from_name(ctx, name, &mod);
	if (r == 0) {
		r = kmod_module_get_initstate(mod);
		if (r == -ENOENT)
			r = 0;
		else if (r >= 0)
			r = 1;
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	return r;
}

/*
 * Which loaded instance of name this is: "INODE:ADDRESS", the inode of
 * /sys/module/NAME and the address of its struct module. A module unloaded
 * and loaded again under the same name gets another identity. Returns 0, or
 * -errno when either cannot be read (-ENOENT: not loaded): an instance is
 * never half known.
 */
int sa_kernel_instance(const char *name, char *buf, size_t n)
{
	char path[256], addr[64];
	struct stat st;
	FILE *f;
	int w, r;

	if (!sc_module_name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (stat(path, &st) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/sys/module/%s/sections/.gnu.linkonce.this_module",
		 name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	r = fscanf(f, "%63s", addr) == 1 ? 0 : -EIO;
	fclose(f);
	if (r < 0)
		return r;
	w = snprintf(buf, n, "%llu:%s", (unsigned long long)st.st_ino, addr);
	return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
}

/*
 * 1 when name is loaded and is the instance a record names, 0 when it is not
 * loaded or is another instance, -errno when that cannot be told (then
 * nothing may be concluded: not "gone", not "ours").
 */
int sa_kernel_same(const char *name, const char *instance)
{
	char now[96];
	int r = sa_kernel_live(name);

	if (r <= 0)
		return r;
	r = sa_kernel_instance(name, now, sizeof(now));
	if (r == -ENOENT && sa_kernel_live(name) == 0)
		return 0; /* went away meanwhile */
	if (r < 0)
		return r;
	return instance[0] && !strcmp(now, instance);
}

/*
 * delete_module(name, O_NONBLOCK), retried while the module is busy for a
 * moment (a stapio that just died still holds it). Returns 0, -ENOENT when
 * no such module is loaded, or -errno (err says why).
 */
int sa_kernel_unload(const char *name, struct sc_error *err)
{
	int i, e = 0;

	for (i = 0; i < 10; i++) {
		if (syscall(SYS_delete_module, name, O_NONBLOCK) == 0)
			return 0;
		e = errno;
		if (e == ENOENT)
			return -ENOENT;
		if (e != EINTR && e != EAGAIN && e != EBUSY)
			break;
		usleep(50000 * (unsigned)(i + 1));
	}
	if (e == ENOSYS)
		sc_error_set(err, "cannot unload %s: this kernel cannot unload modules",
			     name);
	else
		sc_error_set(err, "cannot unload %s: %s", name, strerror(e));
	return -e;
}
