//! What drivers rely on beyond plain queries, through tokio-postgres over
//! TCP: COPY TO STDOUT in every format, parameter types as the client names
//! them, cursors, and a version in PostgreSQL's shape.

use futures::{StreamExt, pin_mut};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

use crate::common::{TestServer, demo_data_dir, engine, read_parquet, simple_rows};

async fn server() -> (TestServer, tempfile::TempDir) {
    let models = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start(engine(&demo_data_dir(), models.path()).await).await;
    (server, models)
}

async fn copy_bytes(client: &tokio_postgres::Client, sql: &str) -> Vec<u8> {
    let stream = client
        .copy_out(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("copy data"));
    }
    out
}

/// The first `n` (user_id, country) pairs of the demo users, by id, read
/// from the Parquet file directly.
fn users(n: usize) -> Vec<(i64, String)> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;
    let mut rows = Vec::new();
    for b in read_parquet(&demo_data_dir().join("users.parquet")) {
        let ids = b
            .column_by_name("user_id")
            .expect("user_id")
            .as_primitive::<Int64Type>()
            .clone();
        let countries = b.column_by_name("country").expect("country").clone();
        let countries = datafusion::arrow::compute::cast(
            &countries,
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .expect("text");
        let countries = countries.as_string::<i32>();
        for i in 0..b.num_rows() {
            rows.push((ids.value(i), countries.value(i).to_string()));
        }
    }
    rows.sort();
    rows.truncate(n);
    rows
}

#[tokio::test]
async fn copy_to_stdout_in_text_csv_and_binary() {
    let (server, _models) = server().await;
    let client = server.connect().await;
    let expected = users(3);
    let text = copy_bytes(
        &client,
        "COPY (SELECT user_id, country FROM users ORDER BY user_id LIMIT 3) TO STDOUT",
    )
    .await;
    let want: String = expected
        .iter()
        .map(|(id, c)| format!("{id}\t{c}\n"))
        .collect();
    assert_eq!(String::from_utf8(text).expect("utf8"), want);

    let csv = copy_bytes(
        &client,
        "COPY (SELECT user_id, country, 'a,\"b' AS \"odd,name\", NULL AS n FROM users ORDER BY user_id LIMIT 3)
         TO STDOUT WITH (FORMAT csv, HEADER)",
    )
    .await;
    let mut want = String::from("user_id,country,\"odd,name\",n\n");
    for (id, c) in &expected {
        want.push_str(&format!("{id},{c},\"a,\"\"b\",\n"));
    }
    assert_eq!(String::from_utf8(csv).expect("utf8"), want);

    // Old syntax, another delimiter and NULL marker.
    let legacy = copy_bytes(
        &client,
        "COPY (SELECT user_id, NULL AS n FROM users ORDER BY user_id LIMIT 1) TO STDOUT WITH CSV DELIMITER ';' NULL 'NA'",
    )
    .await;
    assert_eq!(
        String::from_utf8(legacy).expect("utf8"),
        format!("{};NA\n", expected[0].0)
    );

    // Binary: signature, then per row a field count and (length, value) pairs.
    let binary = copy_bytes(
        &client,
        "COPY (SELECT user_id FROM users ORDER BY user_id LIMIT 2) TO STDOUT (FORMAT binary)",
    )
    .await;
    let mut want = b"PGCOPY\n\xff\r\n\0".to_vec();
    want.extend_from_slice(&[0; 8]);
    for (id, _) in &expected[..2] {
        want.extend_from_slice(&1_i16.to_be_bytes());
        want.extend_from_slice(&8_i32.to_be_bytes());
        want.extend_from_slice(&id.to_be_bytes());
    }
    want.extend_from_slice(&(-1_i16).to_be_bytes());
    assert_eq!(binary, want);
    // No rows: the signature and the trailer all the same.
    let empty = copy_bytes(
        &client,
        "COPY (SELECT 1 AS a WHERE false) TO STDOUT (FORMAT binary)",
    )
    .await;
    assert_eq!(empty.len(), 19 + 2);

    // A table by name, with a column list.
    let table = copy_bytes(&client, "COPY users (user_id) TO STDOUT").await;
    assert_eq!(table.iter().filter(|b| **b == b'\n').count(), 5000);

    // Refused: server files, programs, COPY FROM; the session stays usable.
    for (sql, state) in [
        (
            "COPY users TO '/tmp/ecomsql_copy_test'",
            SqlState::INSUFFICIENT_PRIVILEGE,
        ),
        (
            "COPY (SELECT 1) TO PROGRAM 'true'",
            SqlState::INSUFFICIENT_PRIVILEGE,
        ),
        ("COPY users FROM STDIN", SqlState::FEATURE_NOT_SUPPORTED),
        (
            "COPY (SELECT nope FROM users) TO STDOUT",
            SqlState::UNDEFINED_COLUMN,
        ),
    ] {
        let err = client.simple_query(sql).await.expect_err(sql);
        assert_eq!(err.code(), Some(&state), "{sql}: {err}");
    }
    assert!(!std::path::Path::new("/tmp/ecomsql_copy_test").exists());
    let rows = simple_rows(&client.simple_query("SELECT 1").await.expect("still usable"));
    assert_eq!(rows, vec![vec![Some("1".to_string())]]);
}

