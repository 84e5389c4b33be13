#!/usr/bin/env bash
# The README's main command (the worker on the embedded broker and simulator), bounded: start it, wait until it is
# ready and has committed outputs, stop it with Ctrl+C (SIGINT) and require a clean exit.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl >/dev/null 2>&1 || env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
log=$(mktemp)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
# Job control puts the worker in its own process group (as a terminal would) and keeps SIGINT deliverable.
set -m
# A shell started without job control may hand SIGINT down ignored, and .NET keeps an ignored signal ignored: restore it.
env --default-signal=INT dotnet run --project src/StreamSeq.Worker -c Release --no-build -- --Urls="http://127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
set +m
status=""
for _ in $(seq 1 180); do
  status=$(curl -fsS "http://127.0.0.1:$port/api/status" 2>/dev/null || true)
  if [ -n "$status" ] && python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if s.get("commits",0) > 0 and s.get("processed",0) > 0 else 1)' "$status" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "main command: the worker exited early" >&2; cat "$log" >&2; exit 1
  fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || { echo "main command: not ready" >&2; cat "$log" >&2; kill -INT -- "-$pid"; exit 1; }
curl -fsS "http://127.0.0.1:$port/" | grep -q "<html" || { echo "main command: no dashboard page" >&2; kill -INT -- "-$pid"; exit 1; }
# Ctrl+C: SIGINT to the process group; the worker finishes its open transaction and exits 0.
kill -INT -- "-$pid"
# A worker that ignores the signal must fail this check, not hold CI until its time limit.
( sleep 90; kill -KILL -- "-$pid" 2>/dev/null ) &
watchdog=$!
if ! wait "$pid"; then
  echo "main command: the worker did not stop cleanly within 90 s of Ctrl+C" >&2; cat "$log" >&2; kill "$watchdog" 2>/dev/null; exit 1
fi
kill "$watchdog" 2>/dev/null || true
echo "main command: worker ready, committed outputs, dashboard served, clean stop ($status)"
