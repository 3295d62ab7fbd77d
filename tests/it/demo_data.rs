//! The demo data generator: deterministic, documented schemas, and the
//! committed `data/` is exactly its default output.

use std::path::Path;

use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ecomsql::demo::{DemoConfig, FEATURES, LABEL_COEFFICIENTS, LABEL_INTERCEPT, generate};

use crate::common::demo_data_dir;

const TABLES: [&str; 7] = [
    "daily_sales",
    "events",
    "items",
    "orders",
    "reviews",
    "user_features",
    "users",
];

fn small() -> DemoConfig {
    DemoConfig {
        users: 300,
        items: 120,
        days: 60,
        seed: 7,
        ..DemoConfig::default()
    }
}

fn schema_of(path: &Path) -> Vec<(String, String)> {
    let file = std::fs::File::open(path).expect("file");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
    builder
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), type_name(f.data_type())))
        .collect()
}

fn type_name(t: &DataType) -> String {
    match t {
        DataType::Timestamp(unit, Some(tz)) => format!("Timestamp({unit:?}, {tz})"),
        other => other.to_string(),
    }
}

fn files_equal(a: &Path, b: &Path) -> bool {
    std::fs::read(a).expect("a") == std::fs::read(b).expect("b")
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let a = tempfile::tempdir().expect("dir");
    let b = tempfile::tempdir().expect("dir");
    let c = tempfile::tempdir().expect("dir");
    generate(&small(), a.path()).expect("generates");
    generate(&small(), b.path()).expect("generates");
    generate(&DemoConfig { seed: 8, ..small() }, c.path()).expect("generates");
    for table in TABLES {
        let file = format!("{table}.parquet");
        assert!(
            files_equal(&a.path().join(&file), &b.path().join(&file)),
            "{table} differs between runs"
        );
    }
    assert!(!files_equal(
        &a.path().join("events.parquet"),
        &c.path().join("events.parquet")
    ));
    assert!(files_equal(
        &a.path().join("ground_truth.json"),
        &b.path().join("ground_truth.json")
    ));
}

/// Users are simulated in parallel chunks; ids (sessions, orders, reviews)
/// must come out the same however the users are chunked.
#[test]
fn output_does_not_depend_on_chunking() {
    let one = tempfile::tempdir().expect("dir");
    let many = tempfile::tempdir().expect("dir");
    generate(&small(), one.path()).expect("generates");
    generate(
        &DemoConfig {
            chunk_users: 37,
            ..small()
        },
        many.path(),
    )
    .expect("generates");
    for table in TABLES {
        let file = format!("{table}.parquet");
        let a = crate::common::read_parquet(&one.path().join(&file));
        let b = crate::common::read_parquet(&many.path().join(&file));
        let concat = |batches: &[datafusion::arrow::array::RecordBatch]| {
            datafusion::arrow::compute::concat_batches(&batches[0].schema(), batches)
                .expect("concat")
        };
        assert_eq!(concat(&a), concat(&b), "{table}");
    }
}

