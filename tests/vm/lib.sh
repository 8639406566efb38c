# tests/vm/lib.sh — helpers for test scripts that need the QEMU test guest.
# Source it from POSIX sh or bash:
#
#   VM_DIR=$srcdir/tests/vm       # optional: bash finds it by itself
#   . "$VM_DIR/lib.sh"
#   vm_start                       # build if needed, boot, install traps
#   vm_scp_to root vmhello.ko /tmp/vmhello.ko
#   vm_ssh root 'staprun /tmp/vmhello.ko'
#   vm_ssh scuser id -u
#   vm_release                     # prints the guest's kernel release
#   vm_stop                        # optional: done at exit anyway
#
# Functions
#   vm_build           build-guest (no-op when nothing changed); the guest
#                      gets staprun-auth from $VM_STAPRUN_AUTH, or, when that
#                      is unset, from the first existing of
#                      $abs_top_builddir/staprun-auth/staprun-auth,
#                      <srcdir>/staprun-auth/staprun-auth,
#                      <srcdir>/build/staprun-auth/staprun-auth.
#                      VM_STAPRUN_AUTH= (set, empty) builds without it.
#                      VM_KERNEL_RELEASE=REL pins the guest's kernel.
#                      With VM_SECURE_BOOT=1, also the Secure Boot guest's
#                      parts (tests/vm/build-sb; its test signing key is
#                      made with $VM_MODSIGN_TOOL, or the first existing of
#                      $abs_top_builddir/tests/vm/modsign-tool and
#                      <srcdir>/build/tests/vm/modsign-tool).
#   vm_start           vm_build, boot, wait for SSH. Sets and exports
#                      VM_RUNDIR VM_PORT VM_PID VM_REL VM_SSH_CONFIG
#                      VM_KNOWN_HOSTS_YAML (stapcache target "testvm",
#                      execute ssh:scuser@127.0.0.1:PORT:auth) and VM_HOME
#                      (a HOME whose .ssh/ has the key, known_hosts, config).
#                      VM_SECURE_BOOT=1 in the environment: the Secure Boot
#                      guest instead (UEFI Secure Boot on, the kernel locked
#                      down, module signatures enforced), target "testvm-sb"
#                      in VM_KNOWN_HOSTS_YAML, and VM_SIGNING_KEY exported:
#                      the directory of the module-signing key enrolled in
#                      its db (module-signing-key.pem, mode 0600, and
#                      module-signing-cert.pem/.der; common/modsign.h), which
#                      sc_modsign_key_load and `bless --sign` take as it is.
#   vm_ssh USER CMD... run CMD in the guest as USER (words joined by spaces
#                      and run by the guest's /bin/sh, as with ssh); stdin
#                      is passed on (use </dev/null inside read loops).
#   vm_scp_to USER LOCAL REMOTE, vm_scp_from USER REMOTE LOCAL
#   vm_release         the guest's kernel release (no guest needed)
#   vm_stop            power the guest off, remove its run dir
#   vm_cleanup [STATUS] like vm_stop; keeps the run dir (console.log) when
#                      STATUS is non-zero or VM_KEEP=1. Safe to call twice.
#
# Traps: vm_start traps EXIT, HUP, INT and TERM. The handlers call
# vm_cleanup, then run the EXIT trap that was set before vm_start (chained),
# and exit with the script's status (129/130/143 on a signal). A test that
# sets its own EXIT trap after vm_start must call vm_cleanup from it; with
# VM_NO_TRAP=1, vm_start installs no traps at all. Even if the script is
# SIGKILLed, a watcher started by run-guest kills the guest within ~1 s.
# vm_ssh/vm_scp_* run ssh in the background and wait for it, so a signal to
# the test script is handled at once rather than after ssh returns.
#
# Other knobs: VM_OUT (guest build dir: make check sets the build tree's
# tests/vm/out, so that no test writes into the source tree; default tests/vm/out), VM_KEEP=1,
# and run-guest's VM_ACCEL, VM_MEM, VM_SMP, VM_BOOT_TIMEOUT, VM_APPEND.
#
# VM_DEBIAN=13: the Debian 13 guest instead, everything else the same. Its
# kernel, staprun, stapio and their libraries come from the build root
# $VM_BUILDROOT (default /var/lib/stapcache-test/buildroot/trixie; make it
# with stapcache buildroot create --release trixie, as ./quickstart does);
# VM_KERNEL_RELEASE is not used (the root's kernel is). It is built in
# VM_OUT13 (default /var/lib/stapcache-test/guest/trixie: outside the clone,
# kept between runs, rebuilt when an input changes), never in VM_OUT, which
# make check sets for the Debian 12 guest; VM_KNOWN_HOSTS_YAML names it
# target testvm13, with build-root: $VM_BUILDROOT.

