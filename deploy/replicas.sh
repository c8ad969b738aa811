#!/usr/bin/env bash
# Serve the app from N replicas behind HAProxy on one port, with Redis for the class rooms they share.
#
#   deploy/replicas.sh N PORT
#   deploy/replicas.sh --print-config N PORT   # only print the HAProxy config it would run
#
# Starts Redis on 127.0.0.1:PORT+N+1 (Debian's redis-server, append-only file on), N `streamlit run app.py`
# on loopback ports PORT+1 … PORT+N (the repository's .venv and its .streamlit/config.toml; each with
# REDIS_URL, and AE_DEMO_REPLICA=<its port>, which the page shows in the sidebar), renders
# deploy/haproxy.cfg.template and runs HAProxy on PORT in front of them (cookie affinity, websockets
# passed through, dead replicas routed around). Installs Debian's haproxy and redis-server when missing.
#
# A replica, Redis or HAProxy that exits is logged and started again: at once the first time, then after
# 1, 2, 4 … up to 30 s while it keeps exiting within a minute of its start. Only Ctrl-C or SIGTERM stops
# them all (Redis too).
#
# Environment: AE_DEMO_BIND (HAProxy's address, default 0.0.0.0: the room reaches it; 127.0.0.1 keeps it on
# this machine), AE_DEMO_PYTHON (default .venv/bin/python of the repository), REDIS_URL (use that Redis
# and start none), AE_DEMO_REDIS_DIR (where Redis keeps its append-only file, to keep rooms across runs of
# this script; default: a temporary folder removed on exit).
set -euo pipefail

usage() { echo "usage: $0 [--print-config] N PORT   (N replicas, HAProxy on PORT, replicas on PORT+1..PORT+N," \
               "Redis on PORT+N+1)" >&2; exit 2; }
print_config=0
[ "${1:-}" = --print-config ] && { print_config=1; shift; }
[ $# -eq 2 ] || usage
n=$1 port=$2
[[ $n =~ ^[1-9][0-9]*$ && $port =~ ^[1-9][0-9]*$ ]] || usage
(( port + n + 1 <= 65535 )) || usage

repo=$(cd "$(dirname "$0")/.." && pwd)
python=${AE_DEMO_PYTHON:-$repo/.venv/bin/python}
bind=${AE_DEMO_BIND:-0.0.0.0}
redis_port=$((port + n + 1))

render_config() {  # deploy/haproxy.cfg.template with this run's address, port and servers
  local line servers="" i
  for i in $(seq "$n"); do servers+="    server replica-$((port + i)) 127.0.0.1:$((port + i)) cookie $((port + i))"$'\n'; done
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*@SERVERS@[[:space:]]*$ ]]; then printf '%s' "$servers"
    else line=${line//@PORT@/$port}; printf '%s\n' "${line//@BIND@/$bind}"; fi
  done < "$repo/deploy/haproxy.cfg.template"
}
[ $print_config = 1 ] && { render_config; exit 0; }
[ -x "$python" ] || { echo "$python not found: install the app first (see README.md), or set AE_DEMO_PYTHON" >&2; exit 1; }

say() { echo "replicas.sh $(date +%T): $*" >&2; }

debian_program() {  # PROGRAM PACKAGE: the program's path, installing Debian's package when it is missing
  local found
  found=$(command -v "$1" || echo "/usr/sbin/$1")
  [ -x "$found" ] || found=/usr/bin/$1
  if [ ! -x "$found" ]; then
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    say "installing Debian's $2"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$2" >&2 \
      || { $sudo apt-get update >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$2" >&2; }
    found=$(command -v "$1" || echo "/usr/sbin/$1")
  fi
  echo "$found"
}
haproxy=$(debian_program haproxy haproxy)

workdir=$(mktemp -d -t ae-demo-replicas.XXXXXX)
supervisors=()  # one per program; each runs its program in a process group of its own (setsid)
waiter=""  # the check that Redis and the replicas answer, before HAProxy starts

