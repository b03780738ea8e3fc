#!/bin/sh
# Run in the image's build stage after `npm prune --omit=dev`: native binaries for other
# platforms and Node versions are dead weight in an image that runs one of each (about 450 MB).
set -eu
arch=$(node -p process.arch)
abi=$(node -p process.versions.modules)
# onnxruntime-node ships every OS and CPU; keep linux/<this arch>
for dir in node_modules/onnxruntime-node/bin/napi-v*/*/*; do
  case "$dir" in */linux/"$arch") ;; *) rm -rf "$dir" ;; esac
done
# both uWebSockets.js packages ship every OS, CPU and Node ABI; keep this one's (server/gateway/uws.ts)
find node_modules/uws-btc-vision node_modules/uWebSockets.js -name 'uws_*.node' ! -name "uws_linux_${arch}_${abi}.node" -delete
# sources and docs of native modules, never loaded at run time
rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj*
