#!/usr/bin/env bash
# Serve the app from N replicas behind HAProxy on one port, for a room full of browsers.
#
#   deploy/replicas.sh N PORT
#   deploy/replicas.sh --print-config N PORT   # only print the HAProxy config it would run
#
# Starts N `streamlit run app.py` on loopback ports PORT+1 … PORT+N (the repository's .venv and
# its .streamlit/config.toml; each with AE_DEMO_REPLICA=<its port>, which the page shows in the
# sidebar), renders deploy/haproxy.cfg.template and runs HAProxy on PORT in front of them
# (cookie affinity, websockets passed through). Installs Debian's haproxy when it is missing.
# Ctrl-C or SIGTERM stops everything it started; so does any replica or HAProxy exiting.
#
# Environment: AE_DEMO_BIND (HAProxy's address, default 0.0.0.0: the room reaches it; 127.0.0.1
# keeps it on this machine), AE_DEMO_PYTHON (default .venv/bin/python of the repository).
set -euo pipefail

usage() { echo "usage: $0 [--print-config] N PORT   (N replicas, HAProxy on PORT, replicas on PORT+1..PORT+N)" >&2; exit 2; }
print_config=0
[ "${1:-}" = --print-config ] && { print_config=1; shift; }
[ $# -eq 2 ] || usage
n=$1 port=$2
[[ $n =~ ^[1-9][0-9]*$ && $port =~ ^[1-9][0-9]*$ ]] || usage
(( port + n <= 65535 )) || usage

repo=$(cd "$(dirname "$0")/.." && pwd)
python=${AE_DEMO_PYTHON:-$repo/.venv/bin/python}
bind=${AE_DEMO_BIND:-0.0.0.0}

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

haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
if [ ! -x "$haproxy" ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing Debian's haproxy" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends haproxy >&2 \
    || { $sudo apt-get update >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends haproxy >&2; }
  haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
fi

workdir=$(mktemp -d -t ae-demo-replicas.XXXXXX)
pids=()  # each child leads its own process group (setsid), so stopping it stops what it started

stop() {
  trap - INT TERM EXIT
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do  # up to 10 s for a graceful exit, then SIGKILL
    local alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$workdir"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop' EXIT

for i in $(seq "$n"); do
  p=$((port + i))
  (cd "$repo" && AE_DEMO_REPLICA=$p exec setsid "$python" -m streamlit run app.py --server.address 127.0.0.1 \
     --server.port "$p") &
  pids+=($!)
done

# HAProxy starts once every replica answers its health check, so the first browsers get no 503.
# (In the background: bash runs a trap only between commands, and `wait` is one it can interrupt.)
setsid "$python" - "$port" "$n" <<'WAIT' &
import sys, time, urllib.request
port, n = map(int, sys.argv[1:])
deadline = time.monotonic() + 180
for replica in range(port + 1, port + n + 1):
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{replica}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"replica {replica} did not answer /_stcore/health within 180 s")
        time.sleep(0.5)
WAIT
pids+=($!)
wait $!

config=$workdir/haproxy.cfg
render_config > "$config"
"$haproxy" -c -f "$config" >/dev/null || { "$haproxy" -c -f "$config"; exit 1; }
setsid "$haproxy" -db -f "$config" &
pids+=($!)

echo "Autoencoder Lab: http://$bind:$port/ — HAProxy in front of $n replicas on 127.0.0.1:$((port + 1))-$((port + n))" >&2
set +e
wait -n  # any replica or HAProxy exiting ends the whole set (the EXIT trap stops the rest)
status=$?
echo "a replica or HAProxy exited (status $status); stopping the rest" >&2
exit "$status"
