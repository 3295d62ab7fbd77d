"""psycopg 3, psycopg2 and asyncpg against a running ecomsql server on the
demo data: parameters, result types, prepared statements, server-side
cursors, COPY. Each check asserts values and types.
Usage: python tests/clients/python_drivers.py PORT  (run by tests/clients/run.sh)"""
import asyncio
import datetime as dt
import decimal
import sys
import traceback

import asyncpg
import pandas as pd
import psycopg
import psycopg2
import psycopg2.extras
import sqlalchemy as sa

PORT = int(sys.argv[1])
DSN = f"host=127.0.0.1 port={PORT} user=analyst dbname=shop"
results = []


def check(name):
    def wrap(f):
        try:
            if asyncio.iscoroutinefunction(f):
                asyncio.run(f())
            else:
                f()
            results.append((name, None))
        except Exception:  # noqa: BLE001 - report every failure, then exit 1
            results.append((name, traceback.format_exc()))
        return f
    return wrap


@check("psycopg: version and server_version look like PostgreSQL")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        (version,) = conn.execute("SELECT version()").fetchone()
        assert version.startswith("PostgreSQL 16.") and "ecomsql" in version, version
        assert conn.info.server_version >= 160000, conn.info.server_version
        assert conn.info.parameter_status("server_version").startswith("16.")


@check("psycopg: parameters of every common type")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT %s + 1, %s * 2, upper(%s), %s::date, %s::timestamp, NOT %s, %s IS NULL",
            (41, 1.25, "abc", dt.date(2025, 1, 2), dt.datetime(2025, 1, 2, 3, 4, 5), True, None),
        ).fetchone()
        assert row == (42, 2.5, "ABC", dt.date(2025, 1, 2), dt.datetime(2025, 1, 2, 3, 4, 5), False, True), row
        (n,) = conn.execute("SELECT count(*) FROM users WHERE user_id = ANY(%s)", ([1, 2, 3, 99999],)).fetchone()
        assert n == 3, n
        (n,) = conn.execute("SELECT count(*) FROM users WHERE user_id < %s", (11,)).fetchone()
        assert n == 10, n


@check("psycopg: numeric is Decimal, timestamptz aware, arrays lists")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            revenue, when, user = cur.execute(
                "SELECT revenue, order_time, user_id FROM orders ORDER BY order_id LIMIT 1").fetchone()
            assert isinstance(revenue, decimal.Decimal), type(revenue)
            assert when.tzinfo is not None and when.utcoffset() == dt.timedelta(0), when
            assert isinstance(user, int)
            (arr,) = cur.execute("SELECT make_array(1, 2, 3)").fetchone()
            assert arr == [1, 2, 3], arr


@check("psycopg: the same prepared statement 8 times (switches to prepared)")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        expected = {u: c for u, c in conn.execute(
            "SELECT user_id, count(*) FROM orders WHERE user_id <= 8 GROUP BY user_id").fetchall()}
        for user in range(1, 9):
            (n,) = conn.execute("SELECT count(*) FROM orders WHERE user_id = %s", (user,)).fetchone()
            assert n == expected.get(user, 0), (user, n)
        for user in range(1, 9):
            (n,) = conn.execute("SELECT count(*) FROM orders WHERE user_id = %s", (user,), prepare=True).fetchone()
            assert n == expected.get(user, 0), (user, n)


@check("psycopg: server-side cursor with fetchmany")
def _():
    with psycopg.connect(DSN) as conn:
        with conn.cursor(name="orders_cursor") as cur:
            cur.execute("SELECT order_id FROM orders ORDER BY order_id")
            first = cur.fetchmany(100)
            second = cur.fetchmany(100)
        assert [r[0] for r in first] == list(range(1, 101)), first[:3]
        assert [r[0] for r in second] == list(range(101, 201)), second[:3]


