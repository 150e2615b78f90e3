#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster (Debian's server) on loopback and prints
# its URL. Usage: eval "$(bash .ci/start-postgres.sh PORT)"
set -euo pipefail
port="${1:-54329}"
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
dir="$(mktemp -d /tmp/tokenkeeper-pg.XXXXXX)"
# A cluster that fails to start is removed here: its caller never learns the folder.
trap 'rm -rf "$dir"' ERR
chown postgres "$dir"
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null
echo "export TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/postgres"
echo "export TEST_POSTGRES_DIR=$dir"
