#!/usr/bin/env bash
# Local Kafka (KRaft, single node), RabbitMQ and Redis on 127.0.0.1 for development and CI.
#
#   scripts/services.sh up [NAME...]        install if needed, start, wait until serving
#   scripts/services.sh down [NAME...]      stop
#   scripts/services.sh restart [NAME...]   stop + start (data kept), wait until serving
#   scripts/services.sh status [NAME...]    one line per server; exit 1 if any is down
#   scripts/services.sh kill [NAME...]      fault injection: SIGKILL the server (no clean shutdown),
#                                           wait until the process is gone and its ports are closed
#   scripts/services.sh pause [NAME...]     fault injection: SIGSTOP the server (its sockets stay open,
#                                           nothing is answered), wait until it is stopped
#   scripts/services.sh resume [NAME...]    SIGCONT a paused server, wait until serving
#   scripts/services.sh pid NAME            print the server's pid (nothing when it is down)
#   scripts/services.sh kafka-class CLASS [ARGS...]
#                                           run a Kafka CLI class with the fetched jars, e.g.
#                                           kafka.tools.ConsoleProducer, org.apache.kafka.tools.TopicCommand,
#                                           org.apache.kafka.tools.consumer.ConsoleConsumer
#
# NAME is kafka | rabbitmq | redis (none = all three).
#   kafka     PLAINTEXT 127.0.0.1:9092, controller 127.0.0.1:9093   (Maven Central jars, Kafka 3.9)
#   rabbitmq  AMQP 127.0.0.1:5672, guest/guest, node rabbit@localhost (Debian package)
#   redis     127.0.0.1:6379, no persistence                         (Debian package)
#
# All state (jars, data, logs, pid files) lives in <repo>/.services/ (git-ignored by its own
# .gitignore). Support files (pom.xml, configs) live in scripts/services/.
set -euo pipefail

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
SCRIPTS_DIR="$(dirname "$SCRIPT_PATH")"
REPO_ROOT="$(dirname "$SCRIPTS_DIR")"
SUPPORT_DIR="$SCRIPTS_DIR/services"
STATE_DIR="$REPO_ROOT/.services"

ALL_SERVICES=(kafka rabbitmq redis)

KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
RABBITMQ_PORT=5672
REDIS_PORT=6379

KAFKA_TIMEOUT=120
RABBITMQ_TIMEOUT=60
REDIS_TIMEOUT=60
STOP_TIMEOUT=60

KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_LIB="$KAFKA_DIR/lib"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_LOG="$KAFKA_LOGS/kafka.log"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster-id"
KAFKA_STAMP="$KAFKA_DIR/lib.stamp"
KAFKA_POM="$SUPPORT_DIR/kafka/pom.xml"
# Heap can be overridden, e.g. KAFKA_HEAP_OPTS="-Xms128m -Xmx384m".
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

RABBITMQ_DIR="$STATE_DIR/rabbitmq"
RABBITMQ_HOME_DIR="$RABBITMQ_DIR/home"
RABBITMQ_LOG_DIR="$RABBITMQ_DIR/log"
RABBITMQ_STARTUP_LOG="$RABBITMQ_LOG_DIR/startup.log"
RABBITMQ_PIDFILE="$RABBITMQ_DIR/rabbitmq.pid"
RABBITMQ_NODE="rabbit@localhost"
RABBITMQ_BIN=/usr/lib/rabbitmq/bin

REDIS_DIR="$STATE_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

log() { echo "services: $*"; }
die() { echo "services: error: $*" >&2; exit 1; }

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SCRIPT_PATH"
  exit "${1:-2}"
}

# ---------------------------------------------------------------- generic helpers

init_state_dir() {
  mkdir -p "$STATE_DIR"
  [ "$(cat "$STATE_DIR/.gitignore" 2>/dev/null || true)" = "*" ] || echo '*' >"$STATE_DIR/.gitignore"
}

# Serialize mutating commands (re-exec under flock; -o: started servers do not inherit the lock).
take_lock() {
  if [ -z "${SERVICES_SH_LOCKED:-}" ]; then
    init_state_dir
    export SERVICES_SH_LOCKED=1
    exec flock -o -w 900 "$STATE_DIR/.lock" bash "$SCRIPT_PATH" "$@"
  fi
  unset SERVICES_SH_LOCKED
}

