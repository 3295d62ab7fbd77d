-- tool: Npgsql (Power BI's PostgreSQL connector)
-- Written from what Npgsql asks when it opens a connection and loads the
-- server's types (base, range, enum, domain and array types with their
-- element types, found through each type's receive function), the
-- composite and enum queries that follow, Power BI's table and column
-- listing through GetSchema, and DISCARD ALL when a pooled connection is
-- returned.

-- query: types with their element types
-- expect: contains int4
-- expect: contains _int4
SELECT ns.nspname, t.oid, t.typname, t.typtype, t.elemtypoid
FROM (
  SELECT typ.oid, typ.typnamespace, typ.typname,
         CASE WHEN proc.proname = 'array_recv' THEN 'a' ELSE typ.typtype END AS typtype,
         CASE WHEN proc.proname = 'array_recv' THEN typ.typelem
              WHEN typ.typtype = 'r' THEN rng.rngsubtype
              WHEN typ.typtype = 'd' THEN typ.typbasetype END AS elemtypoid
  FROM pg_catalog.pg_type typ
  LEFT JOIN pg_catalog.pg_class cls ON cls.oid = typ.typrelid
  LEFT JOIN pg_catalog.pg_proc proc ON proc.oid = typ.typreceive
  LEFT JOIN pg_catalog.pg_range rng ON rng.rngtypid = typ.oid
) t
JOIN pg_catalog.pg_namespace ns ON ns.oid = t.typnamespace
WHERE t.typtype IN ('b', 'r', 'm', 'e', 'd', 'a')
ORDER BY CASE WHEN t.typtype IN ('b', 'e', 'p') THEN 0 WHEN t.typtype = 'r' THEN 1 WHEN t.typtype = 'd' THEN 2 ELSE 3 END, t.oid;

-- query: fields of composite types
-- expect: rows 0
SELECT typ.oid, att.attname, att.atttypid
FROM pg_catalog.pg_type typ
JOIN pg_catalog.pg_namespace ns ON ns.oid = typ.typnamespace
JOIN pg_catalog.pg_class cls ON cls.oid = typ.typrelid
JOIN pg_catalog.pg_attribute att ON att.attrelid = typ.typrelid
WHERE typ.typtype = 'c' AND cls.relkind = 'c' AND att.attnum > 0 AND NOT att.attisdropped
ORDER BY typ.oid, att.attnum;

-- query: enum labels
-- expect: rows 0
SELECT pg_type.oid, enumlabel
FROM pg_catalog.pg_enum JOIN pg_catalog.pg_type ON pg_type.oid = enumtypid
ORDER BY pg_type.oid, enumsortorder;

-- query: GetSchema("Tables")
-- expect: contains reviews
SELECT table_catalog, table_schema, table_name, table_type
FROM information_schema.tables
WHERE table_type IN ('BASE TABLE', 'VIEW') AND table_schema NOT IN ('pg_catalog', 'information_schema')
ORDER BY table_schema, table_name;

-- query: GetSchema("Columns") for one table
-- params: reviews
-- expect: contains review_text
SELECT table_catalog, table_schema, table_name, column_name, ordinal_position, column_default,
       is_nullable, data_type, character_maximum_length, numeric_precision, numeric_scale
FROM information_schema.columns
WHERE table_name = $1
ORDER BY ordinal_position;


-- query: array types are found by their receive function (typreceive is an oid)
-- expect: rows 1
-- expect: contains _int4
SELECT typ.typname, typ.typelem
FROM pg_catalog.pg_type typ JOIN pg_catalog.pg_proc proc ON proc.oid = typ.typreceive
WHERE proc.proname = 'array_recv' AND typ.typname = '_int4';

-- query: connection returned to the pool
-- expect: rows 0
DISCARD ALL;
