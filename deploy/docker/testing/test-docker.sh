#!/usr/bin/env bash
# `npm run test:docker` (run as root; not part of `npm test`): proves the CPU image here. Starts
# dockerd if none answers, makes the base image locally (base-images.sh: no image registry is
# reachable), builds deploy/docker/Dockerfile, runs it and checks /ready (native uWebSockets.js),
# the HEALTHCHECK turning healthy, the non-root user, SIGTERM draining, and reports the image
# size. The CUDA image cannot be built here (its base image, nvidia/cuda, comes only from a
# registry); its Dockerfile is linted by test/integration/dockerfiles.test.ts, and its start
# command is run here without a GPU to show it falls back to the CPU and says why.
set -euo pipefail
cd "$(dirname "$0")/../../.."
started=$(date +%s)
IMAGE="${IMAGE:-linesight:test}"
NAME="linesight-test-$$"
fail() { echo "FAIL: $*" >&2; docker logs "$NAME" 2>&1 | tail -40 >&2 || true; exit 1; }
pass() { echo "ok   $*"; }

[ "$(id -u)" = 0 ] || { echo "run as root (dockerd and debootstrap need it)" >&2; exit 2; }
missing=()
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's client, which speaks the API of Debian's daemon
export PATH="/usr/bin:$PATH"
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: /var/log/linesight-dockerd.log)"
  (dockerd >/var/log/linesight-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/linesight-dockerd.log; echo "dockerd did not start" >&2; exit 1; }
fi

bash deploy/docker/testing/base-images.sh
t0=$(date +%s)
# the classic builder: BuildKit would look the base image up in a registry
DOCKER_BUILDKIT=0 docker build -q -f deploy/docker/Dockerfile -t "$IMAGE" . >/dev/null
pass "built $IMAGE in $(($(date +%s) - t0)) s"
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
pass "image size $((size / 1000000)) MB ($size bytes)"
for tool in gcc g++ make python3; do
  docker run --rm --entrypoint sh "$IMAGE" -c "command -v $tool" >/dev/null 2>&1 && fail "build tool $tool is in the runtime image"
done
pass "no build tools (gcc, g++, make, python3) in the runtime image"
ort=$(docker run --rm --entrypoint sh "$IMAGE" -c 'ls -d node_modules/onnxruntime-node/bin/napi-v*/*/*' | tr '\n' ' ')
[ "$ort" = "$(docker run --rm --entrypoint sh "$IMAGE" -c 'ls -d node_modules/onnxruntime-node/bin/napi-v*/linux/x64') " ] || fail "onnxruntime-node binaries for other platforms: $ort"
pass "onnxruntime-node binaries: $ort"

token="ls_docker_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
docker run -d --name "$NAME" -p 127.0.0.1::8080 -e HTTPS_ENABLED=false -e SHUTDOWN_DRAIN_MS=3000 \
  -e LINESIGHT_ADMIN_TOKEN="$token" -e INFERENCE_WORKERS=1 -e INFERENCE_THREADS=1 "$IMAGE" >/dev/null
trap 'docker rm -f "$NAME" >/dev/null 2>&1 || true' EXIT
port=$(docker port "$NAME" 8080/tcp | head -1 | sed 's/.*://')
ready=""
for _ in $(seq 1 120); do
  ready=$(curl -fsS -H "authorization: Bearer $token" "http://127.0.0.1:$port/ready" 2>/dev/null) && break
  sleep 1
done
[ -n "$ready" ] || fail "/ready never answered 200"
pass "/ready answers 200"
echo "$ready" | node -e '
  const r = JSON.parse(require("fs").readFileSync(0, "utf8"))
  if (!r.uws?.native) { console.error("uWebSockets.js is not native:", r.uws); process.exit(1) }
  console.log("ok   uWebSockets.js:", r.uws.implementation)' || fail "uWebSockets.js is not native in the image"
user=$(docker exec "$NAME" id -u)
[ "$user" != 0 ] || fail "runs as root"
pass "runs as uid $user ($(docker exec "$NAME" id -un))"
health=""
for _ in $(seq 1 90); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$NAME")
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || fail "HEALTHCHECK is $health"
pass "HEALTHCHECK healthy"

# SIGTERM: /ready turns 503 while the gateway keeps serving for SHUTDOWN_DRAIN_MS, then exit 0
docker kill -s TERM "$NAME" >/dev/null
draining=""
for _ in $(seq 1 30); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready" || true)
  [ "$code" = 503 ] && { draining=yes; break; }
  sleep 0.2
done
[ -n "$draining" ] || fail "/ready did not answer 503 after SIGTERM"
pass "after SIGTERM /ready answers 503 while draining"
code=$(docker wait "$NAME")
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
docker logs "$NAME" 2>&1 | grep -q '"msg":"stopped"' || fail "no 'stopped' line after SIGTERM"
pass "drained and exited 0 after SIGTERM"
docker rm "$NAME" >/dev/null

# the CUDA image's start: its command and INFERENCE_EPS=cuda,cpu, on a machine without a GPU
out=$(docker run --rm -e LINESIGHT_ROLE=worker -e INFERENCE_EPS=cuda,cpu -e INFERENCE_WORKERS=1 -e INFERENCE_THREADS=1 \
  -e LINESIGHT_ADMIN_TOKEN="$token" --entrypoint sh "$IMAGE" -c \
  'node --import tsx server/main.ts & pid=$!; for i in $(seq 1 120); do r=$(node -e "fetch(\"http://127.0.0.1:8080/ready\").then(r=>r.text()).then(t=>{console.log(t);process.exit(0)},()=>process.exit(1))") && break; sleep 1; done; echo "$r"; kill -TERM $pid; wait $pid')
echo "$out" | grep -q '"providerErrors":\[{[^]]*cuda' || fail "the CUDA start did not report why CUDA was skipped: $(echo "$out" | tail -3)"
pass "CUDA command without a GPU falls back to the CPU and says why: $(echo "$out" | grep -o '"providerErrors":\[[^]]*\]' | cut -c1-300)"
echo "test:docker passed in $(($(date +%s) - started)) s"