supervise() {  # NAME COMMAND…: run COMMAND until this script stops, starting it again whenever it exits
  local name=$1; shift
  local child="" sleeper="" stopping=0 delay=0 started status how
  trap 'stopping=1; kill -TERM -- "-$child" $sleeper 2>/dev/null || true' TERM
  trap '' INT  # Ctrl-C reaches the whole terminal group; the main script stops this one with SIGTERM
  while [ $stopping = 0 ]; do
    started=$SECONDS
    setsid "$@" &
    child=$!
    echo "$child" > "$workdir/${name// /-}.pid"
    status=0
    while :; do  # a trapped signal interrupts `wait`; wait again until the program itself has exited
      { wait "$child"; } 2>/dev/null && status=0 || status=$?  # (no "Killed" line from bash: logged below)
      kill -0 "$child" 2>/dev/null || break
    done
    kill -KILL -- "-$child" 2>/dev/null || true  # what it started and left behind (a worker process) goes with it
    [ $stopping = 0 ] || break
    how="status $status"; (( status > 128 )) && how="killed by signal $((status - 128))"
    if (( SECONDS - started >= 60 )); then delay=0; fi
    say "$name exited ($how) after $((SECONDS - started)) s; starting it again in $delay s"
    sleep "$delay" & sleeper=$!
    wait $sleeper || true
    sleeper=""
    delay=$(( delay == 0 ? 1 : (delay * 2 > 30 ? 30 : delay * 2) ))
  done
  exit 0
}

stop() {
  trap - INT TERM EXIT
  local pid name alive
  [ -z "$waiter" ] || kill -TERM "$waiter" 2>/dev/null || true
  for pid in "${supervisors[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do  # up to 10 s for a graceful exit, then SIGKILL
    alive=0
    for pid in "${supervisors[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.2
  done
  for name in "$workdir"/*.pid; do
    [ -e "$name" ] && kill -KILL -- "-$(cat "$name")" 2>/dev/null || true
  done
  for pid in "${supervisors[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$workdir"
}
trap 'say "stopping everything"; stop; exit 130' INT
trap 'say "stopping everything"; stop; exit 143' TERM
trap 'stop' EXIT

redis_shown="REDIS_URL"  # a URL given may hold a password: not printed
redis_check=""
if [ -z "${REDIS_URL:-}" ]; then
  redis_server=$(debian_program redis-server redis-server)
  redis_dir=${AE_DEMO_REDIS_DIR:-$workdir/redis}
  mkdir -p "$redis_dir"
  # On loopback only; the append-only file (fsync'd every second) gives a restarted Redis the rooms back.
  supervise redis "$redis_server" --bind 127.0.0.1 --port "$redis_port" --dir "$redis_dir" \
    --appendonly yes --appendfsync everysec --save "" --protected-mode yes --daemonize no &
  supervisors+=($!)
  export REDIS_URL=redis://127.0.0.1:$redis_port/0
  redis_shown=$REDIS_URL redis_check=127.0.0.1:$redis_port
fi

for i in $(seq "$n"); do
  p=$((port + i))
  supervise "replica $p" env -C "$repo" AE_DEMO_REPLICA=$p REDIS_URL="$REDIS_URL" \
    "$python" -m streamlit run app.py --server.address 127.0.0.1 --server.port "$p" &
  supervisors+=($!)
done

# HAProxy starts once Redis and every replica answer, so the first browsers get no 503.
# (In the background: bash runs a trap only between commands, and `wait` is one it can interrupt.)
"$python" - "$port" "$n" "$redis_check" <<'WAIT' &
import socket, sys, time, urllib.request
port, n, redis = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]  # redis: "host:port" of the one started, or ""
deadline = time.monotonic() + 180

def redis_answers() -> bool:  # PING in Redis's inline protocol; a server that asks for a password is up too
    host, _, redis_port = redis.rpartition(":")
    with socket.create_connection((host, int(redis_port)), timeout=2) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))

def replica_answers(replica: int) -> bool:
    return urllib.request.urlopen(f"http://127.0.0.1:{replica}/_stcore/health", timeout=2).status == 200

for what, check in [*([("Redis", redis_answers)] if redis else []), *[(f"replica {p}", lambda p=p: replica_answers(p))
                                                 for p in range(port + 1, port + n + 1)]]:
    while True:
        try:
            if check():
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{what} did not answer within 180 s")
        time.sleep(0.5)
WAIT
waiter=$!
wait $waiter
waiter=""

config=$workdir/haproxy.cfg
render_config > "$config"
"$haproxy" -c -f "$config" >/dev/null || { "$haproxy" -c -f "$config"; exit 1; }
supervise haproxy "$haproxy" -db -f "$config" &
supervisors+=($!)

say "Autoencoder Lab: http://$bind:$port/ — HAProxy in front of $n replicas on 127.0.0.1:$((port + 1))-$((port + n))," \
    "rooms in Redis at $redis_shown"
wait || true  # until Ctrl-C or SIGTERM (their traps exit): the supervisors never end by themselves
say "every supervisor ended; stopping"
exit 1
