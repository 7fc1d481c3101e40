#!/usr/bin/env bash
# Makes sure a PostgreSQL server is running and reachable on 127.0.0.1:5432 with trust auth for
# local connections, with a database `test`: what the PostgreSQL store's tests connect to
# (HOOKFLOW_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
# On a fresh Debian machine it installs Debian's `postgresql`, creates and starts the cluster;
# where the server already answers it only checks, and returns within a second. Idempotent.
# Runs as root (as CI does).
set -euo pipefail

HOST=127.0.0.1
# Overridable only to try this script on a scratch cluster beside the real one.
PORT=${HOOKFLOW_PG_PORT:-5432}
CLUSTER=${HOOKFLOW_PG_CLUSTER:-main}

# Reachable with trust auth (no password, never prompt) and `test` exists: nothing to do.
ready() {
  pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null &&
    [ "$(psql -w -h "$HOST" -p "$PORT" -U postgres -d postgres -Atc \
      "SELECT count(*) FROM pg_database WHERE datname = 'test'" 2>/dev/null)" = "1" ]
}

if command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 && ready; then
  echo "postgres: running on $HOST:$PORT"
  exit 0
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "postgres: installing Debian's postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The newest installed version; its cluster (`main`, created by the package, or here).
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$version" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
fi
if [ ! -f "/etc/postgresql/$version/$CLUSTER/postgresql.conf" ]; then
  echo "postgres: creating cluster $version/$CLUSTER"
  pg_createcluster --port "$PORT" "$version" "$CLUSTER" >/dev/null
fi
conf_dir="/etc/postgresql/$version/$CLUSTER"

# Trust auth for local socket and loopback connections, ahead of the package's defaults
# (peer / scram), added once.
hba="$conf_dir/pg_hba.conf"
if ! grep -q '^# hookflow: trust local connections' "$hba"; then
  echo "postgres: enabling trust auth for local connections in $hba"
  {
    echo '# hookflow: trust local connections (tests)'
    echo 'local all all trust'
    echo 'host all all 127.0.0.1/32 trust'
    echo 'host all all ::1/128 trust'
    cat "$hba"
  } >"$hba.new"
  mv "$hba.new" "$hba"
  chown postgres:postgres "$hba" 2>/dev/null || true
  hba_changed=1
fi

status=0
pg_ctlcluster --skip-systemctl-redirect "$version" "$CLUSTER" status >/dev/null 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  echo "postgres: starting cluster $version/$CLUSTER"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$CLUSTER" start
elif [ "${hba_changed:-0}" = 1 ]; then
  pg_ctlcluster --skip-systemctl-redirect "$version" "$CLUSTER" reload
fi

for _ in $(seq 1 60); do
  pg_isready -q -h "$HOST" -p "$PORT" && break
  sleep 0.5
done
if ! pg_isready -h "$HOST" -p "$PORT"; then
  echo "postgres: the server does not answer on $HOST:$PORT" >&2
  exit 1
fi

if [ "$(psql -w -h "$HOST" -p "$PORT" -U postgres -d postgres -Atc \
  "SELECT count(*) FROM pg_database WHERE datname = 'test'")" != "1" ]; then
  echo "postgres: creating database test"
  createdb -w -h "$HOST" -p "$PORT" -U postgres test
fi

if ! ready; then
  echo "postgres: running, but postgres@$HOST:$PORT/test is not reachable with trust auth" >&2
  exit 1
fi
echo "postgres: running on $HOST:$PORT"
