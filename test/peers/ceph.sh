#!/bin/bash
# A one-node Ceph cluster that serves S3 for the tests: one monitor, one OSD that keeps objects
# in memory, and radosgw. cephx is off, every daemon listens on 127.0.0.1 only, and all state
# lives under DIR. The daemons fork into the background and leave pid files in DIR/run.
#
#   ceph.sh start DIR RGW_PORT MON_PORT   S3 keys come from S3_ACCESS_KEY and S3_SECRET_KEY
#   ceph.sh stop DIR
set -euo pipefail

fail() {
  echo "ceph.sh: $*" >&2
  exit 1
}

# The ini file every daemon and client reads. Values that differ from Ceph's defaults say why.
write_conf() { # dir rgw_port mon_port fsid
  local dir=$1 rgw_port=$2 mon_port=$3 fsid=$4
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
pid_file = $dir/run/\$name.pid
log_file = $dir/log/\$name.log
# No cephx: nothing but loopback can reach these daemons.
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
# One OSD holds every replica, so pools must accept a size of one.
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
# A tmpfs-backed /tmp may look almost full to the monitor.
mon_data_avail_warn = 1

[mon]
# radosgw creates its pools one monitor proposal at a time; the 1 s default makes that slow.
paxos_propose_interval = 0.05
paxos_min_wait = 0.01

[mon.a]
mon_data = $dir/mon-a

[osd.0]
osd_data = $dir/osd-0
osd_objectstore = memstore
memstore_device_bytes = 4294967296

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw_data = $dir/rgw
# radosgw asks for secure monitor sessions by default, which cannot work without cephx.
ms_mon_client_mode = crc
EOF
}

# Runs "$@" until it succeeds, every 0.2 s, at most $1 times.
retry() {
  local tries=$1
  shift
  until "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.2
  done
}

rgw_answers() {
  curl -s -o /dev/null "http://127.0.0.1:$1/"
}

start() { # dir rgw_port mon_port
  local dir=$1 rgw_port=$2 mon_port=$3
  [ -n "${S3_ACCESS_KEY:-}" ] && [ -n "${S3_SECRET_KEY:-}" ] || fail "set S3_ACCESS_KEY and S3_SECRET_KEY"
  mkdir -p "$dir"/{mon-a,osd-0,run,log,rgw}
  local fsid conf=(-c "$dir/ceph.conf")
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$dir" "$rgw_port" "$mon_port" "$fsid"

  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" \
    "$dir/monmap" >/dev/null
  ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' \
    >/dev/null
  ceph-mon "${conf[@]}" -i a --mkfs --monmap "$dir/monmap" --keyring "$dir/mon.keyring" \
    >>"$dir/log/setup.log" 2>&1
  ceph-mon "${conf[@]}" -i a >>"$dir/log/setup.log" 2>&1 </dev/null

  local osd_uuid osd_id
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(ceph "${conf[@]}" --connect-timeout 30 osd new "$osd_uuid")
  [ "$osd_id" = 0 ] || fail "the monitor gave OSD id '$osd_id', expected 0"
  ceph-osd "${conf[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$dir/log/setup.log" 2>&1
  ceph-osd "${conf[@]}" -i 0 >>"$dir/log/setup.log" 2>&1 </dev/null

  # radosgw waits for the OSD by itself, and only listens once its pools exist.
  radosgw "${conf[@]}" -n client.rgw.a >>"$dir/log/setup.log" 2>&1 </dev/null
  retry 300 rgw_answers "$rgw_port" || fail "radosgw did not answer on 127.0.0.1:$rgw_port in 60 s"

  # The user's keys are not echoed: radosgw-admin prints them, so its output is dropped.
  radosgw-admin "${conf[@]}" user create --uid=regtool-test --display-name='regtool tests' \
    --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >/dev/null
}

# True while the process runs; a zombie counts as gone, as init may be slow to reap it.
running() { # pid
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Sends SIGTERM to daemon $2 if its pid file still points at a $3 process (not a reused pid),
# and waits up to 10 s before SIGKILL.
stop_daemon() { # dir name command
  local pid_file="$1/run/$2.pid" pid cmdline
  [ -f "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
  [[ $cmdline == *"$3"* ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    running "$pid" || return 0
    sleep 0.1
  done
  echo "ceph.sh: $2 (pid $pid) ignored SIGTERM; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# radosgw hangs on exit if the OSD or the monitor goes first, hence this order.
stop() { # dir
  stop_daemon "$1" client.rgw.a radosgw
  stop_daemon "$1" osd.0 ceph-osd
  stop_daemon "$1" mon.a ceph-mon
}

case "${1:-}" in
  start)
    [ $# -eq 4 ] || fail "usage: ceph.sh start DIR RGW_PORT MON_PORT"
    start "$2" "$3" "$4"
    ;;
  stop)
    [ $# -eq 2 ] || fail "usage: ceph.sh stop DIR"
    stop "$2"
    ;;
  *) fail "usage: ceph.sh start DIR RGW_PORT MON_PORT | ceph.sh stop DIR" ;;
esac
