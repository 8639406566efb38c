#!/bin/bash
# rediss:// (issue 10): the shared cache on a real redis-server speaking TLS
# on a loopback port, with a throwaway CA and server certificate made here
# by openssl. A fake stap (shared-lib.sh) stands in for the compiler: this is
# about the transport (verified TLS, AUTH, the same GET/SET), not the module.
. "$top_srcdir/tests/lib/testlib.sh"
. "$top_srcdir/tests/lib/shared-lib.sh"
require_stap
HELPER=$top_builddir/stapcache/stapcache-store
[ -x "$HELPER" ] || skip_all "stapcache-store is not built"
command -v redis-server >/dev/null 2>&1 ||
	skip_all "redis-server is not installed (apt-get install redis-server)"
command -v openssl >/dev/null 2>&1 || skip_all "openssl is not installed (apt-get install openssl)"

# mkca NAME: a self-signed CA in $T/NAME-ca.{key,pem}; mkcert CA: a server
# certificate for localhost and 127.0.0.1 signed by it, in $T/CA-srv.{key,pem}.
mkca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=stapcache test $1" \
		-keyout "$T/$1-ca.key" -out "$T/$1-ca.pem" 2>/dev/null
}
mkcert() {
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
		-keyout "$T/$1-srv.key" -out "$T/$1-srv.csr" 2>/dev/null &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$T/$1-ext" &&
		openssl x509 -req -in "$T/$1-srv.csr" -CA "$T/$1-ca.pem" -CAkey "$T/$1-ca.key" \
			-CAcreateserial -days 2 -extfile "$T/$1-ext" -out "$T/$1-srv.pem" 2>/dev/null
}
# start_tls_redis CA [requirepass PW]: redis-server with TLS only; sets TPORT.
start_tls_redis() {
	local ca=$1; shift
	TPORT=$(free_port)
	mkdir -p "$T/r-$ca"
	redis-server --port 0 --tls-port "$TPORT" --bind '127.0.0.1 127.0.0.2' --save '' \
		--appendonly no --dir "$T/r-$ca" --tls-cert-file "$T/$ca-srv.pem" \
		--tls-key-file "$T/$ca-srv.key" --tls-ca-cert-file "$T/$ca-ca.pem" \
		--tls-auth-clients no ${1:+--"$1" "$2"} > "$T/r-$ca/log" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	wait_port "$TPORT"
}
rcli() {  # rcli CA ARGS...: redis-cli over TLS to $TPORT
	local ca=$1; shift
	redis-cli --tls --cacert "$T/$ca-ca.pem" -h 127.0.0.1 -p "$TPORT" "$@"
}

mkca good && mkcert good && mkca evil && mkcert evil
ok $? "a throwaway CA and server certificates (localhost, 127.0.0.1)"
fake_stap
for m in a b c p; do machine "$m"; done
script='probe begin { printf("over tls\n") exit() }'

# ------------------------------------------------------------ trusted server
start_tls_redis good || skip_all "redis-server did not start with TLS: $(tail -n 3 "$T/r-good/log")"
is "$(rcli good ping)" PONG "a private redis-server answers over TLS on 127.0.0.1:$TPORT"
for m in a b; do
	config "$m" "rediss://127.0.0.1:$TPORT" a b
	conf "$m" "shared-ca-file: $T/good-ca.pem"
done
pa=$(on a -p4 -r "$KREL" -e "$script" 2>"$T/a.err")
ok $? "machine A builds"
is "$(runs)" 1 "stap ran once on A"
is "$(stat_of a 'shared uploads')" 1 "A uploaded its entry over rediss://"
is "$(rcli good --scan --pattern 'stapcache:entry:*' | wc -l | tr -d ' ')" 1 "the entry is in redis"
pb=$(on b -v -p4 -r "$KREL" -e "$script" 2>"$T/b.err")
ok $? "machine B answers the request"
like "$(cat "$T/b.err")" "shared cache hit" "B's answer is a shared hit over rediss://"
is "$(runs)" 1 "B ran no stap"
is "$(sha256sum < "$pb")" "$(sha256sum < "$pa")" "B has A's module, byte for byte"

