#!/bin/bash
# A one-node, one-replica OpenStack Swift with its S3 layer (s3api + tempauth), for running the
# S3 tests against a second implementation. Every server listens on 127.0.0.1 only and all
# state lives under DIR. The S3 access key is "test:tester"; the secret comes from S3_SECRET_KEY.
#
#   swift.sh start DIR PROXY_PORT OBJECT_PORT CONTAINER_PORT ACCOUNT_PORT
#   swift.sh stop DIR
set -euo pipefail

fail() {
  echo "swift.sh: $*" >&2
  exit 1
}

# The ring and config of one storage server (account, container or object).
write_server() { # dir kind port
  local dir=$1 kind=$2 port=$3
  (
    cd "$dir/etc"
    swift-ring-builder "$kind.builder" create 8 1 1 >/dev/null
    swift-ring-builder "$kind.builder" add "r1z1-127.0.0.1:$port/d1" 1 >/dev/null
    swift-ring-builder "$kind.builder" rebalance >/dev/null
  )
  cat >"$dir/etc/$kind-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
workers = 1
user = $(id -un)
devices = $dir/srv
mount_check = false
swift_dir = $dir/etc
log_level = WARNING

[pipeline:main]
pipeline = $kind-server

[app:$kind-server]
use = egg:swift#$kind
EOF
}

write_proxy() { # dir port secret
  local dir=$1 port=$2 secret=$3
  cat >"$dir/etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
workers = 1
user = $(id -un)
swift_dir = $dir/etc
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $secret .admin

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
# No memcached runs; the cache filter works without one, only slower.
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:1
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
}

answers() { # url
  curl -s -o /dev/null "$1"
}

start() { # dir proxy object container account
  local dir=$1 proxy=$2
  [ -n "${S3_SECRET_KEY:-}" ] || fail "set S3_SECRET_KEY"
  mkdir -p "$dir"/{etc,srv/d1,log,run}
  # swift.conf holds the hash prefix and suffix; the Debian package ships /etc/swift/swift.conf.
  cp /etc/swift/swift.conf "$dir/etc/swift.conf" || fail "no /etc/swift/swift.conf: install swift"
  write_server "$dir" object "$3"
  write_server "$dir" container "$4"
  write_server "$dir" account "$5"
  write_proxy "$dir" "$proxy" "$S3_SECRET_KEY"
  for kind in account container object proxy; do
    # setsid: each server leads its own session, so that stop can reach its workers too.
    setsid "swift-$kind-server" "$dir/etc/$kind-server.conf" -v >"$dir/log/$kind.log" 2>&1 \
      </dev/null &
    echo $! >"$dir/run/$kind.pid"
  done
  local port
  for port in "$proxy/healthcheck" "$3/" "$4/" "$5/"; do
    for _ in $(seq 600); do
      answers "http://127.0.0.1:$port" && continue 2
      sleep 0.1
    done
    fail "nothing answered on 127.0.0.1:$port in 60 s"
  done
}

# Stops each server's process group: SIGTERM, then SIGKILL after 10 s.
stop() { # dir
  local kind pid
  for kind in proxy object container account; do
    [ -f "$1/run/$kind.pid" ] || continue
    pid=$(cat "$1/run/$kind.pid")
    grep -q "swift-$kind-server" "/proc/$pid/cmdline" 2>/dev/null || continue
    kill -- "-$pid" 2>/dev/null || continue
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || continue 2
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}

case "${1:-}" in
  start)
    [ $# -eq 6 ] || fail "usage: swift.sh start DIR PROXY_PORT OBJECT_PORT CONTAINER_PORT ACCOUNT_PORT"
    start "$2" "$3" "$4" "$5" "$6"
    ;;
  stop)
    [ $# -eq 2 ] || fail "usage: swift.sh stop DIR"
    stop "$2"
    ;;
  *) fail "usage: swift.sh start DIR PROXY_PORT OBJECT_PORT CONTAINER_PORT ACCOUNT_PORT | swift.sh stop DIR" ;;
esac
