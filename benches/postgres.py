"""Driver of benches/postgres.sh (see there). Writes only under
target/bench/postgres; prints medians and ratios."""
import os
import re
import shutil
import statistics
import subprocess
import time

import duckdb
import psycopg

ROWS = int(os.environ.get("ROWS", 10_000_000))
RUNS = int(os.environ.get("RUNS", 5))
STREAM = 1_000_000
BIN = os.environ.get("ECOMSQL_BIN", "target/release/ecomsql")
PG_BIN = os.environ["PG_BIN"]
WORK = os.path.abspath(f"target/bench/postgres/{ROWS}")
DATA = f"{WORK}/data"
PGDATA = f"{WORK}/pgdata"
PG_PORT = 55480
CATEGORIES = 24

AGGREGATE = ("SELECT category, date_trunc('week', order_time) AS week, sum(revenue) AS revenue, "
             "count(*) AS orders FROM orders GROUP BY 1, 2 ORDER BY 1, 2")
FILTER = "SELECT order_id, revenue FROM orders WHERE user_id = 4242 ORDER BY order_id"
STREAM_SQL = f"SELECT order_id, user_id, revenue, order_time FROM orders WHERE order_id <= {STREAM}"


def ecomsql_sql(*args, sql):
    out = subprocess.run([BIN, "sql", "--data", DATA, "--models", f"{WORK}/models", *args, sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"ecomsql failed: {out.stderr}")
    return out


def generate():
    os.makedirs(DATA, exist_ok=True)
    path = f"{DATA}/orders.parquet"
    if not os.path.exists(path):
        tmp = f"{path}.tmp"
        # Deterministic columns from the row number (hash-scrambled), so
        # both engines load exactly the same rows.
        ecomsql_sql("--format", "parquet", "--output", tmp, sql=(
            "SELECT value AS order_id, "
            "(value * 2654435761) % 200000 + 1 AS user_id, "
            f"'category_' || CAST((value * 40503) % {CATEGORIES} AS VARCHAR) AS category, "
            "CAST(to_timestamp_seconds(1704067200 + (value * 7919) % 31536000) AS TIMESTAMP) AS order_time, "
            "CAST(((value * 48271) % 100000) AS DOUBLE) / 100.0 AS revenue "
            f"FROM generate_series(1, {ROWS})"))
        os.replace(tmp, path)
    return path


def start_postgres(csv_path):
    fresh = not os.path.exists(f"{PGDATA}/PG_VERSION")
    if fresh:
        os.makedirs(PGDATA, exist_ok=True)
        shutil.chown(PGDATA, "postgres", "postgres")
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-D", PGDATA,
                        "--auth=trust", "-U", "postgres"], check=True, capture_output=True)
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", PGDATA, "-w",
                    "-l", f"{PGDATA}/log", "-o",
                    f"-p {PG_PORT} -k /tmp -c listen_addresses=127.0.0.1 -c shared_buffers=2GB "
                    "-c work_mem=256MB -c max_parallel_workers_per_gather=2 -c jit=off",
                    "start"], check=True, capture_output=True)
    if fresh:
        with psycopg.connect(f"host=127.0.0.1 port={PG_PORT} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE TABLE orders (order_id bigint, user_id bigint, category text, "
                         "order_time timestamp, revenue double precision)")
            with open(csv_path, "rb") as f, conn.cursor().copy(
                    "COPY orders FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            conn.execute("CREATE INDEX ON orders (user_id)")
            conn.execute("CREATE INDEX ON orders (order_id)")
            conn.execute("VACUUM ANALYZE orders")


def stop_postgres():
    subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", PGDATA, "-m",
                    "fast", "stop"], capture_output=True)