if [ -z "${VM_DIR:-}" ]; then
	if [ -n "${BASH_SOURCE:-}" ]; then
		VM_DIR=$(cd "$(dirname "$BASH_SOURCE")" && pwd)
	elif [ -n "${srcdir:-}" ] && [ -f "$srcdir/tests/vm/lib.sh" ]; then
		VM_DIR=$(cd "$srcdir/tests/vm" && pwd)
	elif [ -f tests/vm/lib.sh ]; then
		VM_DIR=$(cd tests/vm && pwd)
	else
		echo "lib.sh: cannot find tests/vm; set VM_DIR before sourcing lib.sh" >&2
		return 1 2>/dev/null || exit 1
	fi
fi
if [ "${VM_DEBIAN:-12}" = 13 ]; then
	VM_BUILDROOT=${VM_BUILDROOT:-/var/lib/stapcache-test/buildroot/trixie}
	VM_OUT=${VM_OUT13:-/var/lib/stapcache-test/guest/trixie}
	VM_NAME=testvm13
	export VM_BUILDROOT VM_NAME
fi
VM_OUT=${VM_OUT:-$VM_DIR/out}
export VM_DIR VM_OUT
VM_RUNDIR=${VM_RUNDIR:-}
_vm_old_exit_trap=
_vm_traps=
_vm_bg=

_vm_err() { printf 'lib.sh: %s\n' "$*" >&2; }

vm_build() {
	_vm_auth=
	if [ -n "${VM_STAPRUN_AUTH+set}" ]; then
		_vm_auth=$VM_STAPRUN_AUTH
	else
		for _vm_c in "${abs_top_builddir:-/nonexistent}/staprun-auth/staprun-auth" \
			"$VM_DIR/../../staprun-auth/staprun-auth" \
			"$VM_DIR/../../build/staprun-auth/staprun-auth"; do
			if [ -f "$_vm_c" ]; then _vm_auth=$_vm_c; break; fi
		done
	fi
	# VM_KERNEL_RELEASE pins the guest to the kernel the host compiles for
	# (else build-guest takes linux-image-amd64's current ABI).
	set -- --out "$VM_OUT"
	if [ "${VM_DEBIAN:-12}" = 13 ]; then
		set -- "$@" --buildroot "$VM_BUILDROOT"
	elif [ -n "${VM_KERNEL_RELEASE:-}" ]; then
		set -- "$@" --kernel-release "$VM_KERNEL_RELEASE"
	fi
	[ -n "$_vm_auth" ] && set -- "$@" --staprun-auth "$_vm_auth"
	if [ "${VM_SECURE_BOOT:-0}" = 1 ]; then
		set -- "$@" --secure-boot
		_vm_tool=${VM_MODSIGN_TOOL:-}
		if [ -z "$_vm_tool" ]; then
			for _vm_c in "${abs_top_builddir:-/nonexistent}/tests/vm/modsign-tool" \
				"${top_builddir:-/nonexistent}/tests/vm/modsign-tool" \
				"$VM_DIR/../../build/tests/vm/modsign-tool"; do
				if [ -x "$_vm_c" ]; then _vm_tool=$_vm_c; break; fi
			done
		fi
		[ -n "$_vm_tool" ] && set -- "$@" --modsign-tool "$_vm_tool"
	fi
	"$VM_DIR/build-guest" "$@"
}

# Record the EXIT trap that is in force now (trap's listing is only reliable
# in the current shell, so it goes through a file).
_vm_capture() { # called as: trap -- CMD SIG...
	[ "$1" = "--" ] && shift
	_vm_cmd=$1
	shift
	for _vm_s in "$@"; do
		case $_vm_s in EXIT|0) _vm_old_exit_trap=$_vm_cmd ;; esac
	done
}
_vm_install_traps() {
	[ "${VM_NO_TRAP:-0}" = 1 ] && return 0
	[ -n "$_vm_traps" ] && return 0
	_vm_tf=$(mktemp) || return 1
	trap >"$_vm_tf"
	eval "$(sed 's/^trap /_vm_capture /' "$_vm_tf")"
	rm -f "$_vm_tf"
	trap '_vm_on_exit' EXIT
	trap '_vm_on_signal HUP 129' HUP
	trap '_vm_on_signal INT 130' INT
	trap '_vm_on_signal TERM 143' TERM
	_vm_traps=1
}
_vm_on_exit() {
	_vm_st=$?
	trap - EXIT
	vm_cleanup "$_vm_st"
	if [ -n "$_vm_old_exit_trap" ]; then
		set +e
		(exit "$_vm_st") # restore $? for the chained trap
		eval "$_vm_old_exit_trap"
	fi
	exit "$_vm_st"
}
_vm_on_signal() {
	trap - "$1"
	vm_cleanup "$2"
	exit "$2" # runs _vm_on_exit (cleanup is then a no-op), then the old EXIT trap
}

