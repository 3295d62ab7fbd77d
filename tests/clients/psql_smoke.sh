#!/usr/bin/env bash
# psql against a running ecomsql server: \dt, \d, \d+, \dt+, \l, \dn, \dv,
# \du, \df, \x, FETCH_COUNT, \copy and COPY, a query, errors with their
# SQLSTATE, ON_ERROR_STOP, a multi-statement -c, Ctrl-C, RESET.
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

# \l, \dn, \dv, \du: the databases, schemas, the models view and the
# catalog's role, as the catalog defines them.
dbs=$(psql_q -At -c '\l' | cut -d'|' -f1 | tr '\n' ' ')
[ "$dbs" = "ecomsql postgres " ] || fail "\\l listed: $dbs"
schemas=$(psql_q -At -c '\dn' | tr '\n' ' ')
[ "$schemas" = "ecomsql|postgres public|postgres " ] || fail "\\dn listed: $schemas"
views=$(psql_q -At -c '\dv ecomsql.*')
[ "$views" = "ecomsql|models|view|postgres" ] || fail "\\dv ecomsql.*: $views"
roles=$(psql_q -At -c '\du')
[ "$roles" = "postgres|Superuser|{}" ] || fail "\\du: $roles"

# \d+ (its table query has ARRAY(SELECT ... FROM unnest(...))): every
# column of orders with its type and storage.
detail=$(psql_q -At -c '\d+ orders' | cut -d'|' -f1,2,6 | tr '\n' ' ')
[ "$detail" = "order_id|bigint|plain user_id|bigint|plain item_id|bigint|plain order_time|timestamp with time zone|plain quantity|integer|plain unit_price|numeric|main revenue|numeric|main " ] \
  || fail "\\d+ orders gave: $detail"

# \x: expanded records.
expanded=$(psql_q -c '\x on' -c 'SELECT user_id, country FROM users ORDER BY user_id LIMIT 2' | tr '\n' ' ')
case "$expanded" in
  *"-[ RECORD 1 ]"*"user_id | 1"*"-[ RECORD 2 ]"*"user_id | 2"*) ;;
  *) fail "\\x gave: $expanded" ;;
esac

# \set FETCH_COUNT 100: psql reads through a cursor 100 rows at a time; all
# 5,000 users arrive, in order.
fetched=$(psql_q -At -c '\set FETCH_COUNT 100' -c 'SELECT user_id FROM users ORDER BY user_id')
[ "$(echo "$fetched" | wc -l)" -eq 5000 ] || fail "FETCH_COUNT: $(echo "$fetched" | wc -l) rows"
[ "$(echo "$fetched" | sed -n '1p;101p;5000p' | tr '\n' ' ')" = "1 101 5000 " ] || fail "FETCH_COUNT order"

# \copy and COPY ... TO STDOUT in text, CSV and binary.
first3=$(psql_q -At -F, -c 'SELECT user_id, country FROM users ORDER BY user_id LIMIT 3' | tr '\n' ' ')
csv=$(psql_q -c '\copy (SELECT user_id, country FROM users ORDER BY user_id LIMIT 3) TO STDOUT CSV HEADER' | tr '\n' ' ')
[ "$csv" = "user_id,country $first3" ] || fail "\\copy CSV HEADER gave: $csv (expected user_id,country $first3)"
text=$(psql_q -c 'COPY (SELECT user_id, country FROM users ORDER BY user_id LIMIT 3) TO STDOUT' | tr '\t\n' ', ')
[ "$text" = "$first3" ] || fail "COPY text gave: $text"
csv=$(psql_q -c 'COPY (SELECT user_id, country FROM users ORDER BY user_id LIMIT 3) TO STDOUT (FORMAT csv, HEADER)' | tr '\n' ' ')
[ "$csv" = "user_id,country $first3" ] || fail "COPY CSV gave: $csv"
# Binary: the 11-byte signature, flags and header extension (0), then per
# row a field count of 1 and an 8-byte length-prefixed bigint, then -1.
binary=$(psql_q -c 'COPY (SELECT user_id FROM users ORDER BY user_id LIMIT 2) TO STDOUT (FORMAT binary)' | od -An -tx1 | tr -d ' \n')
expected="5047434f50590aff0d0a00""0000000000000000""0001""00000008""0000000000000001""0001""00000008""0000000000000002""ffff"
[ "$binary" = "$expected" ] || fail "COPY binary gave: $binary"

# RESET puts a setting back to the session's start (here PGOPTIONS').
shown=$(PGOPTIONS='-c statement_timeout=7s' psql_q -At -c "SET statement_timeout = '1s'" -c 'RESET ALL' -c 'SHOW statement_timeout')
[ "$shown" = "7000ms" ] || fail "RESET ALL left statement_timeout at: $shown"

echo "psql smoke: 18 passed, 0 failed"
