# tests/vm/vmtest.sh — what the TAP tests that need the QEMU guest share
# (e2e.sh, attacks.sh, attacks-review.sh, remote.sh). Source it after
# tests/lib/testlib.sh:
#
#   vm_test_setup [CONFIG-LINE...]
#       skip unless root, qemu and the built staprun-auth are there; write
#       config.yaml (the test runtime, then CONFIG-LINEs); source lib.sh with
#       the guest pinned to the test kernel and build the guest. Sets auth
#       (the staprun-auth that goes into the guest) and rel (its kernel).
#   vm_compile SCRIPT       stapcache -p4 for the guest's kernel; prints the path
#   no_stap_modules [SECS]  no stap_ module loaded in the guest within SECS (10)
#   live NAME               module NAME is loaded in the guest
#   bless MODULE [OPTIONS]  root appends MODULE's authorized_probes line in the
#                           guest, with OPTIONS before its comment

vm_test_setup() {
	[ "$(id -u)" = 0 ] ||
		skip_all "the guest build needs root (apt-get download, setuid files in the initramfs)"
	command -v qemu-system-x86_64 >/dev/null ||
		skip_all "qemu-system-x86 is not installed (run ./run-tests)"
	auth=$top_builddir/staprun-auth/staprun-auth
	[ -x "$auth" ] || skip_all "staprun-auth is not built"
	write_config "runtime: $RUNTIME" "$@"
	export VM_STAPRUN_AUTH=$auth VM_KERNEL_RELEASE=$KREL
	. "$top_srcdir/tests/vm/lib.sh"
	vm_build >&2 || skip_all "could not build the guest (see the messages above)"
	rel=$(vm_release)
}

vm_compile() { "$STAPCACHE" -p4 -r "$rel" -e "$1" 2>>"$T/compile.err"; }

no_stap_modules() {
	local i
	for i in $(seq $((${1:-10} * 5))); do
		[ "$(vm_ssh root "grep -c '^stap_' /proc/modules" </dev/null)" = 0 ] && return 0
		sleep 0.2
	done
	diag "still loaded: $(vm_ssh root "grep '^stap_' /proc/modules" </dev/null)"
	return 1
}

live() { vm_ssh root "grep -q '^$1 ' /proc/modules" </dev/null; }

bless() {
	local line
	line=$("$STAPCACHE" bless "$1")
	vm_ssh root "echo '${line%%#*}${2:-} #${line#*#}' >> /etc/systemtap/authorized_probes"
}