@check("psycopg: COPY TO STDOUT, text and binary")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        cur = conn.cursor()
        with cur.copy("COPY (SELECT user_id, country FROM users ORDER BY user_id LIMIT 3) TO STDOUT") as copy:
            text = b"".join(bytes(b) for b in copy)
        rows = cur.execute("SELECT user_id, country FROM users ORDER BY user_id LIMIT 3").fetchall()
        assert text.decode() == "".join(f"{u}\t{c}\n" for u, c in rows), text
        with cur.copy("COPY (SELECT order_id, revenue, order_time FROM orders ORDER BY order_id LIMIT 2) "
                      "TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["int8", "numeric", "timestamptz"])
            got = list(copy.rows())
        want = cur.execute("SELECT order_id, revenue, order_time FROM orders ORDER BY order_id LIMIT 2").fetchall()
        assert got == want, (got, want)


@check("psycopg: errors carry SQLSTATEs and the session survives")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        try:
            conn.execute("SELECT * FROM no_such_table")
            raise AssertionError("should fail")
        except psycopg.errors.UndefinedTable:
            pass
        assert conn.execute("SELECT 1").fetchone() == (1,)


@check("psycopg: ecomsql functions")
def _():
    with psycopg.connect(DSN, autocommit=True) as conn:
        (score,) = conn.execute("SELECT sentiment(%s)", ("Great quality, love it!",)).fetchone()
        assert 0.5 < score < 1.0, score
        (label,) = conn.execute("SELECT sentiment_label(%s)", ("质量差，要退货",)).fetchone()
        assert label == "negative", label


@check("psycopg2: parameters, types, named cursor, copy_expert")
def _():
    conn = psycopg2.connect(DSN)
    try:
        cur = conn.cursor()
        cur.execute("SELECT %s + 1, %s, %s IS NULL", (41, "x", None))
        assert cur.fetchone() == (42, "x", True)
        cur.execute("SELECT revenue, order_time FROM orders ORDER BY order_id LIMIT 1")
        revenue, when = cur.fetchone()
        assert isinstance(revenue, decimal.Decimal) and when.tzinfo is not None, (revenue, when)
        named = conn.cursor(name="c2")
        named.execute("SELECT user_id FROM users ORDER BY user_id")
        assert [r[0] for r in named.fetchmany(5)] == [1, 2, 3, 4, 5]
        named.close()
        conn.rollback()
        import io
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT user_id FROM users ORDER BY user_id LIMIT 3) TO STDOUT WITH CSV HEADER", out)
        assert out.getvalue() == "user_id\n1\n2\n3\n", out.getvalue()
    finally:
        conn.close()


@check("asyncpg: prepare, parameters and attributes, binary decoding")
async def _():
    conn = await asyncpg.connect(host="127.0.0.1", port=PORT, user="analyst", database="shop")
    try:
        stmt = await conn.prepare("SELECT order_id, revenue, order_time, user_id FROM orders WHERE user_id = $1 ORDER BY order_id")
        assert [t.name for t in stmt.get_parameters()] == ["int8"], stmt.get_parameters()
        assert [a.name for a in stmt.get_attributes()] == ["order_id", "revenue", "order_time", "user_id"]
        rows = await stmt.fetch(2)
        assert rows and all(r["user_id"] == 2 for r in rows)
        assert isinstance(rows[0]["revenue"], decimal.Decimal)
        assert rows[0]["order_time"].tzinfo is not None
        row = await conn.fetchrow("SELECT $1::float8 * 2 AS d, $2::text AS t, $3 IS NULL AS n", 1.5, "x", None)
        assert (row["d"], row["t"], row["n"]) == (3.0, "x", True), row
        # Arrays (asyncpg's type introspection, answered by the server), a
        # list parameter, structs (records) from ecomsql functions.
        row = await conn.fetchrow("SELECT make_array(1, 2) AS i, make_array(1.5, 2.5) AS f, make_array('x', 'y') AS t")
        assert (row["i"], row["f"], row["t"]) == ([1, 2], [1.5, 2.5], ["x", "y"]), row
        (n,) = await conn.fetchrow("SELECT count(*) FROM users WHERE user_id = ANY($1)", [1, 2, 3, 99999])
        assert n == 3, n
        rows = await conn.fetch(
            "SELECT unnest(forecast_ar(day, revenue, 3)) AS f FROM daily_sales WHERE category = 'books'")
        assert len(rows) == 3 and all(len(r["f"]) == 6 for r in rows), rows
        steps = [r["f"][1] for r in rows]
        assert steps == [1, 2, 3], steps
        lower, point, upper = rows[0]["f"][3], rows[0]["f"][2], rows[0]["f"][4]
        assert lower < point < upper, rows[0]
        (aspects,) = await conn.fetchrow("SELECT sentiment_aspects('Great quality but slow delivery')")
        assert aspects[0] > 0 and aspects[2] < 0 and aspects[5] is None, aspects
        row = await conn.fetchrow("SELECT sentiment($1) AS s, version() AS v", "very good")
        assert row["s"] > 0.5 and row["v"].startswith("PostgreSQL 16."), row
    finally:
        await conn.close()


