//! The Postgres server, through tokio-postgres over TCP.

use std::collections::BTreeMap;

use datafusion::arrow::array::{AsArray, Int32Array, StringArray};
use datafusion::arrow::datatypes::Decimal128Type;
use tokio_postgres::error::SqlState;

use crate::common::{TestServer, demo_data_dir, engine, read_parquet, simple_rows};

async fn demo_server() -> (TestServer, tempfile::TempDir) {
    let models = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start(engine(&demo_data_dir(), models.path()).await).await;
    (server, models)
}

/// Revenue per category in cents, summed straight from the Parquet file.
fn expected_revenue_by_category() -> BTreeMap<String, i128> {
    let mut expected = BTreeMap::new();
    for batch in read_parquet(&demo_data_dir().join("daily_sales.parquet")) {
        let categories = batch
            .column_by_name("category")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
            .expect("category column");
        let revenue = batch
            .column_by_name("revenue")
            .expect("revenue column")
            .as_primitive::<Decimal128Type>()
            .clone();
        for i in 0..batch.num_rows() {
            *expected.entry(categories.value(i).to_string()).or_insert(0) += revenue.value(i);
        }
    }
    expected
}

fn cents(text: &str) -> i128 {
    let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
    let frac = format!("{frac:0<2}");
    whole.parse::<i128>().expect("whole part") * 100 + frac[..2].parse::<i128>().expect("cents")
}

#[tokio::test]
async fn simple_protocol_aggregate_matches_the_parquet_file() {
    let (server, _models) = demo_server().await;
    let client = server.connect().await;
    let messages = client
        .simple_query(
            "SELECT category, sum(revenue) AS revenue FROM daily_sales GROUP BY 1 ORDER BY 2 DESC",
        )
        .await
        .expect("query runs");
    let rows = simple_rows(&messages);

    let expected = expected_revenue_by_category();
    assert_eq!(rows.len(), 8, "eight categories");
    let mut previous = i128::MAX;
    for row in &rows {
        let category = row[0].as_deref().expect("category");
        let revenue = cents(row[1].as_deref().expect("revenue"));
        assert_eq!(Some(&revenue), expected.get(category), "{category}");
        assert!(revenue <= previous, "ordered by revenue descending");
        previous = revenue;
    }
}

#[tokio::test]
async fn extended_protocol_binds_parameters() {
    let (server, _models) = demo_server().await;
    let client = server.connect().await;

    // Expected: users per country with city tier <= 2, from the file itself.
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for batch in read_parquet(&demo_data_dir().join("users.parquet")) {
        let country = batch
            .column_by_name("country")
            .expect("country")
            .as_string::<i32>()
            .clone();
        let tier = batch
            .column_by_name("city_tier")
            .and_then(|c| c.as_any().downcast_ref::<Int32Array>().cloned())
            .expect("city_tier");
        for i in 0..batch.num_rows() {
            if tier.value(i) <= 2 {
                *expected.entry(country.value(i).to_string()).or_insert(0) += 1;
            }
        }
    }

    let statement = client
        .prepare("SELECT count(*) AS n FROM users WHERE country = $1 AND city_tier <= $2")
        .await
        .expect("prepares");
    assert_eq!(statement.columns()[0].name(), "n");
    // The same prepared statement, executed with different parameters.
    for country in ["CN", "US", "DE"] {
        let row = client
            .query_one(&statement, &[&country, &2_i32])
            .await
            .expect("executes");
        let n: i64 = row.get("n");
        assert_eq!(Some(&n), expected.get(country), "{country}");
    }

    // Typed results come back in binary format.
    let row = client
        .query_one(
            "SELECT user_id, signup_date, segment FROM users WHERE user_id = $1",
            &[&42_i64],
        )
        .await
        .expect("query_one");
    let user_id: i64 = row.get(0);
    let signup: chrono::NaiveDate = row.get(1);
    assert_eq!(user_id, 42);
    assert!(signup.to_string().as_str() < "2026-01-01");
}