#[tokio::test]
async fn parameter_types_named_by_the_client_are_used() {
    let (server, _models) = server().await;
    let client = server.connect().await;
    // `$1 * 2` infers bigint; a driver sending a float8 means a float.
    let statement = client
        .prepare_typed("SELECT $1 * 2 AS doubled", &[Type::FLOAT8])
        .await
        .expect("prepares");
    assert_eq!(statement.params(), &[Type::FLOAT8]);
    let row = client
        .query_one(&statement, &[&1.25_f64])
        .await
        .expect("runs");
    assert_eq!(row.get::<_, f64>(0), 2.5);
    // Nothing types `$1 IS NULL`: text, as in Postgres; a NULL binds.
    let statement = client.prepare("SELECT $1 IS NULL").await.expect("prepares");
    assert_eq!(statement.params(), &[Type::TEXT]);
    let row = client
        .query_one(&statement, &[&None::<String>])
        .await
        .expect("runs");
    assert!(row.get::<_, bool>(0));
    // A cast types the parameter it casts.
    let statement = client
        .prepare("SELECT $1::BIGINT + 1")
        .await
        .expect("prepares");
    assert_eq!(statement.params(), &[Type::INT8]);
    let row = client
        .query_one(&statement, &[&41_i64])
        .await
        .expect("runs");
    assert_eq!(row.get::<_, i64>(0), 42);
    // Inferred types stay when the client names none.
    let statement = client
        .prepare("SELECT count(*) FROM users WHERE user_id < $1")
        .await
        .expect("prepares");
    assert_eq!(statement.params(), &[Type::INT8]);
    let row = client
        .query_one(&statement, &[&11_i64])
        .await
        .expect("runs");
    assert_eq!(row.get::<_, i64>(0), 10);
}

#[tokio::test]
async fn version_and_cursors_look_like_postgres() {
    let (server, _models) = server().await;
    let client = server.connect().await;
    let version: String = client
        .query_one("SELECT version()", &[])
        .await
        .expect("version")
        .get(0);
    assert!(version.starts_with("PostgreSQL 16."), "{version}");
    assert!(version.contains("(ecomsql "), "{version}");
    let rows = simple_rows(
        &client
            .simple_query("SHOW server_version; SHOW server_version_num")
            .await
            .expect("show"),
    );
    let shown = rows[0][0].clone().unwrap_or_default();
    assert!(
        shown.starts_with("16.") && shown.contains("ecomsql"),
        "{shown}"
    );
    assert_eq!(rows[1][0].as_deref(), Some("160006"));

    // A cursor in a transaction block, fetched in pieces.
    let rows = simple_rows(
        &client
            .simple_query(
                "BEGIN; DECLARE c CURSOR FOR SELECT user_id FROM users ORDER BY user_id;
                 FETCH 2 FROM c; FETCH 3 FROM c; CLOSE c; COMMIT",
            )
            .await
            .expect("cursor"),
    );
    let ids: Vec<Option<String>> = rows.into_iter().map(|r| r[0].clone()).collect();
    let want: Vec<Option<String>> = users(5)
        .iter()
        .map(|(id, _)| Some(id.to_string()))
        .collect();
    assert_eq!(ids, want);
}

