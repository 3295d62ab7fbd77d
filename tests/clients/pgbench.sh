#!/usr/bin/env bash
# pgbench against a running ecomsql server: a custom read-only script
# (a parameter drawn per transaction, an aggregate over Parquet) in every
# protocol mode, 8 clients; every transaction must succeed.
# Usage: tests/clients/pgbench.sh PORT
set -euo pipefail
port=${1:?usage: pgbench.sh PORT}
fail() { echo "pgbench: FAIL: $*" >&2; exit 1; }
script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat > "$script" <<'SQL'
\set uid random(1, 5000)
SELECT count(*) FROM orders WHERE user_id = :uid;
SELECT category, sum(revenue) FROM daily_sales GROUP BY category;
SQL
passed=0
for mode in simple extended prepared; do
  out=$(pgbench -n -h 127.0.0.1 -p "$port" -U analyst -M "$mode" -c 8 -j 2 -t 20 -f "$script" shop 2>&1) \
    || fail "-M $mode exited non-zero: $out"
  processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
  [ "$processed" = "160" ] || fail "-M $mode processed ${processed:-?} of 160: $out"
  [ "${failed:-0}" = "0" ] || fail "-M $mode had $failed failed transactions"
  passed=$((passed + 1))
done
echo "pgbench: $passed passed, 0 failed (simple, extended, prepared; 8 clients x 20 transactions)"
