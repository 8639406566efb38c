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
 * 1 when a module called name is in the kernel (live, coming or going), 0
 * when not, or -errno. libkmod reads /sys/module/NAME/initstate; no
 * configuration is parsed and nothing is inserted through it.
 */
int sa_kernel_live(const char *name)
{
	const char *no_config[] = {NULL};
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int r;

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
 * Which loaded instance of name this is: the inode of /sys/module/NAME and
 * the address of its struct module, "-" for what cannot be read. A module
 * unloaded and loaded again under the same name gets another identity.
 */
int sa_kernel_instance(const char *name, char *buf, size_t n)
{
	char path[256], addr[64] = "-";
	struct stat st;
	FILE *f;
	int w;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (stat(path, &st) < 0) {
		snprintf(buf, n, "-");
		return -errno;
	}
	snprintf(path, sizeof(path), "/sys/module/%s/sections/.gnu.linkonce.this_module",
		 name);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%63s", addr) != 1)
			strcpy(addr, "-");
		fclose(f);
	}
	w = snprintf(buf, n, "%llu:%s", (unsigned long long)st.st_ino, addr);
	return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
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
