#!/usr/bin/env bash
# Publishes the worker and the CLI exactly as deploy/Dockerfile does (deploy/publish.sh: linux-x64,
# framework-dependent, only the glibc-only librdkafka kept), starts the published worker in embedded mode with the
# image's environment, and waits for the image's health-check command to report it ready. No Docker engine needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
log="$out/worker.log"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$out"
}
trap cleanup EXIT

bash deploy/publish.sh "$out" worker cli

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
export Urls="http://127.0.0.1:$port" STREAMSEQ_LIBRDKAFKA_PATH="$out/worker/centos8-librdkafka.so" TMPDIR=/tmp
# The image runs from its WORKDIR /app, whose appsettings.json carries the demo models. A StreamSeq setting on the
# command line means the embedded broker must be asked for (StreamSeq:Embedded:Enabled=true; see docs/worker.md).
(cd "$out/worker" && exec dotnet StreamSeq.Worker.dll --StreamSeq:Embedded:Enabled=true --StreamSeq:Embedded:Streams=12) >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  if dotnet "$out/worker/StreamSeq.Worker.dll" probe "http://127.0.0.1:$port/health/ready" 2>/dev/null; then
    dotnet "$out/cli/streamseq.dll" simulate --help >/dev/null
    echo "smoke: published worker ready on port $port with $(grep -c . "$log") log lines; CLI runs"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    break
  fi
  sleep 1
done
echo "smoke: the published worker did not become ready" >&2
cat "$log" >&2
exit 1