# The build lease over rediss://: 4 machines missing one cold key at once.
for m in l1 l2 l3 l4; do machine "$m"; done
for m in l1 l2 l3 l4; do
	config "$m" "rediss://127.0.0.1:$TPORT" l1 l2 l3 l4
	conf "$m" "shared-ca-file: $T/good-ca.pem"
done
distinct=$(stampede 'probe begin { printf("stampede over tls\n") exit() }' l1 l2 l3 l4)
is "$(runs)" 1 "4 machines missing one cold key at once over rediss://: stap ran once"
is "$distinct" 1 "all 4 got the same module"

# The host name is checked too: localhost is in the certificate, so it passes.
config c "rediss://localhost:$TPORT" a
conf c "shared-ca-file: $T/good-ca.pem"
on c -v -p4 -r "$KREL" -e "$script" >/dev/null 2>"$T/c.err"
like "$(cat "$T/c.err")" "shared cache hit" "rediss://localhost: the name in the certificate matches"

# ------------------------------------------------------------ untrusted server
# Without shared-ca-file: only the system CAs, which never signed this one.
rm -rf "$T/c"; machine c; config c "rediss://127.0.0.1:$TPORT" a
before=$(runs)
pc=$(on c -p4 -r "$KREL" -e "$script" 2>"$T/c.err")
ok $? "an untrusted certificate: the request still succeeds"
is "$(runs)" $((before + 1)) "C built it locally"
is "$(cat "$pc")" "fake module $(basename "$pc" .ko)" "the module is C's local build"
is "$(grep -c "shared cache" "$T/c.err")" 1 "one warning line about the store"
like "$(cat "$T/c.err")" "shared cache rediss://127\.0\.0\.1:$TPORT: .*certificate.*not accepted" \
	"the warning says the certificate was not accepted"
is "$(stat_of c 'shared hits')" 0 "no shared hit from a server whose certificate is refused"

# A certificate from the trusted CA for another name is refused as well
# (the server listens on 127.0.0.2 too; its certificate names 127.0.0.1).
rm -rf "$T/c"; machine c; config c "rediss://127.0.0.2:$TPORT" a
conf c "shared-ca-file: $T/good-ca.pem"
before=$(runs)
on c -p4 -r "$KREL" -e "$script" >/dev/null 2>"$T/c.err"
like "$(cat "$T/c.err")" "not accepted: .*mismatch" "a certificate not naming 127.0.0.2 is refused"
is "$(runs)" $((before + 1)) "and C built locally"

# ------------------------------------------------------------ password
start_tls_redis evil requirepass sekret-pw || skip_all "second redis-server did not start"
config p "rediss://:sekret-pw@127.0.0.1:$TPORT/0" p
conf p "shared-ca-file: $T/evil-ca.pem"
on p -p4 -r "$KREL" -e "$script" >/dev/null 2>"$T/p.err"
ok $? "rediss:// with a password in the URL builds"
is "$(stat_of p 'shared uploads')" 1 "and uploads after AUTH"
is "$(rcli evil -a sekret-pw --no-auth-warning --scan --pattern 'stapcache:entry:*' | wc -l | tr -d ' ')" 1 \
	"the entry is in the password-protected redis"
rm -rf "$T/p/cache"
on p -v -p4 -r "$KREL" -e "$script" >/dev/null 2>"$T/p.err"
like "$(cat "$T/p.err")" "shared cache hit" "and a fresh cache gets it back: a shared hit"
config p "rediss://:wrong@127.0.0.1:$TPORT/0" p
conf p "shared-ca-file: $T/evil-ca.pem"
rm -rf "$T/p/cache"
on p -p4 -r "$KREL" -e "$script" >/dev/null 2>"$T/p.err"
ok $? "a wrong password: still a local build"
like "$(cat "$T/p.err")" "shared cache rediss://\.\.\.@127\.0\.0\.1:$TPORT/0: .*auth" \
	"one warning, without the password"
! grep -q wrong "$T/p.err"
ok $? "the password is not printed"

done_testing
