-- tool: DBeaver (PostgreSQL driver over pgjdbc)
-- Written from what DBeaver's navigator reads when it connects and as the
-- user opens a database, a schema and a table: the current schema and
-- user, databases, schemas with their comments, relations with their
-- kinds, a table's attributes with defaults and comments, and data types.

-- query: session
-- expect: rows 1
SELECT current_schema(), session_user, version();

-- query: databases
-- expect: contains ecomsql
SELECT db.oid, db.datname, db.datallowconn, pg_catalog.pg_get_userbyid(db.datdba) AS owner
FROM pg_catalog.pg_database db
WHERE NOT db.datistemplate AND db.datallowconn
ORDER BY db.datname;

-- query: schemas with comments
-- expect: contains public
-- expect: contains ecomsql
SELECT n.oid, n.nspname, d.description
FROM pg_catalog.pg_namespace n
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = n.oid AND d.objsubid = 0
ORDER BY n.nspname;

-- query: relations of the public schema
-- expect: contains user_features
SELECT c.oid, c.relname, c.relkind, c.relnamespace, d.description
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.objsubid = 0
WHERE n.nspname = 'public' AND c.relkind NOT IN ('i', 'I', 'c')
ORDER BY c.relname;

-- query: attributes of one table, with default and comment
-- params: users
-- expect: contains signup_date
-- expect: contains date
SELECT c.relname, a.attname, a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) AS def_value,
       dsc.description
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON a.attrelid = c.oid
LEFT JOIN pg_catalog.pg_attrdef ad ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
LEFT JOIN pg_catalog.pg_description dsc ON c.oid = dsc.objoid AND a.attnum = dsc.objsubid
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relname = $1
ORDER BY a.attnum;

-- query: data types of pg_catalog
-- expect: contains int8
SELECT t.oid, t.typname, t.typtype, t.typlen, c.relkind
FROM pg_catalog.pg_type t
LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
WHERE t.typnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')
ORDER BY t.oid;
