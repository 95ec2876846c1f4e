#!/usr/bin/env bash
# Restore a backup made by backup.sh into a NEW, empty database (never over the live one):
#   restore.sh FILE.dump postgresql://postgres@127.0.0.1:5432/postgres qatysu_restored
# The second argument is a URL of the server's maintenance database (to create the new one); the third names it.
# Then point [database] url at it (or rename it) with the bot stopped, and start `qatysu db upgrade` first.
set -euo pipefail
file=${1:?usage: restore.sh FILE.dump SERVER_URL NEW_DATABASE}
server=${2:?usage: restore.sh FILE.dump SERVER_URL NEW_DATABASE}
name=${3:?usage: restore.sh FILE.dump SERVER_URL NEW_DATABASE}
[[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "restore.sh: database name must be lower-case letters, digits, _" >&2; exit 2; }
exists=$(psql "$server" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")
if [ -n "$exists" ]; then
  echo "restore.sh: database $name exists; restore only into a new one (drop it first if it is a failed try)" >&2
  exit 1
fi
psql "$server" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$name\""
target=$(python3 -c 'import sys; from urllib.parse import urlsplit, urlunsplit; u = urlsplit(sys.argv[1]); print(urlunsplit(u._replace(path="/" + sys.argv[2])))' "$server" "$name")
pg_restore --exit-on-error --no-owner --no-privileges --single-transaction --dbname="$target" "$file"
echo "restored $file into $name"
