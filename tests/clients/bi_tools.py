"""BI tools' start-up and browse queries against a running ecomsql server.

The fixtures in bi_tools/*.sql are written from what each tool sends when
it connects and when a user browses schemas, tables and columns (see each
file's header); they are run through asyncpg (extended protocol, binary
results, server-typed parameters, as pgjdbc and Npgsql use it), and each
result is checked against the expectations written beside it:

    -- query: name
    -- params: value, value        ($1, $2, ... as text)
    -- expect: rows N | contains TEXT | columns a,b

Superset browses through SQLAlchemy's inspector, so its part runs the
inspector itself. Usage: bi_tools.py PORT
"""
import asyncio
import pathlib
import sys

import asyncpg
import sqlalchemy as sa

PORT = int(sys.argv[1])
HERE = pathlib.Path(__file__).parent / "bi_tools"


def parse(path):
    """The queries of one fixture file: (name, params, expectations, sql)."""
    queries, current = [], None
    for line in path.read_text().splitlines():
        if line.startswith("-- query:"):
            current = {"name": line[len("-- query:"):].strip(), "params": [], "expect": [], "sql": []}
            queries.append(current)
        elif current is None:
            continue
        elif line.startswith("-- params:"):
            current["params"] = [p.strip() for p in line[len("-- params:"):].split(",")]
        elif line.startswith("-- expect:"):
            current["expect"].append(line[len("-- expect:"):].strip())
        elif not line.startswith("--"):
            current["sql"].append(line)
    return queries


def check(expectations, columns, rows):
    cells = {str(v) for row in rows for v in row}
    for e in expectations:
        kind, _, value = e.partition(" ")
        if kind == "rows":
            assert len(rows) == int(value), f"{len(rows)} rows, expected {value}"
        elif kind == "contains":
            assert value in cells, f"no cell {value!r} in {sorted(cells)[:20]}"
        elif kind == "columns":
            assert columns == value.split(","), f"columns {columns}"
        else:
            raise AssertionError(f"unknown expectation {e!r}")


async def run_fixtures():
    passed = failed = 0
    for path in sorted(HERE.glob("*.sql")):
        tool = path.stem
        conn = await asyncpg.connect(f"postgresql://analyst@127.0.0.1:{PORT}/shop")
        try:
            for q in parse(path):
                sql = "\n".join(q["sql"]).strip().rstrip(";")
                try:
                    if sql.upper().startswith("DISCARD"):
                        await conn.execute(sql)
                        columns, rows = [], []
                    else:
                        statement = await conn.prepare(sql)
                        columns = [a.name for a in statement.get_attributes()]
                        rows = await statement.fetch(*q["params"])
                    check(q["expect"], columns, rows)
                    passed += 1
                    print(f"ok   {tool}: {q['name']}")
                except Exception as e:  # noqa: BLE001 - report every failure
                    failed += 1
                    print(f"FAIL {tool}: {q['name']}: {type(e).__name__}: {e}")
            # The session is still usable after the tool's queries.
            assert await conn.fetchval("SELECT 41 + 1") == 42
        finally:
            await conn.close()
    return passed, failed


def superset():
    """Superset's database page and dataset editor, through SQLAlchemy."""
    engine = sa.create_engine(f"postgresql+psycopg://analyst@127.0.0.1:{PORT}/shop")
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1  # "Test connection"
        inspector = sa.inspect(engine)
        assert "public" in inspector.get_schema_names()
        tables = inspector.get_table_names(schema="public")
        assert "orders" in tables, tables
        assert inspector.get_view_names(schema="ecomsql") == ["models"]
        columns = {c["name"]: str(c["type"]) for c in inspector.get_columns("orders", schema="public")}
        assert columns.get("revenue", "").startswith("NUMERIC"), columns
        assert inspector.get_pk_constraint("orders", schema="public")["constrained_columns"] == []
        assert inspector.get_foreign_keys("orders", schema="public") == []
        assert inspector.get_indexes("orders", schema="public") == []
    finally:
        engine.dispose()


def main():
    passed, failed = asyncio.run(run_fixtures())
    try:
        superset()
        passed += 1
        print("ok   superset: schemas, tables, views, columns, keys and indexes (SQLAlchemy inspector)")
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL superset: {type(e).__name__}: {e}")
    print(f"BI tools: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