@check("asyncpg: a model trained in SQL; recommend's rows and model_info decoded in binary")
async def _():
    conn = await asyncpg.connect(host="127.0.0.1", port=PORT, user="analyst", database="shop")
    try:
        await conn.execute(
            "CREATE OR REPLACE MODEL asyncpg_recs OPTIONS (model_type = 'matrix_factorization', "
            "factors = 8, iterations = 3) AS SELECT user_id, item_id FROM events")
        stmt = await conn.prepare("SELECT * FROM recommend('asyncpg_recs', 5, $1::bigint)")
        assert [a.name for a in stmt.get_attributes()] == ["user_id", "item_id", "score", "rank", "source"]
        assert [a.type.name for a in stmt.get_attributes()] == ["int8", "int8", "float8", "int4", "text"]
        rows = await stmt.fetch(42)
        assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5], rows
        assert all(r["user_id"] == 42 for r in rows), rows
        scores = [r["score"] for r in rows]
        assert scores == sorted(scores, reverse=True), scores
        # Seen items are left out, as when serving.
        seen = {r["item_id"] for r in await conn.fetch("SELECT DISTINCT item_id FROM events WHERE user_id = 42")}
        got = [r["item_id"] for r in rows]
        assert len(set(got)) == 5 and not seen & set(got), (got, seen)
        # The same rows with the user as a constant (a parameter is
        # rewritten to a filter, src/server/function_parameters.rs).
        constant = await conn.fetch("SELECT * FROM recommend('asyncpg_recs', 5, 42)")
        assert [tuple(r) for r in constant] == [tuple(r) for r in rows], (constant, rows)
        (n,) = await conn.fetchrow("SELECT count(*) FROM ecomsql.models WHERE name = 'asyncpg_recs'")
        assert n == 1, n
        # psycopg 3 binds %s server-side too.
        with psycopg.connect(DSN, autocommit=True) as pconn:
            got = pconn.execute("SELECT item_id FROM recommend('asyncpg_recs', 5, %s) ORDER BY rank", (42,)).fetchall()
        assert [r[0] for r in got] == [r["item_id"] for r in rows], got
    finally:
        await conn.execute("DROP MODEL IF EXISTS asyncpg_recs")
        await conn.close()


@check("asyncpg: cursor with prefetch inside a transaction")
async def _():
    conn = await asyncpg.connect(host="127.0.0.1", port=PORT, user="analyst", database="shop")
    try:
        async with conn.transaction():
            ids = [r["user_id"] async for r in conn.cursor("SELECT user_id FROM users ORDER BY user_id", prefetch=50)]
        assert ids == list(range(1, 5001)), (len(ids), ids[:3])
    finally:
        await conn.close()


@check("SQLAlchemy 2 + pandas: connect, dialect version, table names, read_sql_query")
def _():
    engine = sa.create_engine(f"postgresql+psycopg://analyst@127.0.0.1:{PORT}/shop")
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        assert engine.dialect.server_version_info[:2] == (16, 6), engine.dialect.server_version_info
        # get_schema_names sends LIKE ... ESCAPE '/' with a parameter; as
        # from Postgres, information_schema is among them.
        assert sa.inspect(engine).get_schema_names() == ["ecomsql", "information_schema", "public"]
        names = sorted(sa.inspect(engine).get_table_names())
        assert names == ["daily_sales", "events", "items", "orders", "reviews", "user_features", "users"], names
        frame = pd.read_sql_query(
            sa.text("SELECT category, count(*) AS n FROM items WHERE item_id <= :top GROUP BY 1 ORDER BY 1"),
            engine, params={"top": 100})
        assert list(frame.columns) == ["category", "n"] and frame["n"].sum() == 100, frame
    finally:
        engine.dispose()


