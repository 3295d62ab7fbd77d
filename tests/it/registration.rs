//! Data-folder registration rules.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::parquet::arrow::ArrowWriter;
use ecomsql::Engine;

fn write_parquet(path: &Path, ids: &[i64], amounts: &[f64]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("amount", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(Float64Array::from(amounts.to_vec())),
        ],
    )
    .expect("batch");
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path).expect("file"), schema, None)
        .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

async fn query(engine: &Engine, sql: &str) -> String {
    let batches = engine
        .session_context()
        .sql(sql)
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    pretty_format_batches(&batches)
        .expect("formats")
        .to_string()
}

#[tokio::test]
async fn files_folders_partitions_clashes_and_bad_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    // A plain file with an upper-case, spaced name.
    write_parquet(
        &root.join("Big Orders.parquet"),
        &[1, 2, 3],
        &[10.0, 20.0, 30.5],
    );
    // A Hive-partitioned folder: one table, partition keys as columns.
    write_parquet(
        &root.join("clicks/year=2024/month=01/part-0.parquet"),
        &[1, 2],
        &[1.0, 2.0],
    );
    write_parquet(
        &root.join("clicks/year=2024/month=02/part-0.parquet"),
        &[3],
        &[3.0],
    );
    write_parquet(
        &root.join("clicks/year=2025/month=01/part-0.parquet"),
        &[4, 5, 6],
        &[4.0, 5.0, 6.0],
    );
    std::fs::write(root.join("clicks/_SUCCESS"), "").expect("marker");
    // A name clash: both would be `big_orders`; the first path in sorted order wins.
    std::fs::write(root.join("big_orders.csv"), "id,amount\n9,9.5\n").expect("csv");
    // A CSV table.
    std::fs::write(
        root.join("returns.csv"),
        "order_id,reason\n1,too small\n2,damaged\n",
    )
    .expect("csv");
    // An unreadable file.
    std::fs::write(root.join("broken.parquet"), b"this is not parquet").expect("broken");
    // Skipped: model store, hidden and underscore entries, other file types.
    write_parquet(&root.join("_models/m/weights.parquet"), &[1], &[1.0]);
    write_parquet(&root.join(".cache.parquet"), &[1], &[1.0]);
    std::fs::write(root.join("notes.txt"), "hello").expect("txt");
    // A folder mixing formats.
    write_parquet(&root.join("mixed/a.parquet"), &[1], &[1.0]);
    std::fs::write(root.join("mixed/b.csv"), "id\n1\n").expect("csv");

    let engine = Engine::builder(root)
        .build()
        .await
        .expect("engine builds despite bad files");
    let report = engine.registration();
    let mut names: Vec<&str> = report.tables.iter().map(|t| t.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["big_orders", "clicks", "returns"]);

    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    let clash = problems
        .iter()
        .find(|p| p.contains("big_orders.csv"))
        .expect("clash reported");
    assert!(
        clash.contains("already taken by") && clash.contains("Big Orders.parquet"),
        "{clash}"
    );
    let broken = problems
        .iter()
        .find(|p| p.contains("broken.parquet"))
        .expect("bad file reported");
    assert!(
        broken.contains("cannot be read as a parquet table"),
        "{broken}"
    );
    let mixed = problems
        .iter()
        .find(|p| p.contains("mixed"))
        .expect("mixed folder reported");
    assert!(mixed.contains("mixes parquet and csv files"), "{mixed}");

    let clicks = report
        .tables
        .iter()
        .find(|t| t.name == "clicks")
        .expect("clicks");
    assert_eq!(clicks.partition_columns, ["year", "month"]);
    assert_eq!(
        query(&engine, "SELECT year, month, count(*) AS n, sum(amount) AS total FROM clicks GROUP BY 1, 2 ORDER BY 1, 2").await,
        "+------+-------+---+-------+\n\
         | year | month | n | total |\n\
         +------+-------+---+-------+\n\
         | 2024 | 01    | 2 | 3.0   |\n\
         | 2024 | 02    | 1 | 3.0   |\n\
         | 2025 | 01    | 3 | 15.0  |\n\
         +------+-------+---+-------+"
    );
    // Partition pruning works on the text partition column.
    assert_eq!(
        query(
            &engine,
            "SELECT sum(id) AS s FROM clicks WHERE year = '2025'"
        )
        .await,
        "+----+\n| s  |\n+----+\n| 15 |\n+----+"
    );
    assert_eq!(
        query(&engine, "SELECT sum(amount) AS total FROM big_orders").await,
        "+-------+\n| total |\n+-------+\n| 60.5  |\n+-------+"
    );
    assert_eq!(
        query(&engine, "SELECT reason FROM returns ORDER BY order_id").await,
        "+-----------+\n| reason    |\n+-----------+\n| too small |\n| damaged   |\n+-----------+"
    );
}

#[tokio::test]
async fn new_files_are_picked_up_on_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_parquet(&dir.path().join("a.parquet"), &[1], &[1.0]);
    let first = Engine::builder(dir.path()).build().await.expect("engine");
    assert_eq!(first.registration().tables.len(), 1);
    write_parquet(&dir.path().join("b.parquet"), &[2], &[2.0]);
    let second = Engine::builder(dir.path()).build().await.expect("engine");
    assert_eq!(second.registration().tables.len(), 2);
}

#[tokio::test]
async fn a_missing_data_folder_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Err(err) = Engine::builder(dir.path().join("nope")).build().await else {
        panic!("a missing folder must not build");
    };
    assert!(err.to_string().contains("does not exist"), "{err}");
}

/// Every SQL function ecomsql registers is listed in `pg_proc` (so `\df`
/// shows it), and nothing else is: the registered names minus DataFusion's
/// and datafusion-pg-catalog's own, minus the Postgres built-ins ecomsql
/// implements, are exactly `catalog::pg_proc::FUNCTIONS`.
#[tokio::test]
async fn every_ecomsql_function_is_in_pg_proc() {
    use std::collections::BTreeSet;
    let models = tempfile::tempdir().expect("temp dir");
    let engine = crate::common::engine(&crate::common::demo_data_dir(), models.path()).await;
    let names = |ctx: &datafusion::prelude::SessionContext| -> BTreeSet<String> {
        let state = ctx.state();
        state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.table_functions().keys())
            .cloned()
            .collect()
    };
    let plain = datafusion::prelude::SessionContext::new();
    datafusion_pg_catalog::pg_catalog::setup_pg_catalog(
        &plain,
        "datafusion",
        std::sync::Arc::new(datafusion_postgres::auth::AuthManager::default()),
    )
    .expect("pg_catalog");
    let postgres_builtins: BTreeSet<String> = [
        "version",
        "current_setting",
        "set_config",
        "to_regtype",
        "pg_size_pretty",
        "pg_function_is_visible",
        "pg_type_is_visible",
        "pg_get_indexdef",
        "pg_get_viewdef",
        "pg_get_function_sqlbody",
        "pg_table_size",
        "pg_total_relation_size",
        "obj_description",
        "col_description",
        "pg_get_function_arguments",
        "pg_get_function_identity_arguments",
        "pg_get_function_result",
        "like_escape",
    ]
    .map(String::from)
    .into();
    let ours: BTreeSet<String> = names(engine.session_context())
        .difference(&names(&plain))
        .filter(|n| !postgres_builtins.contains(*n))
        .cloned()
        .collect();
    let listed: BTreeSet<String> = ecomsql::catalog::pg_proc::FUNCTIONS
        .iter()
        .map(|f| f.name.to_string())
        .collect();
    assert_eq!(ours, listed);
}
