# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the shared-cache tests (issue 10), sourced after tests/lib/testlib.sh:
# "machines" (each its own HOME, cache, config dir and builder key), a fake
# stap for the protocol checks, and real stores started here on loopback
# (nginx with a WebDAV location, redis-server) or misbehaving listeners.

# fake_stap: $T/bin/stap, a fake stap for protocol tests (who builds, what is
# served, what is refused; not the module): -V answers, a build writes
# NAME.ko holding "fake module NAME". It counts its runs in $T/stap-runs;
# FAKE_STAP_SLEEP=S makes a build take S seconds.
fake_stap() {
	mkdir -p "$T/bin"
	cat > "$T/bin/stap" <<FAKE
#!/bin/sh
case " \$* " in *" -V "*) echo 'Systemtap translator/driver (version 4.8/fake)'; exit 0 ;; esac
echo "\$\$" >> "$T/stap-runs"
[ -n "\${FAKE_STAP_SLEEP:-}" ] && sleep "\$FAKE_STAP_SLEEP"
while [ \$# -gt 0 ]; do [ "\$1" = -m ] && name=\$2; shift; done
printf 'fake module %s\n' "\$name" > "\$name.ko"
FAKE
	chmod +x "$T/bin/stap"
	: > "$T/stap-runs"
}
runs() { wc -l < "$T/stap-runs" | tr -d ' '; }

# machine NAME: its own HOME, cache, config dir and builder key ($T/NAME/pub).
machine() {
	local m=$1
	mkdir -p "$T/$m/config/stapcache"
	HOME=$T/$m/home XDG_CACHE_HOME=$T/$m/cache XDG_CONFIG_HOME=$T/$m/config \
		"$STAPCACHE" key generate 2>/dev/null > "$T/$m/pub"
}
# config NAME STORE-URL TRUSTED-MACHINE...: its config.yaml, with the stap in
# $SHARED_STAP (default: the fake one); add lines with `conf NAME LINE`.
config() {
	local m=$1 url=$2; shift 2
	{
		echo "stap: ${SHARED_STAP:-$T/bin/stap}"
		echo "runtime: $RUNTIME"
		echo "shared-cache: $url"
		echo "shared-wait: 30"
		echo "trusted-builders:"
		for t in "$@"; do echo "  - $(cat "$T/$t/pub")"; done
	} > "$T/$m/config/stapcache/config.yaml"
}
conf() { echo "$2" >> "$T/$1/config/stapcache/config.yaml"; }
on() {  # on MACHINE stapcache ARGS...
	local m=$1; shift
	HOME=$T/$m/home XDG_CACHE_HOME=$T/$m/cache XDG_CONFIG_HOME=$T/$m/config \
		STAPCACHE_CONFIG=$T/$m/config/stapcache/config.yaml "$STAPCACHE" "$@"
}
on_bg() {  # the same, exec'd: $! is stapcache itself
	local m=$1; shift
	HOME=$T/$m/home XDG_CACHE_HOME=$T/$m/cache XDG_CONFIG_HOME=$T/$m/config \
		STAPCACHE_CONFIG=$T/$m/config/stapcache/config.yaml exec "$STAPCACHE" "$@"
}
stat_of() { on "$1" cache stats | sed -n "s/^$2  *//p"; }  # stat_of MACHINE 'shared rejects'
# stampede SCRIPT MACHINE...: every machine asks for SCRIPT's module at once,
# each build taking 2 s (the fake stap); prints how many distinct modules
# they got. $T/stap-runs then counts the builds (runs).
stampede() {
	local script=$1 m pids=(); shift
	: > "$T/stap-runs"
	for m in "$@"; do
		FAKE_STAP_SLEEP=2 on "$m" -p4 -r "$KREL" -e "$script" > "$T/$m.out" 2>"$T/$m.err" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for m in "$@"; do sha256sum < "$(cat "$T/$m.out")"; done | sort -u | wc -l | tr -d ' '
}

wait_port() {  # wait_port PORT: until something accepts there (300 s at most)
	for _ in $(seq 3000); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }  # ms_since START-NS

