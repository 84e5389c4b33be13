#!/usr/bin/env bash
# Publishes what the images of deploy/Dockerfile carry: linux-x64, framework-dependent. The Dockerfile runs this
# script, and so do deploy/ci/smoke-publish.sh and the image tests (tests/StreamSeq.Worker.Tests/Deployment), so all
# three see the same files.
#
#   bash deploy/publish.sh OUT [PART...] [-- DOTNET-PUBLISH-ARGUMENTS...]
#
# PARTs (all three when none is named):
#   worker  OUT/worker: the worker, the default image's /app
#   onnx    OUT/plugins/StreamSeq.Estimation.Onnx: the ONNX Runtime plug-in, which the runtime-onnx image adds
#           under /app/plugins
#   cli     OUT/cli: the streamseq command, the cli image's /app
# Arguments after -- go to every dotnet publish (the Dockerfile passes -p:SourceRevisionId=<commit>).
#
# Of Confluent.Kafka's three linux-x64 librdkafka builds only centos8-librdkafka.so is kept: it needs nothing but
# glibc, unlike librdkafka.so (libsasl2.so.3) and alpine-librdkafka.so (musl); STREAMSEQ_LIBRDKAFKA_PATH pins it.
# Of RocksDB's three linux-x64 builds (the worker's disk state store) only librocksdb.so is kept, for the same reason:
# librocksdb-jemalloc.so needs libjemalloc.so.2 and librocksdb-musl.so needs musl, neither of which the image has.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  echo "usage: deploy/publish.sh OUT [worker|onnx|cli]... [-- dotnet publish arguments]" >&2
  exit 2
fi
out=$1
shift
parts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  parts+=("$1")
  shift
done
[ $# -gt 0 ] && shift
[ ${#parts[@]} -eq 0 ] && parts=(worker onnx cli)
common=(-c Release -r linux-x64 --self-contained false -nologo -v quiet "$@")

keep_glibc_librdkafka() {
  rm -f "$1/librdkafka.so" "$1/alpine-librdkafka.so"
  test -f "$1/centos8-librdkafka.so"
}

keep_glibc_rocksdb() {
  rm -f "$1/librocksdb-jemalloc.so" "$1/librocksdb-musl.so"
  test -f "$1/librocksdb.so"
}

for part in "${parts[@]}"; do
  case "$part" in
    worker)
      dotnet publish src/StreamSeq.Worker/StreamSeq.Worker.csproj "${common[@]}" -o "$out/worker"
      keep_glibc_librdkafka "$out/worker"
      keep_glibc_rocksdb "$out/worker"
      ;;
    onnx)
      dotnet publish src/StreamSeq.Estimation.Onnx/StreamSeq.Estimation.Onnx.csproj "${common[@]}" -o "$out/plugins/StreamSeq.Estimation.Onnx"
      ;;
    cli)
      dotnet publish src/StreamSeq.Cli/StreamSeq.Cli.csproj "${common[@]}" -o "$out/cli"
      keep_glibc_librdkafka "$out/cli"
      ;;
    *)
      echo "deploy/publish.sh: unknown part '$part' (worker, onnx or cli)" >&2
      exit 2
      ;;
  esac
done
