#!/usr/bin/env bash
# Backs up what linesight cannot rebuild: the results database (PostgreSQL) and the models folder.
#
#   DATABASE_URL=postgres://user:pass@host:5432/linesight deploy/scripts/backup.sh <backups-folder> [models-folder]
#
# Writes one backup set, <backups-folder>/<UTC time>/ with results.dump (pg_dump, custom format:
# tables, images, tokens, settings, audit log), models.tar.gz and SHA256SUMS, and prints its path.
# Safe while linesight runs: pg_dump reads one consistent snapshot. The models folder defaults to
# LINESIGHT_MODELS_DIR, else ./models. With SQLite (no DATABASE_URL), stop linesight and copy
# LINESIGHT_DATA_DIR instead.
set -euo pipefail

usage() { echo "usage: DATABASE_URL=... $0 <backups-folder> [models-folder]" >&2; exit 2; }
[ $# -ge 1 ] || usage
: "${DATABASE_URL:?DATABASE_URL must name the results database}"
backups=$1
models=${2:-${LINESIGHT_MODELS_DIR:-models}}
[ -d "$models" ] || { echo "backup: models folder $models does not exist" >&2; exit 1; }

set_dir="$backups/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$set_dir"
# a failed run must not leave a half backup that looks complete
trap 'rm -rf "$set_dir"' ERR

pg_dump --format=custom --no-owner --no-privileges --file "$set_dir/results.dump" "$DATABASE_URL"
models_abs=$(cd "$models" && pwd)
tar -C "$(dirname "$models_abs")" -czf "$set_dir/models.tar.gz" "$(basename "$models_abs")"
(cd "$set_dir" && sha256sum results.dump models.tar.gz > SHA256SUMS)

echo "$set_dir"