#[tokio::test]
async fn savepoints_and_failed_transaction_blocks() {
    let (server, _models) = server().await;
    let mut client = server.connect().await;
    let err = client
        .simple_query("SAVEPOINT outside")
        .await
        .expect_err("needs a block");
    assert_eq!(err.code(), Some(&SqlState::NO_ACTIVE_SQL_TRANSACTION));
    // tokio-postgres's own savepoint API: SAVEPOINT, then RELEASE on commit.
    {
        let mut transaction = client.transaction().await.expect("begin");
        let savepoint = transaction.savepoint("inner").await.expect("savepoint");
        let n: i64 = savepoint
            .query_one("SELECT count(*) FROM users", &[])
            .await
            .expect("query in savepoint")
            .get(0);
        assert_eq!(n, 5000);
        savepoint.commit().await.expect("release");
        transaction.commit().await.expect("commit");
    }
    // An error fails the block: 25P02 until ROLLBACK, SAVEPOINT refused too.
    client.simple_query("BEGIN").await.expect("begin");
    assert!(client.simple_query("SELECT nope FROM users").await.is_err());
    for sql in ["SELECT 1", "SAVEPOINT s", "RELEASE SAVEPOINT s"] {
        let err = client.simple_query(sql).await.expect_err(sql);
        assert_eq!(
            err.code(),
            Some(&SqlState::IN_FAILED_SQL_TRANSACTION),
            "{sql}: {err}"
        );
    }
    client.simple_query("ROLLBACK").await.expect("rollback");
    let rows = simple_rows(&client.simple_query("SELECT 2").await.expect("usable again"));
    assert_eq!(rows, vec![vec![Some("2".to_string())]]);
    // ROLLBACK TO a savepoint reopens a failed block, on both protocols.
    for extended in [false, true] {
        client
            .simple_query("BEGIN; SAVEPOINT s")
            .await
            .expect("begin");
        assert!(client.simple_query("SELECT nope FROM users").await.is_err());
        let err = client.simple_query("SELECT 1").await.expect_err("failed");
        assert_eq!(err.code(), Some(&SqlState::IN_FAILED_SQL_TRANSACTION));
        if extended {
            client
                .execute("ROLLBACK TO SAVEPOINT s", &[])
                .await
                .expect("rollback to, extended");
        } else {
            client
                .simple_query("ROLLBACK TO s")
                .await
                .expect("rollback to, simple");
        }
        let n: i64 = client
            .query_one("SELECT count(*) FROM items", &[])
            .await
            .expect("the block is open again")
            .get(0);
        assert_eq!(n, 1000);
        client.simple_query("COMMIT").await.expect("commit");
    }
}

#[tokio::test]
async fn discard_all_and_reset_all_as_pools_send_them() {
    let (server, _models) = server().await;
    let client = server.connect().await;
    client
        .simple_query("BEGIN; DECLARE c CURSOR FOR SELECT user_id FROM users; COMMIT")
        .await
        .expect("cursor");
    client
        .simple_query("DISCARD ALL")
        .await
        .expect("discard all");
    // The cursor is gone.
    let err = client
        .simple_query("FETCH 1 FROM c")
        .await
        .expect_err("closed");
    assert_eq!(err.code(), Some(&SqlState::INVALID_CURSOR_NAME), "{err}");
    client
        .simple_query("RESET ALL; DISCARD PLANS")
        .await
        .expect("reset");
    // Not inside a transaction block, as in Postgres.
    client.simple_query("BEGIN").await.expect("begin");
    let err = client
        .simple_query("DISCARD ALL")
        .await
        .expect_err("in a block");
    assert_eq!(err.code(), Some(&SqlState::ACTIVE_SQL_TRANSACTION), "{err}");
    client.simple_query("ROLLBACK").await.expect("rollback");
    // Over the extended protocol too (Npgsql prepares it).
    client
        .execute("DISCARD ALL", &[])
        .await
        .expect("extended discard");
}

