#!/usr/bin/env bash
# Regenerates the README figures from the repository alone (no network):
#   docs/images/sensors-plot.png      `streamseq plot` of the bundled example (examples/sensors.*, lag 5, horizon 2)
#   docs/images/dashboard.png         the dashboard's stream page, screenshotted by the end-to-end browser test
#   docs/images/dashboard-streams.png the dashboard's stream list, from the same test
# Usage: docs/images/regenerate.sh [--plot-only]   (the screenshots need Debian's chromium package)
set -euo pipefail
cd "$(dirname "$0")/../.."
images="$PWD/docs/images"
out="$(mktemp -d)/sensors-out.jsonl"

dotnet build src/StreamSeq.Cli -c Release -v quiet -nologo
dotnet run --project src/StreamSeq.Cli -c Release --no-build -- \
  run --model examples/sensors.json --input examples/sensors.csv --output "$out" --lag 5 --horizon 2
dotnet run --project src/StreamSeq.Cli -c Release --no-build -- \
  plot --input "$out" --observations examples/sensors.csv --model examples/sensors.json \
  --output "$images/sensors-plot.png" --grid --width 900 --height 380

if [ "${1:-}" != "--plot-only" ]; then
  STREAMSEQ_SCREENSHOTS="$images" dotnet test tests/StreamSeq.Worker.Tests -c Release \
    --filter "FullyQualifiedName~DashboardBrowserTests"
fi
rm -rf "$(dirname "$out")"