#[tokio::test]
async fn errors_carry_sqlstates_and_the_session_survives() {
    let (server, _models) = demo_server().await;
    let client = server.connect().await;

    let cases: [(&str, &SqlState); 6] = [
        ("SELECT * FROM no_such_table", &SqlState::UNDEFINED_TABLE),
        (
            "SELECT no_such_column FROM users",
            &SqlState::UNDEFINED_COLUMN,
        ),
        ("SELECT no_such_function(1)", &SqlState::UNDEFINED_FUNCTION),
        ("SELEC 1", &SqlState::SYNTAX_ERROR),
        ("SELECT 1 / 0", &SqlState::DIVISION_BY_ZERO),
        ("SHOW MODELS please", &SqlState::SYNTAX_ERROR),
    ];
    for (sql, state) in cases {
        // Simple protocol.
        let err = client.simple_query(sql).await.expect_err(sql);
        assert_eq!(err.code(), Some(state), "simple: {sql}: {err:?}");
        // Extended protocol (errors may come at Parse or at Execute).
        let err = client.query(sql, &[]).await.expect_err(sql);
        assert_eq!(err.code(), Some(state), "extended: {sql}: {err:?}");
        // Still usable.
        let row = client
            .query_one("SELECT 41 + 1", &[])
            .await
            .expect("session usable");
        assert_eq!(row.get::<_, i64>(0), 42);
    }
}

#[tokio::test]
async fn multi_statement_simple_query_returns_each_result() {
    let (server, _models) = demo_server().await;
    let client = server.connect().await;
    let messages = client
        .simple_query("SELECT count(*) FROM items; SELECT count(*) FROM daily_sales; SHOW MODELS")
        .await
        .expect("runs");
    let rows = simple_rows(&messages);
    assert_eq!(rows[0][0].as_deref(), Some("1000"));
    // 8 categories × 365 days.
    assert_eq!(rows[1][0].as_deref(), Some("2920"));
    assert_eq!(rows.len(), 2, "SHOW MODELS on an empty store has no rows");
    let complete = messages
        .iter()
        .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::CommandComplete(_)))
        .count();
    assert_eq!(complete, 3);
}

/// Writes a model version's metadata by hand, as the model store documents it.
fn write_model_fixture(models: &std::path::Path, name: &str, json: &str) {
    let dir = models.join(name);
    std::fs::create_dir_all(dir.join("v000002")).expect("model dir");
    std::fs::write(dir.join("v000002").join("model.json"), json).expect("model.json");
    std::fs::write(dir.join("CURRENT"), "2\n").expect("CURRENT");
}

#[tokio::test]
async fn show_models_lists_the_model_folder_on_both_protocols() {
    let (server, models) = demo_server().await;
    let client = server.connect().await;
    write_model_fixture(
        models.path(),
        "propensity",
        r#"{
            "format_version": 1, "name": "propensity", "model_type": "logistic_regression",
            "version": 2, "created_at": "2026-11-30T08:15:00Z", "training_rows": 4000,
            "features": [{"name": "views_30d", "data_type": "Int64"},
                         {"name": "purchases_30d", "data_type": "Int64"}],
            "metrics": {"validation_auc": 0.8125}, "headline_metric": "validation_auc"
        }"#,
    );
    write_model_fixture(models.path(), "broken", "{ not json");

    let rows = client
        .query("SHOW MODELS", &[])
        .await
        .expect("SHOW MODELS over the extended protocol");
    assert_eq!(rows.len(), 2);
    let names: Vec<&str> = rows.iter().map(|r| r.get("name")).collect();
    assert_eq!(names, ["broken", "propensity"]);

    let broken = &rows[0];
    assert_eq!(broken.get::<_, Option<&str>>("model_type"), None);
    let error: &str = broken.get("error");
    assert!(
        error.contains("model \"broken\" cannot be loaded"),
        "{error}"
    );

    let good = &rows[1];
    assert_eq!(good.get::<_, &str>("model_type"), "logistic_regression");
    assert_eq!(good.get::<_, i64>("version"), 2);
    assert_eq!(good.get::<_, i64>("training_rows"), 4000);
    let created: chrono::DateTime<chrono::Utc> = good.get("created_at");
    assert_eq!(created.to_rfc3339(), "2026-11-30T08:15:00+00:00");
    let features: Vec<String> = good.get("features");
    assert_eq!(features, ["views_30d", "purchases_30d"]);
    assert_eq!(good.get::<_, &str>("metric"), "validation_auc");
    assert_eq!(good.get::<_, f64>("metric_value"), 0.8125);
    assert_eq!(good.get::<_, Option<&str>>("error"), None);

    let messages = client
        .simple_query("show models;")
        .await
        .expect("simple protocol");
    let rows = simple_rows(&messages);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0].as_deref(), Some("propensity"));
    assert_eq!(rows[1][5].as_deref(), Some("{views_30d,purchases_30d}"));
}