def start_ecomsql():
    log = open(f"{WORK}/ecomsql.log", "w")
    proc = subprocess.Popen([BIN, "serve", "--data", DATA, "--models", f"{WORK}/models",
                             "--port", "0"], stderr=log, stdout=subprocess.DEVNULL)
    for _ in range(200):
        time.sleep(0.05)
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(f"{WORK}/ecomsql.log").read())
        if m:
            return proc, int(m.group(1))
    raise SystemExit("ecomsql did not start")


def median_ms(f):
    f()  # warm
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        results = {}
        agg = conn.execute(AGGREGATE).fetchall()
        results["aggregate_rows"] = agg
        results["aggregate"] = median_ms(lambda: conn.execute(AGGREGATE).fetchall())
        results["filter_rows"] = conn.execute(FILTER).fetchall()
        results["filter"] = median_ms(lambda: conn.execute(FILTER).fetchall())

        def fetch():
            n = 0
            with conn.transaction(), conn.cursor(name="stream") as cur:
                cur.itersize = 10_000
                cur.execute(STREAM_SQL)
                for _ in cur:
                    n += 1
            assert n == STREAM, n

        def copy():
            size = 0
            with conn.cursor().copy(f"COPY ({STREAM_SQL}) TO STDOUT") as out:
                for block in out:
                    size += len(block)
            assert size > STREAM * 20, size

        results["fetch"] = median_ms(fetch)
        results["copy"] = median_ms(copy)
    return results


def main():
    parquet = generate()
    csv_path = f"{WORK}/orders.csv"
    if not os.path.exists(f"{PGDATA}/PG_VERSION") and not os.path.exists(csv_path):
        ecomsql_sql("--format", "csv", "--output", f"{csv_path}.tmp", sql="SELECT * FROM orders")
        os.replace(f"{csv_path}.tmp", csv_path)
    start_postgres(csv_path)
    try:
        pg = measure(f"host=127.0.0.1 port={PG_PORT} user=postgres dbname=postgres")
    finally:
        stop_postgres()
    proc, port = start_ecomsql()
    try:
        ours = measure(f"host=127.0.0.1 port={port} user=bench dbname=shop")
    finally:
        proc.terminate()
        proc.wait()
    # Same answers from both.
    def same(a, b):
        # Sums of doubles in another order differ in the last bits.
        return (a[0], a[1].replace(tzinfo=None), int(a[3])) == (b[0], b[1].replace(tzinfo=None), int(b[3])) \
            and abs(float(a[2]) - float(b[2])) <= 1e-9 * abs(float(b[2])) + 1e-6
    assert len(ours["aggregate_rows"]) == len(pg["aggregate_rows"]) and all(
        same(a, b) for a, b in zip(ours["aggregate_rows"], pg["aggregate_rows"])), "aggregates differ"
    assert [(int(a), round(float(b), 6)) for a, b in ours["filter_rows"]] == \
        [(int(a), round(float(b), 6)) for a, b in pg["filter_rows"]], "filters differ"
    con = duckdb.connect()
    duck_sql = AGGREGATE.replace("FROM orders", f"FROM read_parquet('{parquet}')")
    duck = median_ms(lambda: con.execute(duck_sql).fetchall())

    print(f"ecomsql vs PostgreSQL 15 (psycopg 3, {ROWS:,} order rows, median of {RUNS}, 2 cores)")
    for key, label in [("aggregate", "revenue by category and week"),
                       ("filter", "selective filter (user_id = 4242; PG has an index)"),
                       ("fetch", f"stream {STREAM:,} rows, server-side cursor"),
                       ("copy", f"stream {STREAM:,} rows, COPY TO STDOUT")]:
        print(f"  {label:52} ecomsql {ours[key]:9.1f} ms   PostgreSQL {pg[key]:9.1f} ms   "
              f"PostgreSQL / ecomsql = {pg[key] / ours[key]:.2f}")
    print(f"  {'aggregate in DuckDB on the Parquet file':52} DuckDB  {duck:9.1f} ms   "
          f"ecomsql / DuckDB = {ours['aggregate'] / duck:.2f}")


if __name__ == "__main__":
    main()
