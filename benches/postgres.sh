#!/usr/bin/env bash
# ecomsql against PostgreSQL 15 on the same 10 million order rows, through
# the same driver (psycopg 3): a grouped aggregate (revenue by category and
# week), a selective filter, and streaming 1,000,000 rows to the client
# (cursor fetch and COPY TO STDOUT); DuckDB on the same Parquet file for the
# aggregate. Starts its own PostgreSQL (Debian's postgresql-15, as the
# postgres user, on a loopback port, data under target/bench/postgres) and
# its own release ecomsql server.
# Usage: benches/postgres.sh   (ROWS, RUNS to change sizes; CARGO_TARGET_DIR
# is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
pg=/usr/lib/postgresql/15/bin
[ -x "$pg/initdb" ] || { echo "needs Debian's postgresql-15 (apt-get install postgresql-15)" >&2; exit 1; }
venv=target/bench/venv-postgres
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'psycopg[binary]==3.3.9' 'duckdb==2.0.1'
fi
export ECOMSQL_BIN="${CARGO_TARGET_DIR:-target}/release/ecomsql"
export PG_BIN="$pg"
exec "$venv/bin/python" benches/postgres.py "$@"
