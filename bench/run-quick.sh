#!/usr/bin/env bash
# The benchmark suite as one command: the end-to-end harness (issue 3's targets, worker vs pass-through in the same
# process) and a quick pass over every BenchmarkDotNet suite, written with the machine description to
# docs/benchmarks.md (or the path given). Takes under ten minutes on two cores.
#
#   bench/run-quick.sh [output.md]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/benchmarks.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
start=$(date +%s)

dotnet build bench/StreamSeq.EndToEnd/StreamSeq.EndToEnd.csproj -c Release -nologo -v quiet
dotnet build bench/StreamSeq.Benchmarks/StreamSeq.Benchmarks.csproj -c Release -nologo -v quiet

echo "== end-to-end harness"
dotnet run -c Release --no-build --project bench/StreamSeq.EndToEnd -- --markdown "$tmp/e2e.md" | tee "$tmp/e2e.log"
echo "== BenchmarkDotNet suites (quick pass)"
dotnet run -c Release --no-build --project bench/StreamSeq.Benchmarks -- --quick "$tmp/bdn.md" > "$tmp/bdn.log" 2>&1 || {
  tail -50 "$tmp/bdn.log" >&2
  exit 1
}
end=$(date +%s)

{
  echo "# Benchmarks"
  echo
  echo "Written by \`bench/run-quick.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`; the whole run took $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s."
  echo "Re-run it to refresh this file. The end-to-end numbers compare the worker with a pass-through loop measured in the"
  echo "same process and run, so their ratios hold on any machine; absolute figures depend on the machine below and on"
  echo "what else ran on it (the load averages are recorded)."
  echo
  cat "$tmp/e2e.md"
  cat "$tmp/bdn.md"
  echo "## Machine"
  echo
  echo '```'
  lscpu 2>/dev/null | grep -E '^(Architecture|CPU\(s\)|Model name|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|CPU max MHz|L1d cache|L2 cache|L3 cache|Hypervisor vendor|Flags)' | sed -E 's/^(Flags:\s+).*/\1(avx2: '"$(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)"', avx512f: '"$(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)"')/'
  echo "Memory: $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo '```'
  echo
  echo '```'
  dotnet --info 2>/dev/null | sed -n '1,/^$/p;/Host:/,/^$/p' | sed '/^$/d'
  echo '```'
} > "$out"
echo "wrote $out"
