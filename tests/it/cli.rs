//! `ecomsql sql`, the report runner, as a cron job would run it.

use std::process::{Command, Output};

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;

use crate::common::{demo_data_dir, read_parquet};

fn ecomsql(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecomsql"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("ecomsql runs")
}

fn data_arg() -> String {
    demo_data_dir().to_string_lossy().into_owned()
}

#[test]
fn csv_output_of_an_inline_query() {
    let out = ecomsql(&[
        "sql",
        "--data",
        &data_arg(),
        "--format",
        "csv",
        "SELECT event_type, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "event_type,n");
    let steps: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    // The funnel narrows: more views than carts than purchases.
    assert_eq!(steps, ["view", "cart", "purchase"]);
}

#[test]
fn script_file_runs_every_statement_in_order() {
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join("report.sql");
    std::fs::write(
        &script,
        "-- a report with a view and two result sets\n\
         CREATE VIEW buyers AS SELECT DISTINCT user_id FROM orders;\n\
         SELECT count(*) AS buyers FROM buyers;\n\
         SELECT 'semi;colon' AS text, 2 AS two;\n",
    )
    .expect("script");
    let out = ecomsql(&[
        "sql",
        "--data",
        &data_arg(),
        "--format",
        "json",
        "-f",
        &script.to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows.len(), 2);
    let buyers = rows[0]["buyers"].as_i64().expect("count");
    assert!(buyers > 1000 && buyers <= 5000, "{buyers}");
    assert_eq!(rows[1]["text"], "semi;colon");
    assert_eq!(rows[1]["two"], 2);
}

#[test]
fn a_failing_statement_stops_the_run_with_its_location_and_sqlstate() {
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join("report.sql");
    let marker = dir.path().join("never.parquet");
    std::fs::write(
        &script,
        "SELECT 1 AS ok;\n\nSELECT *\n  FROM no_such_table;\nSELECT 3;\n",
    )
    .expect("script");
    let out = ecomsql(&[
        "sql",
        "--data",
        &data_arg(),
        "-f",
        &script.to_string_lossy(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("report.sql line 3"), "{stderr}");
    assert!(stderr.contains("FROM no_such_table"), "{stderr}");
    assert!(stderr.contains("ERROR 42P01"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("(1 row)"),
        "the first statement's result is printed: {stdout}"
    );
    assert!(
        !stdout.contains("| 3 "),
        "nothing after the failure runs: {stdout}"
    );
    assert!(!marker.exists());
}

#[test]
fn parquet_output_round_trips() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("out.parquet");
    let out = ecomsql(&[
        "sql",
        "--data",
        &data_arg(),
        "--format",
        "parquet",
        "--output",
        &path.to_string_lossy(),
        "SELECT city_tier, count(*) AS users FROM users GROUP BY 1 ORDER BY 1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let batches: Vec<RecordBatch> = read_parquet(&path);
    let users: i64 = batches
        .iter()
        .map(|b| {
            b.column(1)
                .as_primitive::<Int64Type>()
                .iter()
                .flatten()
                .sum::<i64>()
        })
        .sum();
    assert_eq!(users, 5000);

    // Two result sets cannot share one Parquet file.
    let out = ecomsql(&[
        "sql",
        "--data",
        &data_arg(),
        "--format",
        "parquet",
        "--output",
        &dir.path().join("two.parquet").to_string_lossy(),
        "SELECT 1 AS a; SELECT 2 AS b",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("one result set"));
}

#[test]
fn nothing_to_run_is_a_usage_error() {
    let out = ecomsql(&["sql", "--data", &data_arg()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to run"));
}

/// Floating-point columns are written without a dictionary (measured values
/// rarely repeat: see the README's benchmark notes); others keep it.
#[test]
fn parquet_output_skips_dictionaries_for_floats() {
    use datafusion::parquet::basic::Encoding;
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};

    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("floats.parquet");
    let out = ecomsql(&[
        "sql",
        "--data",
        &data_arg(),
        "--format",
        "parquet",
        "--output",
        &path.to_string_lossy(),
        "SELECT user_id, CAST(browse_minutes_30d AS DOUBLE) AS minutes FROM user_features",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reader =
        SerializedFileReader::new(std::fs::File::open(&path).expect("open")).expect("parquet");
    let row_group = reader.metadata().row_group(0);
    let dictionary = |i: usize| {
        row_group
            .column(i)
            .encodings()
            .any(|e| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY))
    };
    assert!(dictionary(0), "integer ids keep their dictionary");
    assert!(!dictionary(1), "floats are written plain");
}
