#!/usr/bin/env bash
# Restores a backup set written by backup.sh: the results database and the models folder.
#
#   DATABASE_URL=postgres://user:pass@host:5432/linesight deploy/scripts/restore.sh <backup-set> [models-folder]
#
# Stop linesight first (gateways and workers): the database's linesight tables are dropped and
# recreated from the dump in one transaction, and the models folder is replaced. The models folder
# that was there is kept beside it as <models-folder>.before-restore-<UTC time>. The set's
# checksums are verified before anything is touched.
set -euo pipefail

usage() { echo "usage: DATABASE_URL=... $0 <backup-set-folder> [models-folder]" >&2; exit 2; }
[ $# -ge 1 ] || usage
: "${DATABASE_URL:?DATABASE_URL must name the database to restore into}"
set_dir=$1
models=${2:-${LINESIGHT_MODELS_DIR:-models}}

for f in results.dump models.tar.gz SHA256SUMS; do
  [ -f "$set_dir/$f" ] || { echo "restore: $set_dir/$f is missing; not a backup set" >&2; exit 1; }
done
(cd "$set_dir" && sha256sum --check --quiet SHA256SUMS) || { echo "restore: checksums do not match; the backup set is damaged" >&2; exit 1; }

pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$DATABASE_URL" "$set_dir/results.dump"

# unpack next to the target (same file system), then swap, so a failed unpack changes nothing
parent=$(dirname "$models")
mkdir -p "$parent"
unpacked=$(mktemp -d "$parent/.linesight-restore-XXXXXX")
trap 'rm -rf "$unpacked"' EXIT
tar -C "$unpacked" -xzf "$set_dir/models.tar.gz"
top=$(ls "$unpacked")
[ "$(echo "$top" | wc -l)" -eq 1 ] || { echo "restore: models.tar.gz should hold one folder, holds: $top" >&2; exit 1; }
if [ -e "$models" ]; then mv "$models" "$models.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"; fi
mv "$unpacked/$top" "$models"

echo "restored $set_dir into the database and $models"
