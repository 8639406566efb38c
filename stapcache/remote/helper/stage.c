/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ship a module to one target and run it there. The target needs a POSIX
 * shell, uname, mktemp, dd (with iflag=fullblock: GNU coreutils, busybox),
 * sleep, rm and the runner: no stapcache, no compiler.
 *
 * One exec channel does it all (each channel costs the target a session and
 * a login shell): one shell script checks the kernel, makes the private dir,
 * takes the module's bytes from its stdin, checks it got them all, says so
 * on its first line of output, and runs the wrapper; the
 * stdin then stays open as the stop signal. The sudo runner needs a PTY,
 * which cannot carry a module's bytes: there the same script stores the
 * module on one channel and the wrapper runs on a second.
 *
 * Every process started there is a cost each target pays on every run, so
 * the script starts as few as it can: with the login shell, uname, mktemp,
 * dd, the upload's watchdog (a subshell and its sleep), the runner and rm
 * (what sshd itself starts comes on top): 8, and sshd's two make 10, as
 * many as three OpenSSH sessions. The copy is not hashed there: SSH's MAC
 * already proves every byte that arrives, dd's record count proves that all
 * of them did, and staprun-auth hashes the module itself before it loads it
 * (its policy check). The stdin, the stop signal, is read by the upload's
 * watchdog once the runner has started (told so by a URG), while the shell
 * waits for the runner and ends with it: the shell cannot do both (its read
 * is not interrupted by a child's end), and a runner that ends by itself
 * (stapcache kill, or -c's command outliving stapio, which still holds the
 * output) must end the session.
 *
 * Cleanup, however the run ends:
 * - normal end, or the runner failing: its output ends, the client closes
 *   the stdin, and the wrapper removes its dir;
 * - Ctrl-C here: the channel gets a TERM signal request and EOF on stdin;
 *   the wrapper TERMs the runner (which unloads the module), waits, cleans up;
 * - this process SIGKILLed, or the network gone: sshd closes the channel, the
 *   wrapper's stdin reaches EOF, and it does the same;
 * - the target rebooted or the wrapper itself killed: the next connection to
 *   that host removes dirs of ours whose runner is no longer alive;
 * - the connection lost before the run (mid-upload): the dir's pid file names
 *   the sshd process of that connection (the stage script's parent) until the
 *   wrapper puts the runner's there, so the next connection removes it too.
 *   A truncated upload is never run: nothing runs unless dd read it whole.
 */
#include "build-config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/digest.h"
#include "common/fsutil.h"
#include "common/policy.h"
#include "common/modinfo.h"
#include "remote/helper/stage.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *append(char *s, const char *word)
{
	char *q = sc_shell_quote(word), *n = sc_strdupf("%s %s", s, q);

	free(q);
	free(s);
	return n;
}

int sc_run_secret_init(struct sc_run_secret *s, bool may_ask)
{
	unsigned char rnd[8];
	char hex[17];

	memset(s, 0, sizeof(*s));
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -errno;
	sc_hex(hex, rnd, sizeof(rnd));
	/* No '%': sudo expands %u, %h, %p in its prompt. */
	snprintf(s->marker, sizeof(s->marker), "[stapcache sudo %s] ", hex);
	s->may_ask = may_ask;
	return pthread_mutex_init(&s->lock, NULL) == 0 ? 0 : -ENOMEM;
}

void sc_run_secret_clear(struct sc_run_secret *s)
{
	explicit_bzero(s->pw, sizeof(s->pw));
	s->len = 0;
	s->state = 0;
	pthread_mutex_destroy(&s->lock);
}

/* sc_ssh_prompt's answer: the password, asked on the terminal the first time. */
static int sudo_answer(void *ud, char *buf, size_t n)
{
	struct sc_run_secret *s = ud;
	int r = -1;

	pthread_mutex_lock(&s->lock);
	if (s->state == 0) {
		int got = -ENOTTY;

		if (s->may_ask && s->pause)
			s->pause(s->pause_ud, true);
		if (s->may_ask)
			got = sc_ssh_ask_tty("stapcache: sudo password on the targets: ",
					     s->pw, sizeof(s->pw));
		if (s->may_ask && s->pause)
			s->pause(s->pause_ud, false);

		s->state = got < 0 ? -1 : 1;
		s->len = got < 0 ? 0 : (size_t)got;
		if (got < 0)
			explicit_bzero(s->pw, sizeof(s->pw));
	}
	if (s->state == 1 && s->len <= n) {
		memcpy(buf, s->pw, s->len);
		r = (int)s->len;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * The runner's pid is $p. kids: it and its descendants, four generations
 * deep (stapio under staprun-auth's watchdog, under sudo's monitor, and what
 * stapio runs for -c), from /proc/PID/task/PID/children (read by the shell
 * itself, not cat: a trace --comm cat must not see us; readable by anyone,
 * also for a non-dumpable root process), else children only, by a scan of
 * /proc; stop: TERM them all (only those the login may signal take it);
 * started: one of them is stapio (the module is loaded and running), from
 * when --duration counts; running [PID]: the runner (or PID) has not ended
 * (a zombie has), from /proc (not kill -0, which fails on a root runner the
 * login may not signal: a lost connection would then not stop it).
 */
static const char stop_fn[] =
	"kids_of() { [ \"$2\" -lt 4 ] || return 0; l=; "
	"{ read -r l < /proc/$1/task/$1/children; } 2>/dev/null; for c in $l; do "
	"echo \"$c\"; kids_of \"$c\" $(($2 + 1)); done; }; "
	"kids() { echo \"$p\"; if [ -r /proc/$p/task/$p/children ]; then kids_of \"$p\" 0; "
	"return; fi; for f in /proc/[0-9]*/stat; do "
	"{ read -r l <\"$f\"; } 2>/dev/null || continue; l=${l##*) }; set -- $l; "
	"[ \"$2\" = \"$p\" ] || continue; c=${f#/proc/}; echo \"${c%/stat}\"; done; }; "
	"stop() { for k in $(kids); do kill -TERM \"$k\" 2>/dev/null; done; }; "
	"started() { for k in $(kids); do read -r c </proc/$k/comm && [ \"$c\" = stapio ] "
	"&& return 0; done 2>/dev/null; return 1; }; "
	"running() { { read -r l < /proc/${1:-$p}/stat; } 2>/dev/null || return 1; l=${l##*) }; "
	"[ \"${l%% *}\" != Z ]; }";

/*
 * Remove dirs of earlier runs whose runner (or, before the run, connection:
 * the shell's parent, the sshd of that connection) is gone, with TERM, INT
 * and HUP ignored meanwhile (an rm killed after it removed a dir's pid file
 * would leave the rest for good: the sweep goes by that file); only real
 * directories of the login's, never a symlink, with a regular pid file
 * (another user's stapcache.* names in a shared /tmp are not looked into,
 * and nothing there can block the sweep: the pid file is read with the
 * shell's own read, and an empty one, being written, is skipped); refuse
 * another kernel ("stapcache-kernel RELEASE"); make a private dir $d; store
 * the module from stdin under its name there, and go on only when dd read
 * exactly len bytes in one full record (at EOF dd says "0+1 records in", in
 * the C locale, and the script removes $d before it says so, as a dead
 * connection's stderr can end it, by SIGPIPE); then say "stapcache-ok DIR".
 * No temporary name and rename (one mv a run): nothing but this script looks
 * at the file, in a dir only the login can enter, and it runs nothing and
 * removes the dir when the copy is short; a script killed in between leaves
 * the dir to the next connection's sweep, which never runs anything either.
 *
 * The upload is bounded here too: a connection that stays open but brings
 * no byte for quiet_s seconds (the client gave up long before: it waits
 * --io-timeout) ends dd, and the dir goes; the client's own side cannot tell
 * this shell, whose connection may never close (a client that vanished, a
 * stalled path). The watchdog is one subshell and one sleep at a time: it
 * wakes every quiet_s seconds and compares dd's read count (/proc/PID/io's
 * rchar, read with the shell's read) with the last one, so a stall ends dd
 * after quiet_s to 2 x quiet_s of silence, and a normal upload costs it two
 * processes (a wc and a sleep each second cost more). A target whose
 * /proc/PID/io cannot be read waits on for the connection, as before.
 *
 * With watch (the runner follows in the same shell), the watchdog stays
 * after the upload and becomes the stdin's reader: the wrapper writes the
 * runner's pid to $d/pid and then sends it a URG (ignored by default, and
 * one sent before its trap is set is lost: so before each sleep it looks at
 * $d/pid, and a URG only makes it look again). Once $d/pid names the runner
 * it kills its sleep, reads its copy of the stdin (fd 4) to EOF, and stops
 * the runner if it still runs (a Ctrl-C there, the client killed or the
 * connection lost). A wake by a URG skips the read-count check (only a full
 * quiet_s of sleep counts as silence). Without watch it is TERMed as soon as
 * dd ends, and $d/pid never changes while it runs.
 *
 * A TERM, INT or HUP before the runner starts removes $d, with those signals
 * ignored from then on: a second one (a Ctrl-C followed by the hangup of the
 * PTY when the connection goes) must not kill the rm half-way and leave part
 * of $d behind. The wrappers do the same once the runner has ended.
 */
static char *stage_script(const char *kernel, const char *name, size_t len, int quiet_s,
			  bool watch)
{
	char *qk = sc_shell_quote(kernel), *out;

	out = sc_strdupf(
		"%s%sumask 077; trap '' TERM INT HUP; for x in \"${TMPDIR:-/tmp}\"/stapcache.*; do "
		"[ ! -L \"$x\" ] && [ -d \"$x\" ] && [ -O \"$x\" ] && [ ! -L \"$x/pid\" ] && "
		"[ -f \"$x/pid\" ] && { o=; { read -r o < \"$x/pid\"; } 2>/dev/null; "
		"case $o in ''|*[!0-9]*) rm -rf \"$x\";; *) [ -e /proc/$o ] || rm -rf \"$x\";; esac; }; "
		"done >/dev/null 2>&1; trap - TERM INT HUP; k=$(uname -r); "
		"[ \"$k\" = %s ] || { echo \"stapcache-kernel $k\"; exit 124; }; "
		"d=$(mktemp -d \"${TMPDIR:-/tmp}/stapcache.XXXXXXXX\") || exit 125; "
		"echo \"$PPID\" > \"$d/pid\"; h= w=; "
		"trap 'trap \"\" TERM INT HUP; kill $h $w 2>/dev/null; cd / && rm -rf \"$d\"; "
		"exit 129' TERM INT HUP; "
		"cd \"$d\" || { cd / && rm -rf \"$d\"; exit 125; }; exec 4<&0; "
		"LC_ALL=C dd of=%s.ko bs=%zu count=1 iflag=fullblock <&4 2>.dd & h=$!; "
		"( trap 'kill $z 2>/dev/null; exit 0' TERM; trap 'g=1; kill $z 2>/dev/null' URG; "
		"z= n0=; while :; do g= q=; { read -r q < \"$d/pid\"; } 2>/dev/null; "
		"case $q in ''|\"$PPID\") ;; *) break ;; esac; sleep %d & z=$!; "
		"[ -z \"$g\" ] && wait $z; [ -z \"$g\" ] || continue; "
		"n=; { read -r _ n < /proc/$h/io; } 2>/dev/null; "
		"[ -z \"$n\" ] || [ \"$n\" != \"$n0\" ] || { kill $h; exit 0; }; n0=$n; done; "
		"kill $z 2>/dev/null; %s) "
		"</dev/null >/dev/null 2>&1 & w=$!; wait $h; %s"
		"exec 4<&-; h= r=; { read -r r < .dd; } 2>/dev/null; "
		"case $r in \"1+0 records in\"*) ;; *) false ;; esac || "
		"{ kill $w 2>/dev/null; cd / && rm -rf \"$d\"; echo \"the module did not arrive "
		"whole or could not be stored (dd: ${r:-no word: no byte came for %d s})\" >&2; "
		"exit 125; }; printf 'stapcache-ok %%s\\n' \"$d\"; ",
		watch ? stop_fn : "", watch ? "; " : "", qk, name, len, quiet_s,
		watch ? "trap '' URG; trap - TERM; p=$q; while read -r _ <&4; do :; done; "
			"! running || stop "
		      : "",
		watch ? "" : "kill $w 2>/dev/null; w=; ", quiet_s);
	free(qk);
	return out;
}

/* How long the target waits for the next byte of an upload: twice ours. */
static int upload_quiet_s(const struct sc_run_req *rq)
{
	return 2 *
	       (rq->ssh.io_timeout > 0 ? rq->ssh.io_timeout : SC_SSH_DEFAULT_IO_TIMEOUT);
}

/* The wrapper of sc_run_wrapper, for the dir in $d. */
static char *wrapper_body(enum sc_runner runner, const char *module_name,
			  const struct sc_run_req *rq)
{
	static const char *const runners[] = {"staprun-auth", "sudo", "staprun"};
	char *cmd = sc_strdupf("%s", runners[runner]), *out, *with, *timer;

	if (runner == SC_RUNNER_SUDO) {
		cmd = append(cmd, "-p");
		cmd = append(cmd, rq->sudo ? rq->sudo->marker : "[sudo] password: ");
		cmd = append(cmd, "staprun");
	}

	for (size_t i = 0; i < rq->nrunner_opts; i++)
		cmd = append(cmd, rq->runner_opts[i]);
	with = sc_strdupf("%s \"$d\"/%s.ko", cmd, module_name);
	free(cmd);
	cmd = with;
	for (size_t i = 0; i < rq->nparams; i++)
		cmd = append(cmd, rq->params[i]);
	/*
	 * The stage script ran in this shell, in $d: stop_fn is defined and
	 * the upload's watchdog ($w) holds the channel's stdin. The runner gets
	 * /dev/null as stdin; once its pid is in $d/pid, a URG turns the
	 * watchdog into the stdin's reader, which stops the runner at EOF if it
	 * still runs (a Ctrl-C there, the client killed or the connection lost),
	 * while the shell waits for the runner and ends with it: a runner that
	 * ends by itself (stapcache kill, or -c's command outliving stapio) ends
	 * the session too. SIGPIPE is ignored
	 * so that a lost connection makes writes fail instead of killing the
	 * runner before it has unloaded the module. stop() TERMs the runner and
	 * its children: staprun execs stapio, but staprun-auth forks it under a
	 * root watchdog that the login cannot signal (staprun-auth(8)), so there
	 * it is the child, stapio, that must get it, as with a Ctrl-C; stapio
	 * then runs the end probes and their output still comes through here.
	 * A wait interrupted by the trap is waited again until the runner is
	 * gone from /proc (not kill -0: the login may not signal a root
	 * runner, and leaving then lost the end probes' output).
	 * --duration: a timer subshell calls stop() too, that many seconds
	 * after stapio started (however long the load takes: the client is
	 * there to stop it); when the run ends first, it is TERMed and takes
	 * its sleep with it.
	 */
	timer = rq->duration
			? sc_strdupf("( trap 'kill $z 2>/dev/null; exit 0' TERM; "
				     "until started || ! running; do sleep 0.1; done; "
				     "sleep %u & z=$!; wait $z; stop ) "
				     "</dev/null >/dev/null 2>&1 & t=$!; ",
				     rq->duration)
			: sc_strdupf("t=; ");
	out = sc_strdupf("trap '' PIPE; %s </dev/null & p=$!; echo \"$p\" > \"$d/pid\"; "
			 "kill -s URG $w 2>/dev/null; %strap 'stop' TERM INT HUP; "
			 "while :; do wait \"$p\"; s=$?; [ -e /proc/$p ] || break; "
			 "done; trap '' TERM INT HUP; kill $w $t 2>/dev/null; cd / && rm -rf \"$d\"; "
			 "exit \"$s\"",
			 cmd, timer);
	if (runner == SC_RUNNER_SUDO) {
		/*
		 * On the PTY: no echo (nothing typed comes back, whenever it is
		 * sent), no "\r\n"; nothing reads the terminal but sudo, which
		 * opens /dev/tty for the password; the hangup when the
		 * connection goes (HUP) stops the runner. sudo relays a TERM to
		 * what it runs (as root: the login could not signal it anyway),
		 * so stop() signals sudo only, at once.
		 */
		free(out);
		out = sc_strdupf("stty -echo -onlcr 2>/dev/null; cd \"$d\" || exit 125; "
				 "trap '' PIPE; %s; stop() { kill -TERM \"$p\" 2>/dev/null; }; "
				 "%s </dev/null & p=$!; echo \"$p\" > \"$d/pid\"; "
				 "%strap 'stop' TERM INT HUP; "
				 "while :; do wait \"$p\"; s=$?; [ -e /proc/$p ] || "
				 "break; done; trap '' TERM INT HUP; kill $t 2>/dev/null; "
				 "cd / && rm -rf \"$d\"; exit \"$s\"",
				 stop_fn, cmd, timer);
	}
	free(timer);
	free(cmd);
	return out;
}

bool sc_run_id_ok(const char *id, char *module, size_t n)
{
	const char *at = strchr(id, '@');
	size_t len = at ? (size_t)(at - id) : 0;

	if (!at || len == 0 || len >= n || len >= 64 || !at[1] || strlen(at + 1) > 12 ||
	    strspn(at + 1, "0123456789") != strlen(at + 1))
		return false;
	memcpy(module, id, len);
	module[len] = '\0';
	return sc_module_name_ok(module);
}

/*
 * How long a --detach waits on the target for its run's stapio (staprun-auth
 * checking and loading the module), in seconds: the one start deadline of a
 * detached run. (A test build includes this file with a shorter one.)
 */
#ifndef SC_DETACH_START_S
#define SC_DETACH_START_S 150
#endif
/*
 * staprun-auth --duration is the run's duration plus this: its root
 * watchdog ends the run even when nothing of the login's is left to (the
 * run's shell and timer stopped or killed), a few seconds after the timer
 * would have, so that normally the timer's stop, with its record, comes
 * first. (The watchdog's clock starts at stapio's fork, the timer's when it
 * sees stapio run: under load that was over a second later.) Either way the
 * record says how=duration.
 */
#define SC_DETACH_ROOT_SLACK_S 5

/*
 * A detached run's own shell ($1: its dir $r), in a session of its own,
 * with nothing of the connection's (stdin /dev/null, output in $r): it runs
 * the runner with the output in $r/out (stapio writes it, as the login),
 * its messages in $r/stderr; stops it duration seconds after stapio started
 * (writing $r/started then, and "duration" into $r/how), or on TERM (how:
 * killed, unless something said otherwise first: $r/how is written with
 * noclobber, the first word wins); waits for it however long the unload
 * takes, then publishes $r/end (how, status, ended: written under another
 * name and renamed, so a reader sees all of it or nothing) and removes the
 * module. (A wait that answers 127 has nothing left to wait for: the runner
 * was reaped and its pid is another process's now, so the loop ends with
 * the status it had.) HUP and INT are ignored: the login's logout or a
 * terminal's Ctrl-C is not the end of this run. The timer waits for stapio as long as
 * the runner lives (the start deadline is the launcher's alone, below): a
 * run whose $r/how already holds a word when its stapio runs (the launcher
 * interrupted, or timed out, or a kill came first) is stopped at once.
 *
 * The disk: every 2 s the timer looks at the free space of $r's
 * filesystem (stat -f, for the login: what it may still write) and stops
 * the run cleanly (how: disk-full) when less than one rotation file
 * (rotate_mb MiB) is left, before the disk is full; a run whose write
 * failed anyway (stapio: "No space left", or "Disk quota exceeded": the
 * early stop sees free space, not the login's quota) is disk-full too. Its
 * messages ($r/stderr) are looked at then too: SC_DETACH_STDERR_MAX bytes
 * of them stop the run (how: stderr-full). The end record's
 * space is taken at the start (1 KiB of blanks in $r/.end, overwritten in
 * place at the end), so a full disk cannot keep it from being written.
 *
 * The run's shell killed (SIGKILL, the OOM killer): the timer still stops
 * the run at its duration, waits for the runner to end and, finding the
 * shell gone and no end record, publishes one itself (how=lost, the status
 * unknown), so that ps, logs --follow and logs --remove see the run end.
 * Both killed, or stopped: staprun-auth's root watchdog ends the run at its
 * --duration (SC_DETACH_ROOT_SLACK_S later) all the same; its status then,
 * SC_EXIT_DURATION, reads as how=duration.
 */
static char *detached_body(const char *module_name, const struct sc_run_req *rq)
{
	char *cmd = sc_strdupf("%s", "staprun-auth"), *with, *out;
	unsigned root_s = rq->duration > SC_MAX_DURATION - SC_DETACH_ROOT_SLACK_S
				  ? SC_MAX_DURATION
				  : rq->duration + SC_DETACH_ROOT_SLACK_S;

	for (size_t i = 0; i < rq->nrunner_opts; i++)
		cmd = append(cmd, rq->runner_opts[i]);
	with = sc_strdupf("%s --duration %u -o \"$r/out\" -S %u,%u \"$r\"/%s.ko", cmd,
			  root_s, rq->rotate_mb, rq->rotate_files, module_name);
	free(cmd);
	cmd = with;
	for (size_t i = 0; i < rq->nparams; i++)
		cmd = append(cmd, rq->params[i]);
	out = sc_strdupf(
		"r=$1; cd \"$r\" || exit 125; trap '' PIPE HUP INT; %s; "
		"mark() { ( set -C; echo \"$1\" > \"$r/how\" ) 2>/dev/null; }; "
		"printf '%%1023s\\n' '' > \"$r/.end\"; "
		"%s </dev/null >\"$r/stderr\" 2>&1 & p=$!; echo \"$p\" > \"$r/pid\"; "
		"( trap 'kill $z 2>/dev/null; exit 0' TERM; "
		"tm() { until started || ! running; do sleep 0.1; done; "
		"started || return 0; h=; { read -r h < \"$r/how\"; } 2>/dev/null; "
		"[ -z \"$h\" ] || { stop; return 0; }; "
		"n=$(date +%%s); echo \"$n\" > \"$r/.started\" && "
		"mv \"$r/.started\" \"$r/started\"; e=$((n + %u)); "
		"while [ \"$n\" -lt \"$e\" ]; do w=$((e - n)); [ $w -le 2 ] || w=2; "
		"sleep $w & z=$!; wait $z; f=$(stat -f -c '%%a %%S' \"$r\" 2>/dev/null) && "
		"set -- $f && [ $(($1 * $2 >> 20)) -lt %u ] && { mark disk-full; break; }; "
		"f=$(stat -c %%s \"$r/stderr\" 2>/dev/null) && [ \"$f\" -ge %u ] && "
		"{ mark stderr-full; break; }; n=$(date +%%s); done; mark duration; stop; }; tm; "
		"while running; do sleep 1 & z=$!; wait $z; done; running $$ || "
		"[ -e \"$r/end\" ] || { { printf 'how=lost\\nstatus=unknown\\nended=%%s\\n' "
		"\"$(date +%%s)\"; } 1<> \"$r/.end\" && mv \"$r/.end\" \"$r/end\"; "
		"rm -f \"$r\"/*.ko; } ) "
		"</dev/null >/dev/null 2>&1 & t=$!; trap 'mark killed; stop' TERM; "
		"s=127; while :; do wait \"$p\"; x=$?; [ \"$x\" != 127 ] || break; s=$x; "
		"[ -e /proc/$p ] || break; done; "
		"trap '' TERM; kill $t 2>/dev/null; h=; { read -r h < \"$r/how\"; } "
		"2>/dev/null; [ -n \"$h\" ] || { [ \"$s\" = 0 ] && h=exit || { [ \"$s\" = %d ] "
		"&& h=duration || h=error; }; }; "
		"[ \"$h\" != error ] || ! grep -q -e 'No space left' -e 'Disk quota exceeded' "
		"\"$r/stderr\" 2>/dev/null || "
		"h=disk-full; { printf 'how=%%s\\nstatus=%%s\\nended=%%s\\n' \"$h\" \"$s\" "
		"\"$(date +%%s)\"; } 1<> \"$r/.end\" && mv \"$r/.end\" \"$r/end\"; "
		"rm -f \"$r\"/*.ko",
		stop_fn, cmd, rq->duration, rq->rotate_mb, SC_DETACH_STDERR_MAX,
		SC_EXIT_DURATION);
	free(cmd);
	return out;
}

/*
 * After the stage script (the module whole in $d, the channel on stdin):
 * make the login's run dir (SC_RUNS_DIR_SH/ID, 0700, refused unless a real
 * directory of the login's, and refused under a HOME with a '%': stapio
 * applies strftime to its -o FILE), move the module there, remove $d, start
 * detached_body with setsid, and wait for its stapio to run (then say
 * "stapcache-detached ID" and end: the run goes on without us) or for the
 * run to end first (its messages and status are ours then). The client's
 * Ctrl-C or a lost connection (EOF on the channel's stdin, or TERM, INT,
 * HUP) before that stops what was started: nothing is left half-started.
 * So does SC_DETACH_START_S seconds (the target's clock, looked at every
 * second) without stapio: until stapio runs, staprun-auth holds root's ids
 * and the login cannot stop it, so the run is marked "interrupted" and its
 * timer stops it as soon as its stapio runs (or this stop(), if stapio came
 * meanwhile).
 */
static char *detach_launcher(const char *module_name, const struct sc_run_req *rq)
{
	char *body = detached_body(module_name, rq), *qbody = sc_shell_quote(body);
	char *out = sc_strdupf(
		"%s; case $HOME in *%%*) cd / && rm -rf \"$d\"; echo \"cannot run detached: "
		"HOME ($HOME) has a '%%', which stapio reads in -o FILE as a date format: "
		"its output would go elsewhere\" >&2; exit 125;; esac; "
		"b=" SC_RUNS_DIR_SH "; { [ -n \"$HOME\" ] && mkdir -p \"$b\" && "
		"[ ! -L \"$b\" ] && [ -d \"$b\" ] && [ -O \"$b\" ] && chmod 700 \"$b\"; } || "
		"{ cd / && rm -rf \"$d\"; echo \"cannot make $b, a directory of the "
		"login's only\" >&2; exit 125; }; i=%s@%lld; r=$b/$i; "
		"mkdir \"$r\" && mv \"$d/%s.ko\" \"$r/\" || { cd / && rm -rf \"$d\"; echo "
		"\"cannot make $r: a run of that id is there already\" >&2; "
		"exit 125; }; echo %u > \"$r/duration\"; cd / && rm -rf \"$d\"; "
		"exec 3<&0; p= w=; "
		"trap '( set -C; echo interrupted > \"$r/how\" ) 2>/dev/null; "
		"{ read -r p < \"$r/pid\"; } 2>/dev/null; [ -z \"$p\" ] || stop; "
		"kill $w 2>/dev/null; exit 130' "
		"TERM INT HUP; "
		"setsid sh -c %s stapcache-run \"$r\" </dev/null >/dev/null 2>&1 3<&- & "
		"( while read -r _ <&3; do :; done; kill -TERM $$ ) >/dev/null 2>&1 & w=$!; "
		"n=0; e=$(($(date +%%s) + %d)); "
		"while [ ! -e \"$r/started\" ] && [ ! -e \"$r/end\" ]; do sleep 0.1; "
		"n=$((n + 1)); [ $((n %% 10)) != 0 ] || [ \"$(date +%%s)\" -lt \"$e\" ] || "
		"break; done; kill $w 2>/dev/null; "
		"if [ -e \"$r/started\" ]; then printf 'stapcache-detached %%s\\n' \"$i\"; "
		"exit 0; fi; if [ -e \"$r/end\" ]; then cat \"$r/stderr\" >&2; s=1; "
		"while read -r l; do case $l in status=*) s=${l#status=};; esac; "
		"done < \"$r/end\"; case $s in ''|0|*[!0-9]*) s=1;; esac; exit \"$s\"; fi; "
		"{ read -r p < \"$r/pid\"; } 2>/dev/null; ( set -C; echo interrupted > "
		"\"$r/how\" ) 2>/dev/null; [ -z \"$p\" ] || stop; echo \"the run did not "
		"start within %d s: it will be stopped as soon as its stapio runs (stapcache "
		"logs -T TARGET $i says when)\" >&2; exit 125",
		stop_fn, module_name, (long long)rq->run_epoch, module_name, rq->duration,
		qbody, SC_DETACH_START_S, SC_DETACH_START_S);
	free(qbody);
	free(body);
	return out;
}

char *sc_run_wrapper(enum sc_runner runner, const char *dir, const char *module_name,
		     const struct sc_run_req *rq)
{
	char *qd = sc_shell_quote(dir), *body = wrapper_body(runner, module_name, rq);
	char *out = sc_strdupf("d=%s; %s", qd, body);

	free(qd);
	free(body);
	return out;
}

static int fail(struct sc_run_result *res, enum sc_run_phase phase, int r,
		const struct sc_error *err)
{
	res->phase = phase;
	res->status = 255;
	snprintf(res->msg, sizeof(res->msg), "%s", err->msg);
	return r;
}

static void tell(const struct sc_run_req *rq, void *ud, enum sc_run_phase phase)
{
	if (rq->phase)
		rq->phase(ud, (int)phase);
}

static void remove_dir(struct sc_ssh *s, const char *dir)
{
	char *q = sc_shell_quote(dir), *cmd = sc_strdupf("rm -rf %s", q);
	int st;

	(void)sc_ssh_exec(s, cmd, NULL, 0, NULL, &st, NULL);
	free(q);
	free(cmd);
}

int sc_run_module_load(const char *path, struct sc_run_module *m, struct sc_error *err)
{
	struct sc_modinfo *mi = NULL;
	int r;

	memset(m, 0, sizeof(*m));
	r = sc_read_file(path, SC_MODULE_MAX, &m->buf, &m->len);
	if (r < 0) {
		sc_error_set(err, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	r = sc_modinfo_parse(m->buf, m->len, &mi, err);
	if (r < 0) {
		sc_error_prefix(err, "%s is not a kernel module", path);
		sc_run_module_clear(m);
		return r;
	}
	snprintf(m->name, sizeof(m->name), "%s", sc_modinfo_name(mi));
	sc_modinfo_free(mi);
	return 0;
}

void sc_run_module_clear(struct sc_run_module *m)
{
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

/*
 * The line filter in front of the caller's: the stage script's stdout line
 * (stapcache-kernel or stapcache-ok), and stderr until then, are ours; after
 * a good stapcache-ok, every line is the run's.
 */
struct gate {
	sc_ssh_line_fn fn;
	void *ud;
	const struct sc_run_req *rq; /* told SC_PHASE_RUN when the gate opens */
	bool open; /* the module is there, whole: what follows is the run's */
	char kernel[128];
	char dir[512];
	char errs[900];
	char run_id[96]; /* --detach: what the target said */
};

/* Is the line the stage script's (taken into g) rather than the run's? */
static bool gate_take(struct gate *g, int is_stderr, const char *line, size_t len)
{
	size_t n = strlen(g->errs);

	if (g->open) { /* the run's, but for a detached run's id */
		if (is_stderr || !g->rq || !g->rq->detach || len <= 19 ||
		    len >= 19 + sizeof(g->run_id) ||
		    strncmp(line, "stapcache-detached ", 19))
			return false;
		snprintf(g->run_id, sizeof(g->run_id), "%.*s", (int)len - 19, line + 19);
	} else if (is_stderr) {
		snprintf(g->errs + n, sizeof(g->errs) - n, "%s%.*s", n ? "; " : "",
			 (int)len, line);
	} else if (len > 17 && !strncmp(line, "stapcache-kernel ", 17)) {
		snprintf(g->kernel, sizeof(g->kernel), "%.*s", (int)len - 17, line + 17);
	} else if (len > 13 && !strncmp(line, "stapcache-ok ", 13)) {
		snprintf(g->dir, sizeof(g->dir), "%.*s", (int)(len - 13), line + 13);
		g->open = true;
		if (g->rq)
			tell(g->rq, g->ud, SC_PHASE_RUN);
	} else {
		return false;
	}
	return true;
}

static void gate_line(void *ud, int is_stderr, const char *line, size_t len)
{
	struct gate *g = ud;

	if (!gate_take(g, is_stderr, line, len))
		g->fn(g->ud, is_stderr, line, len);
}

/* What the stage script said, as an error: 0 when the module is in place. */
static int gate_verdict(const struct gate *g, const struct sc_target *t, int status,
			struct sc_ssh_stop *stop, struct sc_run_result *res,
			struct sc_error *err)
{
	if (g->kernel[0]) {
		sc_error_set(err,
			     "refused: it runs kernel %s now, but known_hosts (%s) says "
			     "%s; a module built for %s would not load. Update the entry: "
			     "stapcache host refresh %s",
			     g->kernel, t->origin, t->kernel, t->kernel, t->name);
		return fail(res, SC_PHASE_KERNEL, -ESTALE, err);
	}
	if (g->open)
		return 0;
	if (stop && stop->level)
		sc_error_set(err, "interrupted before the run");
	else
		sc_error_set(err,
			     "cannot make a private temp dir (mktemp -d) and store the "
			     "module in it (dd) there (status %d): %s",
			     status, g->errs[0] ? g->errs : "(no message)");
	return fail(res, SC_PHASE_PREPARE, stop && stop->level ? -EINTR : -EIO, err);
}

/*
 * The sudo runner, on a PTY, its password prompt answered from rq->sudo. A
 * prompt that cannot be answered, or a second one (the answer was wrong),
 * fails this target with what to do about it.
 */
static int run_sudo(struct sc_ssh *s, const struct sc_target *t, const char *cmd,
		    const struct sc_run_req *rq, sc_ssh_line_fn fn, void *ud,
		    struct sc_ssh_stop *stop, struct sc_run_result *res,
		    struct sc_error *err)
{
	struct sc_ssh_prompt pr = {.marker = rq->sudo ? rq->sudo->marker
						      : "[sudo] password: ",
				   .answer = sudo_answer,
				   .ud = rq->sudo};
	int r;

	if (!rq->sudo)
		pr.answer = NULL;
	r = sc_ssh_stream_pty(s, cmd, &pr, fn, ud, stop, rq->grace, &res->status, err);
	if (r < 0)
		return r;
	if (pr.refused) {
		sc_error_set(err,
			     "sudo there needs a password, and there is no terminal here "
			     "to ask it on (stdin and stderr must be one). Either let %s run "
			     "staprun without one (sudoers: %s ALL=(root) NOPASSWD: "
			     "/usr/bin/staprun) or use the auth runner (execute: ...:auth, with "
			     "staprun-auth on the target)",
			     t->ex.user ? t->ex.user : "the login",
			     t->ex.user ? t->ex.user : "USER");
		return -EACCES;
	}
	if (pr.seen > 1) {
		sc_error_set(err,
			     "sudo there did not accept the password; nothing was run");
		return -EACCES;
	}
	return 0;
}

/* Stage the module, then the sudo runner on a PTY: two channels. */
static int stage_then_sudo(struct sc_ssh *s, const struct sc_target *t,
			   const struct sc_run_module *m, const struct sc_run_req *rq,
			   sc_ssh_line_fn fn, void *ud, struct sc_ssh_stop *stop,
			   struct sc_run_result *res, struct sc_error *err)
{
	struct gate g = {.fn = fn, .ud = ud}; /* the run is the second channel */
	char *stage = stage_script(t->kernel, m->name, m->len, upload_quiet_s(rq), false);
	char *cmd = sc_strdupf("%sexit 0", stage);
	int st = 255, r;

	free(stage);
	r = sc_ssh_stream_in(s, cmd, m->buf, m->len, NULL, gate_line, &g, stop, rq->grace,
			     &st, err);
	free(cmd);
	if (r < 0)
		return fail(res, SC_PHASE_UPLOAD, r, err);
	r = gate_verdict(&g, t, st, stop, res, err);
	if (r == 0 && stop && stop->level) {
		remove_dir(s, g.dir);
		sc_error_set(err, "interrupted before the run");
		r = fail(res, SC_PHASE_UPLOAD, -EINTR, err);
	}
	if (r < 0)
		return r;
	cmd = sc_run_wrapper(t->ex.runner, g.dir, m->name, rq);
	res->phase = SC_PHASE_RUN;
	tell(rq, ud, SC_PHASE_RUN);
	r = run_sudo(s, t, cmd, rq, fn, ud, stop, res, err);
	free(cmd);
	return r < 0 ? fail(res, SC_PHASE_RUN, r, err) : 0;
}

/*
 * Everything over one channel: the stage script and the wrapper in one
 * shell, the module on its stdin, which then stays open as the stop signal.
 */
static int stage_and_run(struct sc_ssh *s, const struct sc_target *t,
			 const struct sc_run_module *m, const struct sc_run_req *rq,
			 sc_ssh_line_fn fn, void *ud, struct sc_ssh_stop *stop,
			 struct sc_run_result *res, struct sc_error *err)
{
	struct gate g = {.fn = fn, .ud = ud, .rq = rq};
	char *stage =
		stage_script(t->kernel, m->name, m->len, upload_quiet_s(rq), !rq->detach);
	char *body = rq->detach ? detach_launcher(m->name, rq)
				: wrapper_body(t->ex.runner, m->name, rq);
	char *cmd = sc_strdupf("%s%s", stage, body);
	int st = 255, r;

	free(stage);
	free(body);
	r = sc_ssh_stream_in(s, cmd, m->buf, m->len, NULL, gate_line, &g, stop, rq->grace,
			     &st, err);
	free(cmd);
	if (r < 0)
		return fail(res, g.open ? SC_PHASE_RUN : SC_PHASE_UPLOAD, r, err);
	r = gate_verdict(&g, t, st, stop, res, err);
	if (r < 0)
		return r;
	res->status = st;
	if (rq->detach && st == 0 && !sc_run_id_ok(g.run_id, (char[64]){0}, 64)) {
		sc_error_set(err, "the target started the run but did not say its id");
		return fail(res, SC_PHASE_RUN, -EIO, err);
	}
	snprintf(res->run_id, sizeof(res->run_id), "%s", g.run_id);
	return 0;
}

int sc_run_target(const struct sc_target *t, const struct sc_run_module *m,
		  const struct sc_run_req *rq, sc_ssh_line_fn fn, void *ud,
		  struct sc_ssh_stop *stop, struct sc_run_result *res)
{
	struct sc_ssh_opts o = rq->ssh;
	struct sc_error err = {{0}};
	struct sc_ssh *s = NULL;
	double t0 = now();
	int r;

	memset(res, 0, sizeof(*res));
	res->status = 255;
	o.name = t->name;
	tell(rq, ud, SC_PHASE_CONNECT);
	r = sc_ssh_connect(&t->ex, &o, &s, &err);
	if (r == 0) /* the stage script: kernel check, private dir, upload */
		tell(rq, ud, SC_PHASE_UPLOAD);
	if (r < 0)
		fail(res, SC_PHASE_CONNECT, r, &err);
	else if (rq->detach && t->ex.runner != SC_RUNNER_AUTH) {
		sc_error_set(&err, "--detach needs the auth runner there (execute: "
				   "...:auth): its root-side watchdog unloads the module "
				   "whoever ends the run");
		r = fail(res, SC_PHASE_CONNECT, -EINVAL, &err);
	} else if (t->ex.runner == SC_RUNNER_SUDO)
		r = stage_then_sudo(s, t, m, rq, fn, ud, stop, res, &err);
	else
		r = stage_and_run(s, t, m, rq, fn, ud, stop, res, &err);
	if (r == 0)
		res->phase = SC_PHASE_DONE;
	res->seconds = now() - t0;
	sc_ssh_free(s);
	return r;
}
