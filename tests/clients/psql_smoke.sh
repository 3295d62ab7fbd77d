#!/usr/bin/env bash
# psql against a running ecomsql server: \dt, \d, a query, an error with its
# SQLSTATE, ON_ERROR_STOP, and a multi-statement -c.
# Usage: tests/clients/psql_smoke.sh PORT
set -euo pipefail
port=${1:?usage: psql_smoke.sh PORT}
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=analyst PGDATABASE=shop PGCONNECT_TIMEOUT=10
fail() { echo "psql smoke: FAIL: $*" >&2; exit 1; }
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

tables=$(psql_q -At -c '\dt' | cut -d'|' -f2 | sort | tr '\n' ' ')
[ "$tables" = "daily_sales events items orders reviews user_features users " ] || fail "\\dt listed: $tables"

columns=$(psql_q -At -c '\d orders' | cut -d'|' -f1,2 | tr '\n' ' ')
case "$columns" in
  *"order_id|bigint"*"order_time|timestamp with time zone"*"revenue|numeric"*) ;;
  *) fail "\\d orders gave: $columns" ;;
esac

categories=$(psql_q -At -c 'SELECT category, sum(revenue) FROM daily_sales GROUP BY 1 ORDER BY 2 DESC' | wc -l)
[ "$categories" -eq 8 ] || fail "expected 8 categories, got $categories"

rows=$(psql_q -At -c 'SELECT count(*) FROM users; SELECT count(*) FROM items' | tr '\n' ' ')
[ "$rows" = "5000 1000 " ] || fail "multi-statement -c gave: $rows"

models=$(psql_q -At -c 'SHOW MODELS' | wc -l)
[ "$models" -eq 0 ] || fail "SHOW MODELS on the demo data listed $models models"

set +e
err=$(psql -X -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c 'SELECT * FROM no_such_table' 2>&1)
code=$?
set -e
[ "$code" -ne 0 ] || fail "an error must give a non-zero exit"
case "$err" in *"42P01"*) ;; *) fail "expected SQLSTATE 42P01, got: $err" ;; esac

script=$(mktemp)
printf 'SELECT 1;\nSELECT * FROM nope;\nSELECT 3;\n' > "$script"
set +e
out=$(psql -X -At -v ON_ERROR_STOP=1 -f "$script" 2>&1)
code=$?
set -e
rm -f "$script"
[ "$code" -eq 3 ] || fail "psql -f with ON_ERROR_STOP should exit 3 on a failing statement, got $code"
case "$out" in *"3"*"3"*) fail "statements after the error ran: $out" ;; esac

# Ctrl-C (SIGINT to psql sends a cancel request) stops a running query
# within a second, and SET statement_timeout stops one during execution.
slow="SELECT count(*) FROM generate_series(1, 200000) a CROSS JOIN generate_series(1, 200000) b"
set +e
start=$(date +%s%N)
err=$(timeout -s INT 1 psql -X -c "$slow" 2>&1)
took=$(( ($(date +%s%N) - start) / 1000000 ))
set -e
case "$err" in *"canceling statement due to user request"*) ;; *) fail "Ctrl-C: $err" ;; esac
[ "$took" -lt 2500 ] || fail "Ctrl-C took ${took} ms"
set +e
err=$(psql -X -c "SET statement_timeout = '300ms'" -c "$slow" 2>&1)
set -e
case "$err" in *"canceling statement due to statement timeout"*) ;; *) fail "statement_timeout: $err" ;; esac
[ "$(psql_q -At -c 'SELECT 1')" = 1 ] || fail "server unusable after cancels"

# \df lists ecomsql's functions with their signatures.
df=$(psql_q -At -c '\df')
echo "$df" | grep -q '^public|predict_purchase|double precision|model text, VARIADIC features "any"|func$' || fail "\df: $df"
echo "$df" | grep -q '^public|roc_auc|double precision|score double precision, label boolean|agg$' || fail "\df: $df"

# \dt+ shows each table's size on disk: events.parquet's bytes, as
# pg_size_pretty prints them.
events_bytes=$(stat -c %s "$(dirname "$0")/../../data/events.parquet")
expected=$(psql_q -At -c "SELECT pg_size_pretty($events_bytes::bigint)")
size=$(psql_q -At -c '\dt+ events' | cut -d'|' -f7)
[ "$size" = "$expected" ] || fail "\dt+ events: size '$size', expected '$expected'"

echo "psql smoke: 10 passed, 0 failed"