#[tokio::test]
async fn settings_stay_in_the_session_that_set_them() {
    let (server, _models) = server().await;
    let a = server.connect().await;
    let b = server.connect().await;
    // An observable setting: without identifier normalisation, USER_ID no
    // longer names the column user_id.
    let upper = "SELECT USER_ID FROM users WHERE user_id = 1";
    for client in [&a, &b] {
        client
            .simple_query(upper)
            .await
            .expect("normalised by default");
    }
    a.simple_query("SET datafusion.sql_parser.enable_ident_normalization = false")
        .await
        .expect("set");
    let err = a
        .simple_query(upper)
        .await
        .expect_err("case-sensitive in a");
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_COLUMN), "{err}");
    // SHOW and current_setting see the session's value, both protocols.
    let batch = "datafusion.execution.batch_size";
    a.simple_query(&format!("SET {batch} = 1234"))
        .await
        .expect("set batch size");
    let shown = simple_rows(
        &a.simple_query(&format!("SHOW {batch}"))
            .await
            .expect("show"),
    );
    assert_eq!(shown, vec![vec![Some("1234".to_string())]]);
    let current: String = a
        .query_one("SELECT current_setting($1)", &[&batch])
        .await
        .expect("current_setting")
        .get(0);
    assert_eq!(current, "1234");
    let elsewhere = simple_rows(
        &b.simple_query(&format!("SHOW {batch}"))
            .await
            .expect("show b"),
    );
    assert_eq!(elsewhere, vec![vec![Some("8192".to_string())]]);
    // The other session keeps the default...
    b.simple_query(upper).await.expect("b unaffected");
    // ...and so does a new one.
    let c = server.connect().await;
    c.simple_query(upper).await.expect("c unaffected");
    // RESET ALL (and DISCARD ALL) put a's settings back.
    a.simple_query("RESET ALL").await.expect("reset all");
    a.simple_query(upper)
        .await
        .expect("normalised again after RESET ALL");
    a.simple_query("SET datafusion.sql_parser.enable_ident_normalization = false")
        .await
        .expect("set again");
    a.simple_query("DISCARD ALL").await.expect("discard all");
    a.simple_query(upper)
        .await
        .expect("normalised again after DISCARD ALL");
    // All share the tables, functions and models.
    for client in [&a, &b, &c] {
        let rows = simple_rows(
            &client
                .simple_query("SELECT count(*) FROM users WHERE sentiment('good') > 0")
                .await
                .expect("query"),
        );
        assert_eq!(rows[0][0].as_deref(), Some("5000"));
    }
}

