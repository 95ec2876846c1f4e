#!/usr/bin/env bash
# Daily backup of the Qatysu database: one pg_dump file (custom format, compressed), the old ones pruned.
#   QATYSU_BACKUP_DB   libpq URL of the database, e.g. postgresql://qatysu@127.0.0.1:5432/qatysu
#                      (a password from ~/.pgpass or PGPASSWORD, never on the command line)
#   QATYSU_BACKUP_DIR  where the files go (default /var/backups/qatysu); keep it on a disk in Kazakhstan
#   QATYSU_BACKUP_KEEP_DAYS  how many days of files to keep (default 14)
# Prints the file it wrote. The phone key file is NOT in the dump: back it up separately (README).
set -euo pipefail
db=${QATYSU_BACKUP_DB:?set QATYSU_BACKUP_DB to the database URL}
dir=${QATYSU_BACKUP_DIR:-/var/backups/qatysu}
keep=${QATYSU_BACKUP_KEEP_DAYS:-14}
umask 077
mkdir -p "$dir"
out="$dir/qatysu-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --no-privileges --file="$out.part" "$db"
pg_restore --list "$out.part" >/dev/null  # the file is a complete archive
mv "$out.part" "$out"
find "$dir" -maxdepth 1 -name 'qatysu-*.dump' -mtime "+$keep" -delete
echo "$out"