vm_start() {
	if [ -n "$VM_RUNDIR" ]; then
		_vm_err "vm_start: a guest is already running ($VM_RUNDIR)"
		return 1
	fi
	vm_build || { _vm_err "building the guest failed"; return 1; }
	_vm_install_traps || return 1
	VM_RUNDIR=$(mktemp -d "${VM_RUN_BASE:-${TMPDIR:-/tmp}}/stapcache-vm.XXXXXX") || return 1
	export VM_RUNDIR
	set -- start --out "$VM_OUT" --rundir "$VM_RUNDIR" --watch-pid $$
	[ "${VM_SECURE_BOOT:-0}" = 1 ] && set -- "$@" --secure-boot
	"$VM_DIR/run-guest" "$@" >/dev/null &
	_vm_bg=$!
	wait "$_vm_bg" || {
		_vm_st=$?
		_vm_bg=
		_vm_err "the guest did not start (run dir $VM_RUNDIR kept)"
		_vm_rd=$VM_RUNDIR
		VM_RUNDIR=
		"$VM_DIR/run-guest" stop "$_vm_rd" >/dev/null 2>&1 || true
		return "$_vm_st"
	}
	_vm_bg=
	. "$VM_RUNDIR/env"
	export VM_PORT VM_PID VM_REL VM_SSH_CONFIG VM_KNOWN_HOSTS_YAML VM_HOME VM_BOOT_SECONDS
	[ "${VM_SECURE_BOOT:-0}" = 1 ] && export VM_SIGNING_KEY
	return 0
}

vm_cleanup() {
	_vm_cst=${1:-0}
	[ -n "$VM_RUNDIR" ] || return 0
	_vm_rd=$VM_RUNDIR
	VM_RUNDIR=
	if [ -n "$_vm_bg" ]; then
		kill "$_vm_bg" 2>/dev/null || true
		_vm_bg=
	fi
	"$VM_DIR/run-guest" stop "$_vm_rd" >/dev/null || _vm_err "stopping the guest in $_vm_rd failed"
	if [ "${VM_KEEP:-0}" = 1 ] || [ "$_vm_cst" != 0 ]; then
		_vm_err "guest stopped; run dir kept: $_vm_rd (console log: $_vm_rd/console.log)"
	else
		rm -rf "$_vm_rd"
	fi
	return 0
}

vm_stop() {
	vm_cleanup 0
}

_vm_need() {
	if [ -z "$VM_RUNDIR" ] || [ ! -f "$VM_RUNDIR/ssh_config" ]; then
		_vm_err "$1: no guest running (call vm_start first)"
		return 1
	fi
}

# Run "$@" in the background and wait, keeping stdin: a trapped signal then
# interrupts the wait at once.
_vm_bgwait() {
	if (exec 3<&0) 2>/dev/null; then
		{ "$@" <&3 3<&- & } 3<&0
	else
		"$@" </dev/null & # no stdin at all (as in CI): give ssh /dev/null
	fi
	_vm_p=$!
	wait "$_vm_p"
}

vm_ssh() {
	_vm_need vm_ssh || return 1
	[ $# -ge 2 ] || { _vm_err "usage: vm_ssh USER CMD..."; return 2; }
	_vm_u=$1
	shift
	_vm_bgwait ssh -F "$VM_RUNDIR/ssh_config" -l "$_vm_u" testvm "$@"
}

vm_scp_to() {
	_vm_need vm_scp_to || return 1
	[ $# -eq 3 ] || { _vm_err "usage: vm_scp_to USER LOCAL REMOTE"; return 2; }
	_vm_bgwait scp -q -F "$VM_RUNDIR/ssh_config" "$2" "$1@testvm:$3"
}

vm_scp_from() {
	_vm_need vm_scp_from || return 1
	[ $# -eq 3 ] || { _vm_err "usage: vm_scp_from USER REMOTE LOCAL"; return 2; }
	_vm_bgwait scp -q -F "$VM_RUNDIR/ssh_config" "$1@testvm:$2" "$3"
}

vm_release() {
	if [ -n "${VM_REL:-}" ]; then
		printf '%s\n' "$VM_REL"
	elif [ -f "$VM_OUT/guest.env" ]; then
		(. "$VM_OUT/guest.env" && printf '%s\n' "$VM_REL")
	else
		_vm_err "vm_release: no guest built in $VM_OUT (run vm_build)"
		return 1
	fi
}