# alive and not a zombie (daemons are re-parented to pid 1, which may reap them late)
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null || true)"
  stat="${stat##*) }"
  [ -n "$stat" ] && [ "${stat%% *}" != Z ]
}

read_pidfile() { [ -f "$1" ] && tr -dc '0-9' <"$1" 2>/dev/null || true; }

proc_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }
proc_comm() { cat "/proc/$1/comm" 2>/dev/null || true; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# pid of the process listening on TCP port $1 (any local address), or nothing.
port_owner() {
  local hexport inode
  hexport="$(printf '%04X' "$1")"
  inode="$(awk -v p="$hexport" 'FNR > 1 { n = split($2, a, ":"); if (a[n] == p && $4 == "0A") { print $10; exit } }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)"
  [ -n "$inode" ] && [ "$inode" != 0 ] || return 0
  { find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null || true; } | head -n 1 | cut -d/ -f3
}

# wait_ready NAME TIMEOUT CHECK_FN PID_FN : poll CHECK_FN until it succeeds; fail early if the
# process from PID_FN disappears, or on timeout (then print the log tail and exit 1).
wait_ready() {
  local name="$1" timeout="$2" check="$3" pidfn="$4" deadline=$((SECONDS + $2)) gone=0
  while :; do
    if "$check"; then return 0; fi
    if [ -z "$("$pidfn")" ]; then
      gone=$((gone + 1))
      # give a freshly forked/daemonizing process a moment to write its pid file
      if [ "$gone" -ge 6 ]; then
        log "$name: process exited during startup"
        show_logs "$name"
        exit 1
      fi
    else
      gone=0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name: not accepting connections after ${timeout}s"
      [ -z "${WAIT_HINT:-}" ] || log "$WAIT_HINT"
      show_logs "$name"
      exit 1
    fi
    sleep 0.5
  done
}

# stop_pid NAME PID : SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL.
wait_exit_or_kill() {
  local name="$1" pid="$2" deadline=$((SECONDS + STOP_TIMEOUT))
  while pid_alive "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name: pid $pid still running after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.3
  done
}

# Stops NAME by SIGTERM (then SIGKILL after a grace period) and forgets its pid file.
stop_by_signal() {
  local pid
  pid="$("${1}_pid")"
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_exit_or_kill "$1" "$pid"
  fi
  rm -f "$2"
}

show_logs() {
  local f
  for f in $("${1}_logfiles"); do
    [ -f "$f" ] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 40 "$f" >&2 || true
  done
}

# ---------------------------------------------------------------- packages

APT_UPDATED=0
POLICY_RC_CREATED=0

cleanup() {
  if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root to run: $*"
  fi
}

ensure_packages() {
  local p missing=()
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -gt 0 ] || return 0
  log "installing ${missing[*]} (apt)"
  local aptlog="$STATE_DIR/apt.log"
  # Keep the packages' init scripts from starting system-wide instances during install.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    POLICY_RC_CREATED=1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    as_root apt-get update -q >"$aptlog" 2>&1 || { tail -n 20 "$aptlog" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    >>"$aptlog" 2>&1 || { tail -n 30 "$aptlog" >&2; die "apt-get install ${missing[*]} failed"; }
  if [ "$POLICY_RC_CREATED" = 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}

kafka_packages() {
  command -v java >/dev/null 2>&1 || echo openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || echo maven
}
rabbitmq_packages() { echo rabbitmq-server; }
redis_packages() { echo redis-server redis-tools; }

# ---------------------------------------------------------------- kafka

kafka_logfiles() { echo "$KAFKA_LOG" "$KAFKA_LOGS/format.log"; }

kafka_java() {
  java -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$SUPPORT_DIR/kafka/tools-log4j.properties" \
    -cp "$KAFKA_LIB/*" "$@"
}

kafka_fetch() {
  local want
  want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  if [ -d "$KAFKA_LIB" ] && [ "$(cat "$KAFKA_STAMP" 2>/dev/null || true)" = "$want" ]; then
    return 0
  fi
  log "kafka: fetching jars from Maven Central"
  rm -rf "$KAFKA_LIB.tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" \
      -Dkafka.lib.dir="$KAFKA_LIB.tmp" dependency:copy-dependencies >"$KAFKA_DIR/maven.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$KAFKA_DIR/maven.log" | tail -n 40 >&2
    die "kafka: maven failed (full log: $KAFKA_DIR/maven.log)"
  fi
  ls "$KAFKA_LIB.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka: maven produced no kafka jar"
  rm -rf "$KAFKA_LIB"
  mv "$KAFKA_LIB.tmp" "$KAFKA_LIB"
  echo "$want" >"$KAFKA_STAMP"
}

kafka_prepare() {
  mkdir -p "$KAFKA_DIR" "$KAFKA_DATA" "$KAFKA_LOGS"
  kafka_fetch
  local rendered
  rendered="$(sed "s|@LOG_DIRS@|$KAFKA_DATA|g" "$SUPPORT_DIR/kafka/server.properties.template")"
  [ "$(cat "$KAFKA_PROPS" 2>/dev/null || true)" = "$rendered" ] || printf '%s\n' "$rendered" >"$KAFKA_PROPS"
  if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
    if [ ! -s "$KAFKA_CLUSTER_ID_FILE" ]; then
      kafka_java kafka.tools.StorageTool random-uuid 2>"$KAFKA_LOGS/format.log" | tr -d '[:space:]' \
        >"$KAFKA_CLUSTER_ID_FILE" || { show_logs kafka; die "kafka: could not generate a cluster id"; }
      [ -s "$KAFKA_CLUSTER_ID_FILE" ] || { show_logs kafka; die "kafka: could not generate a cluster id"; }
    fi
    log "kafka: formatting $KAFKA_DATA (cluster id $(cat "$KAFKA_CLUSTER_ID_FILE"))"
    kafka_java kafka.tools.StorageTool format -t "$(cat "$KAFKA_CLUSTER_ID_FILE")" -c "$KAFKA_PROPS" \
      >>"$KAFKA_LOGS/format.log" 2>&1 || { show_logs kafka; die "kafka: storage format failed"; }
  fi
}

kafka_is_kafka() { case "$(proc_cmdline "$1")" in *kafka.Kafka*) return 0 ;; esac; return 1; }

# pid of the running broker: ours (pid file) or whatever Kafka owns the client port.
kafka_pid() {
  local pid
  pid="$(read_pidfile "$KAFKA_PIDFILE")"
  if pid_alive "$pid" && kafka_is_kafka "$pid"; then echo "$pid"; return 0; fi
  pid="$(port_owner "$KAFKA_PORT")"
  if [ -z "$pid" ]; then pid="$(port_owner "$KAFKA_CONTROLLER_PORT")"; fi
  if [ -n "$pid" ] && kafka_is_kafka "$pid"; then echo "$pid"; fi
  return 0
}

# Sends printf-escaped REQUEST to 127.0.0.1:PORT and prints the first N bytes of the answer as
# hex pairs (empty on no answer within 3 s).
probe() {
  timeout 3 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$1"' || exit 1
    printf "'"$2"'" >&3
    head -c '"$3"' <&3 | od -An -v -tx1' 2>/dev/null
}

# Ready = the broker answers a Metadata (v1, all topics) request and lists at least one broker.
kafka_ready() {
  local out
  out="$(probe "$KAFKA_PORT" '\x00\x00\x00\x0e\x00\x03\x00\x01\x00\x00\x00\x2a\x00\x00\xff\xff\xff\xff' 12)" || return 1
  # shellcheck disable=SC2086
  set -- $out
  # size(4) correlation_id(4) = 42, broker count(4) > 0
  [ "$#" -eq 12 ] && [ "$5$6$7$8" = "0000002a" ] && [ "$9${10}${11}${12}" != "00000000" ]
}

kafka_start() {
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    [ -z "$(port_owner "$p")" ] || die "kafka: port $p is in use by pid $(port_owner "$p") ($(proc_comm "$(port_owner "$p")"))"
  done
  [ ! -f "$KAFKA_LOG" ] || mv -f "$KAFKA_LOG" "$KAFKA_LOG.1"
  # shellcheck disable=SC2086
  (
    cd "$KAFKA_DIR"
    exec setsid nohup java $KAFKA_HEAP_OPTS \
      -XX:MaxMetaspaceSize=160m -XX:MaxDirectMemorySize=128m -XX:ReservedCodeCacheSize=96m \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
      -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
      -Dlog4j.configuration="file:$SUPPORT_DIR/kafka/log4j.properties" \
      -Dkafka.logs.dir="$KAFKA_LOGS" \
      -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_PROPS" >"$KAFKA_LOG" 2>&1 </dev/null
  ) &
  echo "$!" >"$KAFKA_PIDFILE"
}

kafka_stop() { stop_by_signal kafka "$KAFKA_PIDFILE"; }

kafka_addr() { echo "127.0.0.1:$KAFKA_PORT"; }

# ---------------------------------------------------------------- rabbitmq

rabbitmq_logfiles() { echo "$RABBITMQ_STARTUP_LOG" "$RABBITMQ_LOG_DIR/$RABBITMQ_NODE.log"; }

RABBITMQ_ENV=(
  HOME="$RABBITMQ_HOME_DIR"
  ERL_CRASH_DUMP="$RABBITMQ_LOG_DIR/erl_crash.dump"
  RABBITMQ_NODENAME="$RABBITMQ_NODE"
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  RABBITMQ_NODE_PORT="$RABBITMQ_PORT"
  RABBITMQ_CONFIG_FILE="$SUPPORT_DIR/rabbitmq/rabbitmq.conf"
  RABBITMQ_MNESIA_BASE="$RABBITMQ_DIR/mnesia"
  RABBITMQ_LOG_BASE="$RABBITMQ_LOG_DIR"
  RABBITMQ_PID_FILE="$RABBITMQ_PIDFILE"
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  ERL_EPMD_ADDRESS=127.0.0.1
)

rabbitmqctl_() { env "${RABBITMQ_ENV[@]}" "$RABBITMQ_BIN/rabbitmqctl" "$@"; }

rabbitmq_prepare() {
  mkdir -p "$RABBITMQ_DIR" "$RABBITMQ_HOME_DIR" "$RABBITMQ_LOG_DIR" "$RABBITMQ_DIR/mnesia"
  # Same Erlang cookie as the packaged CLI (which runs as user rabbitmq with
  # HOME=/var/lib/rabbitmq), so a plain `rabbitmqctl ...` also reaches this node.
  local sys=/var/lib/rabbitmq/.erlang.cookie mine="$RABBITMQ_HOME_DIR/.erlang.cookie"
  if [ -r "$sys" ]; then
    if ! cmp -s "$sys" "$mine" 2>/dev/null; then
      rm -f "$mine"; cp "$sys" "$mine"; chmod 400 "$mine"
    fi
  elif [ ! -s "$mine" ]; then
    (umask 077; head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >"$mine")
    chmod 400 "$mine"
  fi
  # Let the packaged CLI find the node by default (rabbitmqctl reads NODENAME from here).
  local envconf=/etc/rabbitmq/rabbitmq-env.conf
  if [ -d /etc/rabbitmq ] && ! grep -qs '^NODENAME=' "$envconf"; then
    as_root sh -c "echo 'NODENAME=$RABBITMQ_NODE' >>'$envconf'" || true
  fi
}

rabbitmq_pid() {
  local pid
  pid="$(read_pidfile "$RABBITMQ_PIDFILE")"
  if pid_alive "$pid" && [ "$(proc_comm "$pid")" = beam.smp ]; then echo "$pid"; return 0; fi
  pid="$(port_owner "$RABBITMQ_PORT")"
  if [ -n "$pid" ] && [ "$(proc_comm "$pid")" = beam.smp ]; then echo "$pid"; fi
  return 0
}

# Ready = guest logs in: the AMQP listener answers a protocol header with Connection.Start, and
# Connection.StartOk (PLAIN guest/guest) with Connection.Tune (listeners open last in RabbitMQ's
# boot, after the default guest user exists). Connection.Start alone is not enough: a broker whose
# state directory was deleted under it (one started from a checkout since removed) still sends it,
# then drops every connection at the login.
rabbitmq_ready() {
  timeout 5 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$RABBITMQ_PORT"' || exit 1
    # Reads one frame byte by byte (no read-ahead); prints "TYPE CLASS METHOD" of a method frame.
    frame() {
      local size
      # shellcheck disable=SC2046
      set -- $(dd bs=1 count=7 <&3 2>/dev/null | od -An -v -tx1)
      [ "$#" -eq 7 ] || return 1
      size=$((16#$4$5$6$7))
      [ "$size" -ge 4 ] && [ "$size" -lt 65536 ] || return 1
      # shellcheck disable=SC2046
      set -- "$1" $(dd bs=1 count=$((size + 1)) <&3 2>/dev/null | od -An -v -tx1)
      [ "$#" -eq $((size + 2)) ] || return 1
      echo "$1 $2$3 $4$5"
    }
    printf "AMQP\x00\x00\x09\x01" >&3
    [ "$(frame)" = "01 000a 000a" ] || exit 1 # Connection.Start
    # Connection.StartOk: no client properties, PLAIN "\0guest\0guest", locale en_US.
    printf "\x01\x00\x00\x00\x00\x00\x24\x00\x0a\x00\x0b\x00\x00\x00\x00\x05PLAIN\x00\x00\x00\x0c\x00guest\x00guest\x05en_US\xce" >&3
    [ "$(frame)" = "01 000a 001e" ] # Connection.Tune (a refused login closes the socket instead)
  ' 2>/dev/null
}

# The node's pid file appears only after the Erlang VM is up: until then the launcher counts.
RABBITMQ_LAUNCHER_PID=""
rabbitmq_pid_or_launcher() {
  local pid
  pid="$(rabbitmq_pid)"
  if [ -z "$pid" ] && pid_alive "$RABBITMQ_LAUNCHER_PID"; then pid="$RABBITMQ_LAUNCHER_PID"; fi
  echo "$pid"
}

rabbitmq_start() {
  [ -z "$(port_owner "$RABBITMQ_PORT")" ] || die "rabbitmq: port $RABBITMQ_PORT is in use by pid $(port_owner "$RABBITMQ_PORT")"
  rm -f "$RABBITMQ_PIDFILE"
  [ ! -f "$RABBITMQ_STARTUP_LOG" ] || mv -f "$RABBITMQ_STARTUP_LOG" "$RABBITMQ_STARTUP_LOG.1"
  (
    cd "$RABBITMQ_DIR"
    exec env "${RABBITMQ_ENV[@]}" setsid nohup "$RABBITMQ_BIN/rabbitmq-server" >"$RABBITMQ_STARTUP_LOG" 2>&1 </dev/null
  ) &
  RABBITMQ_LAUNCHER_PID="$!"
}

rabbitmq_stop() {
  local pid
  pid="$(rabbitmq_pid)"
  [ -n "$pid" ] || { rm -f "$RABBITMQ_PIDFILE"; return 0; }
  if ! timeout "$STOP_TIMEOUT" env "${RABBITMQ_ENV[@]}" "$RABBITMQ_BIN/rabbitmqctl" -q stop >/dev/null 2>&1; then
    kill -TERM "$pid" 2>/dev/null || true
  fi
  wait_exit_or_kill rabbitmq "$pid"
  rm -f "$RABBITMQ_PIDFILE"
}

rabbitmq_addr() { echo "127.0.0.1:$RABBITMQ_PORT"; }

# ---------------------------------------------------------------- redis

redis_logfiles() { echo "$REDIS_LOG"; }

redis_prepare() { mkdir -p "$REDIS_DIR"; }

redis_pid() {
  local pid
  pid="$(read_pidfile "$REDIS_PIDFILE")"
  if pid_alive "$pid" && [ "$(proc_comm "$pid")" = redis-server ]; then echo "$pid"; return 0; fi
  pid="$(port_owner "$REDIS_PORT")"
  if [ -n "$pid" ] && [ "$(proc_comm "$pid")" = redis-server ]; then echo "$pid"; fi
  return 0
}

redis_ready() {
  [ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true)" = PONG ]
}

redis_start() {
  [ -z "$(port_owner "$REDIS_PORT")" ] || die "redis: port $REDIS_PORT is in use by pid $(port_owner "$REDIS_PORT")"
  rm -f "$REDIS_PIDFILE"
  (
    cd "$REDIS_DIR"
    exec redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
      --save '' --appendonly no --dir "$REDIS_DIR" \
      --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" </dev/null
  ) || { show_logs redis; die "redis: redis-server failed to start"; }
}

redis_stop() { stop_by_signal redis "$REDIS_PIDFILE"; }

redis_addr() { echo "127.0.0.1:$REDIS_PORT"; }

# ---------------------------------------------------------------- commands

# per-service hooks with defaults
call_if() { if declare -F "$1" >/dev/null; then "$@"; fi; }

pid_fn_for() {
  case "$1" in
    rabbitmq) echo rabbitmq_pid_or_launcher ;;
    *) echo "${1}_pid" ;;
  esac
}

timeout_for() {
  case "$1" in
    kafka) echo "$KAFKA_TIMEOUT" ;;
    rabbitmq) echo "$RABBITMQ_TIMEOUT" ;;
    redis) echo "$REDIS_TIMEOUT" ;;
  esac
}

cmd_up() {
  local n pkgs=() started=()
  for n in "$@"; do
    # shellcheck disable=SC2207
    pkgs+=($("${n}_packages"))
  done
  [ "${#pkgs[@]}" -eq 0 ] || ensure_packages "${pkgs[@]}"
  # Always prepare this checkout's state (jars, config, data and home dirs), even when a server
  # is already listening (perhaps started from another checkout), so that `kafka-class` and a
  # later `restart` work from here too.
  prepare "$@"
  for n in "$@"; do
    if [ -n "$("${n}_pid")" ]; then
      started+=(0)
    else
      "${n}_start"
      started+=(1)
    fi
  done
  local i=0
  for n in "$@"; do
    WAIT_HINT=""
    [ "${started[$i]}" = 1 ] || WAIT_HINT="$n: pid $("${n}_pid") was already running, not started by this command; if it is a leftover (of a checkout since removed, say), 'scripts/services.sh restart $n' replaces it"
    wait_ready "$n" "$(timeout_for "$n")" "${n}_ready" "$(pid_fn_for "$n")"
    if [ "${started[$i]}" = 1 ]; then
      call_if "${n}_after_ready"
      log "$n up ($("${n}_addr"))"
    else
      log "$n already up ($("${n}_addr"))"
    fi
    i=$((i + 1))
  done
}

cmd_down() {
  local n
  for n in "$@"; do
    if [ -n "$("${n}_pid")" ]; then
      "${n}_stop"
      log "$n down"
    else
      "${n}_stop" # clears stale pid files
      log "$n already down"
    fi
  done
}

prepare() {
  local n
  for n in "$@"; do call_if "${n}_prepare"; done
}

cmd_restart() {
  local n pkgs=()
  for n in "$@"; do
    # shellcheck disable=SC2207
    pkgs+=($("${n}_packages"))
  done
  [ "${#pkgs[@]}" -eq 0 ] || ensure_packages "${pkgs[@]}"
  # The stop commands (rabbitmqctl) need this checkout's state too.
  prepare "$@"
  for n in "$@"; do
    if [ -n "$("${n}_pid")" ]; then "${n}_stop"; fi
  done
  cmd_up "$@"
}

cmd_status() {
  local n pid rc=0 state
  for n in "$@"; do
    pid="$("${n}_pid")"
    if [ -n "$pid" ] && "${n}_ready"; then
      state="up       $("${n}_addr") pid $pid"
    elif [ -n "$pid" ]; then
      state="starting $("${n}_addr") pid $pid (not accepting connections)"
      rc=1
    else
      state="down"
      rc=1
    fi
    printf '%-9s %s\n' "$n" "$state"
  done
  return "$rc"
}

# ---------------------------------------------------------------- fault injection

ports_for() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" ;;
    rabbitmq) echo "$RABBITMQ_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
  esac
}

pidfile_for() {
  case "$1" in
    kafka) echo "$KAFKA_PIDFILE" ;;
    rabbitmq) echo "$RABBITMQ_PIDFILE" ;;
    redis) echo "$REDIS_PIDFILE" ;;
  esac
}

# one-letter process state (R, S, T, Z, ...) of pid $1, or nothing
proc_state() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null || true)"
  stat="${stat##*) }"
  echo "${stat%% *}"
}

# SIGKILL: the server gets no chance to shut down cleanly (no flush, no checkpoint).
cmd_kill() {
  local n pid p deadline
  for n in "$@"; do
    pid="$("${n}_pid")"
    if [ -z "$pid" ]; then log "$n already down"; continue; fi
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while :; do
      local busy=0
      pid_alive "$pid" && busy=1
      for p in $(ports_for "$n"); do [ -z "$(port_owner "$p")" ] || busy=1; done
      [ "$busy" = 1 ] || break
      [ "$SECONDS" -lt "$deadline" ] || die "$n: pid $pid or its ports still there 30 s after SIGKILL"
      sleep 0.05
    done
    rm -f "$(pidfile_for "$n")"
    log "$n killed (pid $pid)"
  done
}

# SIGSTOP: the process keeps its sockets (connections stay open, the kernel still accepts new
# ones into the backlog) but answers nothing until `resume`.
cmd_pause() {
  local n pid deadline
  for n in "$@"; do
    pid="$("${n}_pid")"
    [ -n "$pid" ] || die "$n is not running"
    kill -STOP "$pid"
    deadline=$((SECONDS + 10))
    until [ "$(proc_state "$pid")" = T ] || [ "$(proc_state "$pid")" = t ]; do
      [ "$SECONDS" -lt "$deadline" ] || die "$n: pid $pid not stopped 10 s after SIGSTOP"
      sleep 0.05
    done
    log "$n paused (pid $pid)"
  done
}

cmd_resume() {
  local n pid
  for n in "$@"; do
    pid="$("${n}_pid")"
    [ -n "$pid" ] || die "$n is not running"
    kill -CONT "$pid"
    wait_ready "$n" "$(timeout_for "$n")" "${n}_ready" "$(pid_fn_for "$n")"
    log "$n resumed (pid $pid)"
  done
}

cmd_pid() {
  [ "$#" -eq 1 ] || die "usage: services.sh pid NAME"
  "${1}_pid"
}

cmd_kafka_class() {
  [ "$#" -ge 1 ] || die "usage: services.sh kafka-class CLASS [ARGS...]"
  [ -d "$KAFKA_LIB" ] || die "kafka jars not fetched yet: run 'scripts/services.sh up kafka'"
  exec java -Xmx256m -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$SUPPORT_DIR/kafka/tools-log4j.properties" \
    -cp "$KAFKA_LIB/*" "$@"
}

select_services() {
  local n
  if [ "$#" -eq 0 ]; then echo "${ALL_SERVICES[@]}"; return; fi
  for n in "$@"; do
    case "$n" in
      kafka | rabbitmq | redis) echo "$n" ;;
      *) die "unknown service '$n' (expected: ${ALL_SERVICES[*]})" ;;
    esac
  done
}

main() {
  [ "$#" -ge 1 ] || usage 2
  local cmd="$1"
  shift
  case "$cmd" in
    up | down | restart | kill | pause | resume) take_lock "$cmd" "$@" ;;
    status | kafka-class | pid) ;;
    -h | --help | help) usage 0 ;;
    *) usage 2 ;;
  esac
  local names=()
  if [ "$cmd" != kafka-class ]; then
    # shellcheck disable=SC2207
    names=($(select_services "$@"))
  fi
  init_state_dir
  case "$cmd" in
    up) cmd_up "${names[@]}" ;;
    down) cmd_down "${names[@]}" ;;
    restart) cmd_restart "${names[@]}" ;;
    status) cmd_status "${names[@]}" ;;
    kafka-class) cmd_kafka_class "$@" ;;
    kill) cmd_kill "${names[@]}" ;;
    pause) cmd_pause "${names[@]}" ;;
    resume) cmd_resume "${names[@]}" ;;
    pid) cmd_pid "${names[@]}" ;;
  esac
}

main "$@"
