-- tool: Grafana (PostgreSQL data source)
-- Written from what Grafana's data source asks on "Save & test", in its
-- table and column pickers, and in a time-series panel: the same catalog
-- tables, functions and macros' expansions, in our own words.

-- query: server version check (Save & test)
-- expect: rows 1
SELECT current_setting('server_version_num')::int / 100 AS version;

-- query: TimescaleDB probe (no such extension: no rows)
-- expect: rows 0
SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'timescaledb';

-- query: table picker, tables on the search path
-- expect: contains orders
-- expect: contains items
SELECT quote_ident(table_name) AS "table"
FROM information_schema.tables
WHERE table_type = 'BASE TABLE'
  AND quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog')
  AND quote_ident(table_schema) IN (
    SELECT CASE WHEN trim(part) = '"$user"' THEN user ELSE trim(part) END
    FROM unnest(string_to_array(current_setting('search_path'), ',')) AS s(part))
ORDER BY 1;

-- query: column picker for one table, with its types
-- params: orders
-- expect: contains order_time
-- expect: contains timestamp with time zone
SELECT quote_ident(column_name) AS "column", data_type AS "type"
FROM information_schema.columns
WHERE table_name = $1
ORDER BY ordinal_position;

-- query: time-series panel, $__timeGroupAlias and $__timeFilter expanded
-- expect: columns time,revenue
SELECT floor(extract(epoch FROM order_time) / 86400) * 86400 AS "time",
       sum(revenue) AS revenue
FROM orders
WHERE order_time BETWEEN '2025-03-01T00:00:00Z' AND '2025-03-31T23:59:59Z'
GROUP BY 1
ORDER BY 1;