#[test]
fn tables_have_the_documented_schemas() {
    let dir = tempfile::tempdir().expect("dir");
    let summary = generate(&small(), dir.path()).expect("generates");
    let ts = "Timestamp(Microsecond, UTC)";
    let expected: [(&str, &[(&str, &str)]); 7] = [
        (
            "users",
            &[
                ("user_id", "Int64"),
                ("signup_date", "Date32"),
                ("country", "Utf8"),
                ("city_tier", "Int32"),
                ("age_band", "Utf8"),
                ("segment", "Utf8"),
            ],
        ),
        (
            "items",
            &[
                ("item_id", "Int64"),
                ("title", "Utf8"),
                ("title_zh", "Utf8"),
                ("category", "Utf8"),
                ("category_zh", "Utf8"),
                ("brand", "Utf8"),
                ("price", "Decimal128(12, 2)"),
                ("launch_date", "Date32"),
            ],
        ),
        (
            "events",
            &[
                ("user_id", "Int64"),
                ("item_id", "Int64"),
                ("event_type", "Utf8"),
                ("event_time", ts),
                ("session_id", "Int64"),
                ("dwell_seconds", "Int32"),
            ],
        ),
        (
            "orders",
            &[
                ("order_id", "Int64"),
                ("user_id", "Int64"),
                ("item_id", "Int64"),
                ("order_time", ts),
                ("quantity", "Int32"),
                ("unit_price", "Decimal128(12, 2)"),
                ("revenue", "Decimal128(12, 2)"),
            ],
        ),
        (
            "reviews",
            &[
                ("review_id", "Int64"),
                ("user_id", "Int64"),
                ("item_id", "Int64"),
                ("rating", "Int32"),
                ("review_text", "Utf8"),
                ("language", "Utf8"),
                ("review_time", ts),
            ],
        ),
        (
            "daily_sales",
            &[
                ("day", "Date32"),
                ("category", "Utf8"),
                ("units", "Int64"),
                ("revenue", "Decimal128(14, 2)"),
            ],
        ),
        (
            "user_features",
            &[
                ("user_id", "Int64"),
                ("views_30d", "Int64"),
                ("purchases_30d", "Int64"),
                ("reviews_30d", "Int64"),
                ("browse_minutes_30d", "Float64"),
                ("purchase_minutes_30d", "Float64"),
                ("purchased_next_7d", "Boolean"),
            ],
        ),
    ];
    for (table, columns) in expected {
        let actual = schema_of(&dir.path().join(format!("{table}.parquet")));
        let expected: Vec<(String, String)> = columns
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(actual, expected, "{table}");
    }
    assert_eq!(summary.rows["users"], 300);
    assert_eq!(summary.rows["items"], 120);
    assert_eq!(summary.rows["user_features"], 300);
    assert_eq!(summary.rows["daily_sales"], 8 * 60);
}

#[test]
fn ground_truth_records_the_label_model() {
    let dir = tempfile::tempdir().expect("dir");
    generate(&small(), dir.path()).expect("generates");
    let text = std::fs::read_to_string(dir.path().join("ground_truth.json")).expect("json");
    let truth: serde_json::Value = serde_json::from_str(&text).expect("valid json");
    let model = &truth["purchase_model"];
    assert_eq!(model["intercept"].as_f64(), Some(LABEL_INTERCEPT));
    for (feature, coefficient) in FEATURES.iter().zip(LABEL_COEFFICIENTS) {
        assert_eq!(
            model["coefficients"][feature].as_f64(),
            Some(coefficient),
            "{feature}"
        );
    }
    assert_eq!(truth["daily_sales"].as_object().map(|o| o.len()), Some(8));
    let ar = truth["daily_sales"]["electronics"]["ar"]
        .as_array()
        .expect("ar");
    assert_eq!(ar.len(), 2);
}

#[test]
fn bad_options_are_rejected() {
    let dir = tempfile::tempdir().expect("dir");
    let err = generate(
        &DemoConfig {
            users: 0,
            ..small()
        },
        dir.path(),
    )
    .expect_err("zero users");
    assert!(err.to_string().contains("must be positive"), "{err}");
    let err = generate(
        &DemoConfig {
            days: 10,
            ..small()
        },
        dir.path(),
    )
    .expect_err("too few days");
    assert!(err.to_string().contains("at least 31"), "{err}");
}

/// The committed demo data must be exactly what the generator produces with
/// its defaults, so changing the generator means regenerating `data/`.
#[test]
fn committed_data_is_the_default_output() {
    let dir = tempfile::tempdir().expect("dir");
    generate(&DemoConfig::default(), dir.path()).expect("generates");
    for table in TABLES {
        let file = format!("{table}.parquet");
        assert!(
            files_equal(&dir.path().join(&file), &demo_data_dir().join(&file)),
            "data/{file} is stale: run `cargo run --release -- demo-data` and commit data/"
        );
    }
    assert!(files_equal(
        &dir.path().join("ground_truth.json"),
        &demo_data_dir().join("ground_truth.json")
    ));
}
