// node-postgres (pg) against a running ecomsql server on the demo data:
// parameters of several types, type parsing of results, prepared (named)
// statements, errors with SQLSTATEs. Exits 1 on any failure.
// Usage: node tests/clients/node_pg.js PORT   (run by tests/clients/run.sh)
const path = require("path");
const { Client } = require(path.join(__dirname, "../../target/clients-node/node_modules/pg"));
const assert = require("assert");

const port = Number(process.argv[2]);
const results = [];

async function check(name, f) {
  const client = new Client({ host: "127.0.0.1", port, user: "analyst", database: "shop" });
  await client.connect();
  try {
    await f(client);
    results.push([name, null]);
  } catch (e) {
    results.push([name, e.stack || String(e)]);
  } finally {
    await client.end();
  }
}

(async () => {
  await check("parameters of several types", async (c) => {
    const r = await c.query(
      "SELECT $1::bigint + 1 AS i, $2::float8 * 2 AS f, upper($3) AS t, $4::boolean AS b, $5::text IS NULL AS n",
      [41, 1.25, "abc", true, null]);
    const row = r.rows[0];
    // pg returns int8 as a string (it does not fit a JS number), float8 as a number.
    assert.deepStrictEqual([row.i, row.f, row.t, row.b, row.n], ["42", 2.5, "ABC", true, true]);
  });
  await check("type parsing: numeric, timestamptz, date, arrays", async (c) => {
    const r = await c.query(
      "SELECT revenue, order_time, CAST(order_time AS DATE) AS d, make_array(1, 2) AS a, " +
        "make_array(CAST(1 AS INT), CAST(2 AS INT)) AS a4, make_array(1.5, 2.5) AS af FROM orders ORDER BY order_id LIMIT 1");
    const row = r.rows[0];
    assert.strictEqual(typeof row.revenue, "string"); // numeric keeps its digits
    assert.ok(/^\d+\.\d{2}$/.test(row.revenue), row.revenue);
    assert.ok(row.order_time instanceof Date && !isNaN(row.order_time), row.order_time);
    assert.ok(row.d instanceof Date, row.d);
    assert.deepStrictEqual(row.a, ["1", "2"]); // bigint[]: strings, as int8
    assert.deepStrictEqual(row.a4, [1, 2]);
    assert.deepStrictEqual(row.af, [1.5, 2.5]);
    assert.deepStrictEqual(r.fields.map((f) => f.name), ["revenue", "order_time", "d", "a", "a4", "af"]);
  });
  await check("named prepared statement executed 8 times", async (c) => {
    const counts = [];
    for (let u = 1; u <= 8; u++) {
      const r = await c.query({ name: "orders_of", text: "SELECT count(*)::int AS n FROM orders WHERE user_id = $1", values: [u] });
      counts.push(r.rows[0].n);
    }
    const all = await c.query("SELECT user_id, count(*)::int AS n FROM orders WHERE user_id <= 8 GROUP BY 1");
    const want = [1, 2, 3, 4, 5, 6, 7, 8].map((u) => (all.rows.find((r) => Number(r.user_id) === u) || { n: 0 }).n);
    assert.deepStrictEqual(counts, want);
  });
  await check("errors carry SQLSTATEs; the session survives", async (c) => {
    await assert.rejects(c.query("SELECT * FROM no_such_table"), (e) => e.code === "42P01");
    await assert.rejects(c.query("SELECT nope FROM users"), (e) => e.code === "42703");
    const r = await c.query("SELECT sentiment_label($1) AS l", ["质量差，要退货"]);
    assert.strictEqual(r.rows[0].l, "negative");
  });
  await check("statement_timeout as a connection option stops a slow query (57014)", async () => {
    // node-postgres sends statement_timeout in the startup packet.
    const timed = new Client({ host: "127.0.0.1", port, user: "analyst", database: "shop", statement_timeout: 300 });
    await timed.connect();
    try {
      const started = Date.now();
      await assert.rejects(
        timed.query("SELECT count(*) FROM generate_series(1, 200000) a CROSS JOIN generate_series(1, 200000) b"),
        (e) => e.code === "57014" && /statement timeout/.test(e.message));
      assert.ok(Date.now() - started < 1500, Date.now() - started);
      const r = await timed.query("SELECT 42::int AS x");
      assert.strictEqual(r.rows[0].x, 42);
    } finally {
      await timed.end();
    }
  });
  const failed = results.filter(([, e]) => e);
  for (const [name, e] of results) {
    console.log((e ? "FAIL " : "ok   ") + "node-postgres: " + name);
    if (e) console.log(e);
  }
  console.log(`node-postgres: ${results.length - failed.length} passed, ${failed.length} failed`);
  process.exit(failed.length ? 1 : 0);
})();
