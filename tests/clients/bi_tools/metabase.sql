-- tool: Metabase (PostgreSQL driver over pgjdbc)
-- Written from what Metabase's sync asks after connecting: schemas it may
-- read, tables it may select from, each table's fields with their database
-- types, primary keys and comments, then a sample of rows for
-- fingerprinting. Its JDBC metadata calls (getTables, getColumns) are
-- covered by JdbcCheck.java.

-- query: schemas with USAGE
-- expect: contains public
SELECT nspname AS schema
FROM pg_catalog.pg_namespace
WHERE nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast')
  AND nspname NOT LIKE 'pg_temp%'
  AND has_schema_privilege(nspname, 'USAGE')
ORDER BY 1;

-- query: tables it may select from
-- expect: contains daily_sales
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       obj_description(c.oid, 'pg_class') AS description
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('information_schema', 'pg_catalog')
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY 1, 2;

-- query: fields of one table, with primary key and comment
-- params: public, items
-- expect: contains price
-- expect: contains numeric
SELECT c.column_name AS name,
       c.udt_name AS database_type,
       c.ordinal_position - 1 AS database_position,
       c.is_nullable = 'NO' AS database_required,
       pk.column_name IS NOT NULL AS pk,
       col_description(cls.oid, c.ordinal_position) AS comment
FROM information_schema.columns c
JOIN pg_catalog.pg_namespace ns ON ns.nspname = c.table_schema
JOIN pg_catalog.pg_class cls ON cls.relnamespace = ns.oid AND cls.relname = c.table_name
LEFT JOIN (
  SELECT kc.table_schema, kc.table_name, kc.column_name
  FROM information_schema.table_constraints tc
  JOIN information_schema.key_column_usage kc
    ON kc.constraint_name = tc.constraint_name AND kc.table_schema = tc.table_schema
  WHERE tc.constraint_type = 'PRIMARY KEY'
) pk ON pk.table_schema = c.table_schema AND pk.table_name = c.table_name AND pk.column_name = c.column_name
WHERE c.table_schema = $1 AND c.table_name = $2
ORDER BY c.ordinal_position;

-- query: sample for fingerprinting
-- expect: rows 100
SELECT "public"."items"."item_id", "public"."items"."category", "public"."items"."price"
FROM "public"."items" LIMIT 100;