/// Text COPY of simple column types is written straight from the arrays;
/// it must match the general per-value encoder byte for byte. A decimal
/// column sends the same rows through the general encoder, so each of its
/// lines must be the direct line plus that column.
#[tokio::test]
async fn direct_text_copy_matches_the_general_encoder() {
    let (server, _models) = server().await;
    let client = server.connect().await;
    let columns = "SELECT user_id, CAST(user_id AS DOUBLE) / 7 AS f, CAST(user_id AS REAL) / 3 AS r, \
        user_id % 2 = 0 AS b, CASE WHEN user_id % 3 = 0 THEN NULL ELSE country END AS c, \
        concat('tab\\there', CAST(user_id AS VARCHAR), E'\\nline\\\\slash') AS odd, signup_date, \
        CAST(signup_date AS TIMESTAMP) + INTERVAL '1.25 seconds' AS ts, \
        CAST(1e20 AS DOUBLE) AS big, CAST('NaN' AS DOUBLE) AS nan";
    let direct = copy_bytes(
        &client,
        &format!("COPY ({columns} FROM users WHERE user_id <= 50 ORDER BY user_id) TO STDOUT"),
    )
    .await;
    let general = copy_bytes(
        &client,
        &format!(
            "COPY ({columns}, CAST(1.5 AS DECIMAL(4, 2)) AS d FROM users WHERE user_id <= 50 ORDER BY user_id) TO STDOUT"
        ),
    )
    .await;
    let direct = String::from_utf8(direct).expect("utf8");
    let general = String::from_utf8(general).expect("utf8");
    let (direct, general): (Vec<&str>, Vec<&str>) =
        (direct.lines().collect(), general.lines().collect());
    assert_eq!(direct.len(), 50);
    for (d, g) in direct.iter().zip(&general) {
        assert_eq!(format!("{d}\t1.50"), *g);
    }
    // The escapes and NULLs are Postgres's.
    assert!(direct[2].contains("\t\\N\t"), "{}", direct[2]);
    // 'tab\there' is a backslash and a t (no E''), the E'' string a newline.
    assert!(
        direct[0].contains("tab\\\\there1\\nline\\\\slash"),
        "{}",
        direct[0]
    );
}

#[tokio::test]
async fn unaliased_columns_are_named_as_postgres_names_them() {
    let (server, _models) = server().await;
    let client = server.connect().await;
    let sql = "SELECT 1, count(*), avg(price)::int, category, CASE WHEN true THEN 1 END FROM items GROUP BY category ORDER BY count(*) DESC LIMIT 1";
    let statement = client.prepare(sql).await.expect("prepare");
    let names: Vec<&str> = statement.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["?column?", "count", "avg", "category", "case"]);
    // The simple protocol names them alike.
    let messages = client.simple_query(sql).await.expect("simple");
    let Some(row) = messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    }) else {
        panic!("no row: {messages:?}");
    };
    let simple: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
    assert_eq!(simple, names);
    // Two items that would share a name keep DataFusion's distinct names.
    let statement = client
        .prepare("SELECT count(*), count(item_id) FROM items")
        .await
        .expect("prepare");
    assert_eq!(statement.columns().len(), 2);
    assert_ne!(statement.columns()[0].name(), statement.columns()[1].name());
}

/// `ARRAY(subquery)` through the extended protocol (the hook plans it at
/// Parse): a parameter in the subquery, a map over an array, and the empty
/// array for no rows.
#[tokio::test]
async fn array_subqueries_in_prepared_statements() {
    let (server, _models) = server().await;
    let client = server.connect().await;
    let row = client
        .query_one(
            "SELECT ARRAY(SELECT user_id FROM users WHERE user_id <= $1 ORDER BY 1 DESC)",
            &[&3_i64],
        )
        .await
        .expect("prepared ARRAY(subquery)");
    assert_eq!(row.get::<_, Vec<i64>>(0), vec![3, 2, 1]);
    let row = client
        .query_one(
            "SELECT ARRAY(SELECT 'toast.' || x FROM unnest(make_array('a', 'b')) x), \
             ARRAY(SELECT user_id FROM users WHERE user_id < 0)",
            &[],
        )
        .await
        .expect("map and empty");
    assert_eq!(row.get::<_, Vec<String>>(0), vec!["toast.a", "toast.b"]);
    assert_eq!(row.get::<_, Vec<i64>>(1), Vec::<i64>::new());
    let err = client
        .query("SELECT ARRAY(SELECT user_id, country FROM users)", &[])
        .await
        .expect_err("two columns");
    assert_eq!(err.code(), Some(&SqlState::SYNTAX_ERROR), "{err}");
    // The connection goes on, and pg_roles (which once aborted the server)
    // answers over this protocol too.
    let row = client
        .query_one("SELECT count(*) FROM pg_catalog.pg_roles", &[])
        .await
        .expect("pg_roles");
    assert_eq!(row.get::<_, i64>(0), 1);
}