@check("SQLAlchemy inspector (Superset's table metadata): columns with types, keys, indexes, comments")
def _():
    engine = sa.create_engine(f"postgresql+psycopg://analyst@127.0.0.1:{PORT}/shop")
    try:
        inspector = sa.inspect(engine)
        # Nine of get_columns' parameters sit in a select-list subquery that
        # datafusion-postgres rewrites away; its correlated lookups need
        # single_value (src/optimizer.rs).
        columns = inspector.get_columns("items")
        got = [(c["name"], type(c["type"]).__name__, c["nullable"]) for c in columns]
        assert got == [
            ("item_id", "BIGINT", False), ("title", "TEXT", False), ("title_zh", "TEXT", False),
            ("category", "TEXT", False), ("category_zh", "TEXT", False), ("brand", "TEXT", False),
            ("price", "NUMERIC", False), ("launch_date", "DATE", False),
        ], got
        orders = {c["name"]: type(c["type"]).__name__ for c in inspector.get_columns("orders")}
        assert orders["order_time"] == "TIMESTAMP" and orders["revenue"] == "NUMERIC", orders
        every = inspector.get_multi_columns()
        assert sorted(name for _, name in every) == sorted(inspector.get_table_names()), every.keys()
        # ecomsql has no keys or indexes: empty answers, not errors
        # (generate_subscripts and unnest(pg_index.indkey) must plan).
        assert inspector.get_pk_constraint("items") == {"name": None, "constrained_columns": []}
        assert inspector.get_indexes("items") == []
        assert inspector.get_unique_constraints("items") == []
        assert inspector.get_foreign_keys("items") == []
        assert inspector.get_check_constraints("items") == []
        assert inspector.get_table_comment("items") == {"text": None}
        # Unqualified names see the search path (public), as in Postgres.
        assert inspector.get_view_names() == []
        assert inspector.get_view_names(schema="ecomsql") == ["models"]
        # A table that is not there is NoSuchTableError, as with Postgres.
        try:
            inspector.get_columns("no_such_table")
            raise AssertionError("no error for a missing table")
        except sa.exc.NoSuchTableError:
            pass
    finally:
        engine.dispose()


@check("psycopg: a failed nested transaction (savepoint) rolls back and the outer block goes on")
def _():
    with psycopg.connect(DSN) as conn:
        with conn.transaction():
            try:
                with conn.transaction():  # SAVEPOINT; ROLLBACK TO on error
                    conn.execute("SELECT nope FROM users")
                raise AssertionError("no error")
            except psycopg.errors.UndefinedColumn:
                pass
            # The block is open again, as in Postgres.
            assert conn.execute("SELECT count(*) FROM items").fetchone() == (1000,)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


SLOW = "SELECT count(*) FROM generate_series(1, 200000) a CROSS JOIN generate_series(1, 200000) b"


@check("psycopg: cancel_safe() from another thread stops a running query; the connection goes on")
def _():
    import threading
    import time
    with psycopg.connect(DSN, autocommit=True) as conn:
        timer = threading.Timer(0.5, conn.cancel_safe)
        timer.start()
        started = time.monotonic()
        try:
            conn.execute(SLOW)
            raise AssertionError("the slow query finished")
        except psycopg.errors.QueryCanceled as e:
            assert e.sqlstate == "57014", e.sqlstate
        took = time.monotonic() - started
        assert took < 1.5, took
        assert conn.execute("SELECT 40 + 2").fetchone() == (42,)


@check("psycopg2: conn.cancel() and statement_timeout give 57014")
def _():
    import threading
    conn = psycopg2.connect(DSN)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        threading.Timer(0.5, conn.cancel).start()
        try:
            cur.execute(SLOW)
            raise AssertionError("the slow query finished")
        except psycopg2.errors.QueryCanceled as e:
            assert e.pgcode == "57014", e.pgcode
        cur.execute("SET statement_timeout = '300ms'")
        try:
            cur.execute(SLOW)
            raise AssertionError("the slow query finished")
        except psycopg2.errors.QueryCanceled as e:
            assert "statement timeout" in str(e), str(e)
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    finally:
        conn.close()


@check("asyncpg: fetch(timeout=0.5) cancels a slow query; the connection goes on")
async def _():
    import time
    conn = await asyncpg.connect(host="127.0.0.1", port=PORT, user="analyst", database="shop")
    try:
        started = time.monotonic()
        try:
            await conn.fetch(SLOW, timeout=0.5)
            raise AssertionError("the slow query finished")
        except asyncio.TimeoutError:
            pass
        assert time.monotonic() - started < 1.5
        assert await conn.fetchval("SELECT 42::int8") == 42
    finally:
        await conn.close()


failed = [(n, e) for n, e in results if e]
for name, error in results:
    print(("ok   " if error is None else "FAIL ") + name)
    if error:
        print(error)
print(f"python drivers: {len(results) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
