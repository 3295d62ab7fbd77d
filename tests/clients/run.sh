#!/usr/bin/env bash
# Every real-client test against a running ecomsql server on the demo data:
# psql, pgbench, then the Python drivers (psycopg 3, psycopg2, asyncpg, SQLAlchemy 2
# with pandas) and the BI tools' start-up and browse queries (bi_tools/) from a venv under target/, and node-postgres (pg from npm,
# under target/); both created on first use, pinned versions; then pgjdbc
# (Debian's libpostgresql-jdbc-java) with OpenJDK.
# Usage: tests/clients/run.sh PORT
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${1:?usage: tests/clients/run.sh PORT}

tests/clients/psql_smoke.sh "$port"
tests/clients/pgbench.sh "$port"

venv=target/clients-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import psycopg, psycopg2, asyncpg, sqlalchemy, pandas' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    'psycopg[binary]==3.3.9' 'psycopg2-binary==2.9.13' 'asyncpg==0.32.0' \
    'sqlalchemy==2.0.58' 'pandas==3.1.1'
fi
"$venv/bin/python" tests/clients/python_drivers.py "$port"
"$venv/bin/python" tests/clients/bi_tools.py "$port"

node_dir=target/clients-node
if [ ! -f "$node_dir/node_modules/pg/package.json" ]; then
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm install --silent --no-audit --no-fund pg@8.23.1)
fi
node tests/clients/node_pg.js "$port"

jar=/usr/share/java/postgresql.jar
[ -f "$jar" ] || { echo "pgjdbc: $jar is missing (apt-get install libpostgresql-jdbc-java; .ci/run does)" >&2; exit 1; }
classes=target/clients-java
mkdir -p "$classes"
javac -d "$classes" tests/clients/JdbcCheck.java
java -cp "$jar:$classes" JdbcCheck "$port"
