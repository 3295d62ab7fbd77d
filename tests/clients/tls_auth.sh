#!/usr/bin/env bash
# TLS and SCRAM with psql: generates a test CA and a server certificate,
# writes a users file with `ecomsql user add`, starts its own server with
# --auth scram --tls-cert/--tls-key --require-tls, then checks
# sslmode=verify-full against the CA, a read-only role, wrong passwords
# (28P01), refused plaintext, and that a bad key stops start-up.
# Usage: tests/clients/tls_auth.sh   (run by .ci/run; needs openssl and psql)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=./target/debug/ecomsql
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
fail() { echo "FAIL tls_auth: $*" >&2; exit 1; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ecomsql test CA" \
  -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
  -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$dir/ext.cnf"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
  -CAcreateserial -days 2 -extfile "$dir/ext.cnf" -out "$dir/server.crt" 2>/dev/null

printf 'admin secret\n' | "$bin" user add ops --role admin --users "$dir/users"
printf 'reader secret\n' | "$bin" user add analyst --users "$dir/users"
grep -q 'reader secret' "$dir/users" && fail "the users file holds a password"
[ "$(stat -c %a "$dir/users")" = 600 ] || fail "users file mode $(stat -c %a "$dir/users")"

# Fail closed: a key that does not match the certificate stops start-up.
if "$bin" serve --data data --port 0 --users "$dir/users" \
    --tls-cert "$dir/server.crt" --tls-key "$dir/ca.key" 2>"$dir/bad.log"; then
  fail "started with a mismatched key"
fi
grep -q "do not work together" "$dir/bad.log" || fail "$(cat "$dir/bad.log")"
# And trust on a public address without --insecure-no-auth.
if "$bin" serve --data data --host 0.0.0.0 --port 0 2>"$dir/open.log"; then
  fail "served 0.0.0.0 without authentication"
fi

"$bin" serve --data data --models "$dir/models" --port 0 --users "$dir/users" \
  --tls-cert "$dir/server.crt" --tls-key "$dir/server.key" --require-tls >"$dir/log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$dir/log" | head -n1)
  [ -n "$port" ] && break
  sleep 0.2
done
[ -n "$port" ] || { cat "$dir/log"; fail "server did not start"; }

tls="host=localhost port=$port dbname=shop sslmode=verify-full sslrootcert=$dir/ca.crt"
out=$(PGPASSWORD='reader secret' psql "$tls user=analyst" -X -At -c "SELECT count(*) FROM users" -c '\conninfo')
echo "$out" | grep -qx 5000 || fail "query over TLS: $out"
echo "$out" | grep -q "SSL connection (protocol: TLSv1.3" || fail "not TLS 1.3: $out"
# The read-only role: reads yes, model writes no (42501).
if err=$(PGPASSWORD='reader secret' psql "$tls user=analyst" -X -v ON_ERROR_STOP=1 -c "DROP MODEL IF EXISTS m" 2>&1); then
  fail "read-only user dropped a model"
fi
echo "$err" | grep -q 'is read-only' || fail "$err"
PGPASSWORD='admin secret' psql "$tls user=ops" -X -v ON_ERROR_STOP=1 -q -c \
  "CREATE MODEL m OPTIONS (model_type = 'logistic_regression', label = 'purchased_next_7d') AS SELECT views_30d, purchased_next_7d FROM user_features" >/dev/null 2>"$dir/create.log" \
  || fail "admin could not create a model: $(cat "$dir/create.log")"
# Wrong password and unknown user: the same FATAL 28P01 message.
for user in analyst ghost; do
  if err=$(PGPASSWORD=wrong psql "$tls user=$user" -X -c "SELECT 1" 2>&1); then
    fail "logged in with a wrong password as $user"
  fi
  echo "$err" | grep -q "password authentication failed for user \"$user\"" || fail "$err"
done
# Plaintext is refused; so is a client that does not trust the CA.
if err=$(PGPASSWORD='reader secret' psql "host=127.0.0.1 port=$port user=analyst sslmode=disable" -X -c "SELECT 1" 2>&1); then
  fail "plaintext accepted with --require-tls"
fi
echo "$err" | grep -q "requires TLS" || fail "$err"
if PGPASSWORD='reader secret' psql "host=localhost port=$port user=analyst sslmode=verify-full sslrootcert=/etc/ssl/certs/ca-certificates.crt" -X -c "SELECT 1" >/dev/null 2>&1; then
  fail "verify-full accepted a certificate from an unknown CA"
fi
# A driver verifying the certificate: psycopg 3 from the clients' venv
# (tests/clients/run.sh creates it; CI runs that first).
py=target/clients-venv/bin/python
if [ -x "$py" ]; then
  "$py" - "$port" "$dir/ca.crt" <<'PY' || fail "psycopg over TLS"
import sys, psycopg
port, ca = sys.argv[1], sys.argv[2]
dsn = f"host=localhost port={port} dbname=shop user=analyst password='reader secret' sslmode=verify-full sslrootcert={ca}"
with psycopg.connect(dsn) as conn:
    assert conn.pgconn.ssl_in_use
    assert conn.execute("SELECT count(*) FROM users").fetchone() == (5000,)
try:
    psycopg.connect(dsn.replace("reader secret", "wrong"))
    raise SystemExit("wrong password accepted")
except psycopg.OperationalError as e:
    assert "password authentication failed" in str(e), e
print("psycopg: verify-full + SCRAM ok")
PY
else
  echo "tls_auth: psycopg check skipped ($py missing; run tests/clients/run.sh first)"
fi
echo "tls_auth: TLS 1.3 with verify-full, SCRAM, roles, 28P01, plaintext refused, bad key refused: ok"