# start_nginx: a real nginx on a free loopback port with its own prefix and
# config in $T/nginx (never /etc/nginx), in the foreground as this user.
# Sets NGINX_PORT and NGINX_PID. Locations:
#   /cache/  WebDAV (PUT DELETE MOVE, create_full_put_path), files in $T/nginx/www
#   /token/  the same, only with "Authorization: Bearer s3cret"
#   /basic/  the same, only with basic auth stapcache:pw
#   /broken/ answers every request with 500
#   /sample/ etc/nginx-stapcache.conf as shipped, paths moved into $T/nginx
# and on NGINX_TLS_PORT, https with a self-signed certificate: /cache/ again.
start_nginx() {
	local d=$T/nginx
	command -v nginx >/dev/null 2>&1 || return 1
	mkdir -p "$d/www" "$d/body"
	NGINX_PORT=$(free_port) NGINX_TLS_PORT=$(free_port)
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-keyout "$d/tls.key" -out "$d/tls.crt" >/dev/null 2>&1 || return 1
	printf 'stapcache:%s\n' "$(openssl passwd -apr1 pw)" > "$d/htpasswd"
	sed -e 's|location /stapcache/|location /sample/|' -e "s|root /srv/www;|root $d/www;|" \
		-e "s|/srv/www/.tmp|$d/body|" -e "s|/etc/nginx/stapcache.htpasswd|$d/htpasswd|" \
		"$top_srcdir/etc/nginx-stapcache.conf" > "$d/sample.conf"
	cat > "$d/nginx.conf" <<CONF
daemon off;
master_process off;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 128; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/body;
	proxy_temp_path $d/body; fastcgi_temp_path $d/body;
	uwsgi_temp_path $d/body; scgi_temp_path $d/body;
	client_max_body_size 64m;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		root $d/www;
		location /cache/ {
			dav_methods PUT DELETE MOVE;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
		}
		location /token/ {
			if (\$http_authorization != "Bearer s3cret") { return 401; }
			dav_methods PUT DELETE MOVE;
			create_full_put_path on;
		}
		location /basic/ {
			auth_basic stapcache;
			auth_basic_user_file $d/htpasswd;
			dav_methods PUT DELETE MOVE;
			create_full_put_path on;
		}
		location /broken/ { return 500; }
		include $d/sample.conf;
	}
	server {
		listen 127.0.0.1:$NGINX_TLS_PORT ssl;
		ssl_certificate $d/tls.crt;
		ssl_certificate_key $d/tls.key;
		root $d/www;
		location /cache/ { dav_methods PUT DELETE MOVE; create_full_put_path on; }
	}
}
CONF
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" &
	NGINX_PID=$!
	at_exit "kill $NGINX_PID 2>/dev/null"
	wait_port "$NGINX_PORT" && wait_port "$NGINX_TLS_PORT"
}
stop_nginx() { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; }

# start_listener hang|garbage|drip: a TCP server on a free port that accepts
# and never answers, or answers every connection with bytes that are neither
# HTTP nor RESP and closes, or answers a request with the start of a long
# RESP bulk string and then one byte every 0.2 s (under any read timeout,
# never done). Prints the port.
start_listener() {
	local f=$T/listener-$1.port
	python3 -c '
import socket, sys, threading, time
mode = sys.argv[1]
def drip(c):
    try:
        c.recv(65536); c.sendall(b"$1000000\r\n")
        while True:
            time.sleep(0.2); c.sendall(b"x")
    except OSError:
        pass
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1]); sys.stdout.flush()
held = []
end = time.time() + 300
while time.time() < end:
    c, _ = s.accept()
    if mode == "garbage":
        try:
            c.recv(65536); c.sendall(b"\x00\xffNOT A PROTOCOL\x01\r\n\r\n" * 4)
        except OSError:
            pass
        c.close()
    elif mode == "drip":
        threading.Thread(target=drip, args=(c,), daemon=True).start()
    else:
        held.append(c)
' "$1" > "$f" &
	at_exit "kill $! 2>/dev/null"
	for _ in $(seq 3000); do [ -s "$f" ] && break; sleep 0.1; done
	cat "$f"
}

# start_redis: a private redis-server on a free loopback port, no
# persistence. Sets REDIS_PORT and REDIS_PID.
start_redis() {
	command -v redis-server >/dev/null 2>&1 || return 1
	REDIS_PORT=$(free_port)
	mkdir -p "$T/redis"
	printf 'port %s\nbind 127.0.0.1\nsave ""\nappendonly no\ndir %s\ndaemonize no\n' \
		"$REDIS_PORT" "$T/redis" > "$T/redis/redis.conf"
	redis-server "$T/redis/redis.conf" > "$T/redis/log" 2>&1 &
	REDIS_PID=$!
	at_exit "kill $REDIS_PID 2>/dev/null"
	for _ in $(seq 3000); do
		redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	return 1
}