#[tokio::test]
async fn catalog_queries_psql_sends_work() {
    let (server, _models) = demo_server().await;
    let client = server.connect().await;
    // The core of psql's \dt.
    let rows = client
        .query(
            "SELECT c.relname FROM pg_catalog.pg_class c \
             LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r','p','') AND n.nspname = 'public' ORDER BY 1",
            &[],
        )
        .await
        .expect("pg_class query");
    let tables: Vec<&str> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        tables,
        [
            "daily_sales",
            "events",
            "items",
            "orders",
            "reviews",
            "user_features",
            "users"
        ]
    );
    let row = client
        .query_one("SELECT current_database()", &[])
        .await
        .expect("current_database");
    assert_eq!(row.get::<_, &str>(0), "ecomsql");
}

#[tokio::test]
async fn stopping_the_server_ends_the_accept_loop() {
    let (server, _models) = demo_server().await;
    let port = server.port;
    let client = server.connect().await;
    client
        .simple_query("SELECT 1")
        .await
        .expect("works before stop");
    server.stop().await;
    let refused = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=a connect_timeout=2"),
        tokio_postgres::NoTls,
    )
    .await;
    assert!(refused.is_err(), "no new connections after shutdown");
}

/// psycopg sends `DEALLOCATE ALL` after any command whose tag starts with
/// DROP (so after `DROP MODEL` too); it must succeed on both protocols.
/// `DEALLOCATE name` of an unknown statement is 26000.
#[tokio::test]
async fn deallocate_after_drop_model_as_psycopg_does() {
    let (server, _models) = demo_server().await;
    let client = server.connect().await;
    let prepared = client
        .prepare("SELECT count(*) FROM items")
        .await
        .expect("prepare");
    client
        .simple_query(
            "CREATE MODEL gone OPTIONS (model_type = 'logistic_regression', coefficients = '1')",
        )
        .await
        .expect("create");
    let messages = client.simple_query("DROP MODEL gone").await.expect("drop");
    assert!(matches!(
        messages.last(),
        Some(tokio_postgres::SimpleQueryMessage::CommandComplete(_))
    ));
    client
        .simple_query("DEALLOCATE ALL")
        .await
        .expect("DEALLOCATE ALL (simple)");
    client
        .execute("DEALLOCATE PREPARE ALL", &[])
        .await
        .expect("DEALLOCATE ALL (extended)");
    let err = client
        .simple_query("DEALLOCATE no_such_statement")
        .await
        .expect_err("unknown name");
    assert_eq!(err.code(), Some(&SqlState::INVALID_SQL_STATEMENT_NAME));
    // Statements prepared before still work (they were only acknowledged as
    // deallocated, see the README), and the session is fine.
    let row = client
        .query_one(&prepared, &[])
        .await
        .expect("session usable");
    assert_eq!(row.get::<_, i64>(0), 1000);
}
