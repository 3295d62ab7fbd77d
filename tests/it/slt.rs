//! sqllogictest files: `tests/slt/*.slt` run against the engine directly,
//! `tests/slt/pgwire/*.slt` against the server through tokio-postgres (where
//! the wire format is part of the behaviour).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use ecomsql::error::classify;
use ecomsql::{Engine, Output};
use futures::StreamExt;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};

use crate::common::{TestServer, demo_data_dir, engine};

/// An error as the files match it: "SQLSTATE: message".
#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

struct EngineDb(Arc<Engine>);

fn column_type(t: &DataType) -> DefaultColumnType {
    if t.is_integer() {
        DefaultColumnType::Integer
    } else if t.is_floating() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) {
        DefaultColumnType::FloatingPoint
    } else {
        DefaultColumnType::Text
    }
}

#[async_trait::async_trait]
impl AsyncDB for EngineDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let fail = |e: datafusion::error::DataFusionError| {
            let e = classify(&e);
            SltError(format!("{}: {}", e.state, e.message))
        };
        let mut stream = match self.0.execute(sql).await.map_err(fail)? {
            Output::Rows(stream) => stream,
            Output::Command(_) => return Ok(DBOutput::StatementComplete(0)),
        };
        let schema = stream.schema();
        if schema.fields().is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(fail)?;
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SltError(e.to_string()))?;
            for row in 0..batch.num_rows() {
                rows.push(
                    formatters
                        .iter()
                        .map(|f| f.value(row).to_string())
                        .collect(),
                );
            }
        }
        let types = schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "ecomsql"
    }
}

struct WireDb(tokio_postgres::Client);

#[async_trait::async_trait]
impl AsyncDB for WireDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let messages = self
            .0
            .simple_query(sql)
            .await
            .map_err(|e| match e.as_db_error() {
                Some(db) => SltError(format!("{}: {}", db.code().code(), db.message())),
                None => SltError(e.to_string()),
            })?;
        let mut rows = Vec::new();
        let mut columns = 0;
        for message in messages {
            match message {
                tokio_postgres::SimpleQueryMessage::RowDescription(desc) => columns = desc.len(),
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    columns = row.len();
                    rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).unwrap_or("NULL").to_string())
                            .collect(),
                    );
                }
                _ => {}
            }
        }
        if columns == 0 {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; columns],
            rows,
        })
    }

    async fn shutdown(&mut self) {}
}

fn slt_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("slt dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    files
}

fn slt_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("slt")
}

#[tokio::test]
async fn engine_slt_files() {
    let models = tempfile::tempdir().expect("dir");
    let engine = engine(&demo_data_dir(), models.path()).await;
    for file in slt_files(&slt_dir()) {
        let engine = Arc::clone(&engine);
        let mut runner = Runner::new(move || {
            let engine = Arc::clone(&engine);
            async move { Ok::<_, SltError>(EngineDb(engine)) }
        });
        runner
            .run_file_async(&file)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

#[tokio::test]
async fn pgwire_slt_files() {
    let models = tempfile::tempdir().expect("dir");
    let server = Arc::new(TestServer::start(engine(&demo_data_dir(), models.path()).await).await);
    for file in slt_files(&slt_dir().join("pgwire")) {
        let server = Arc::clone(&server);
        let mut runner = Runner::new(move || {
            let server = Arc::clone(&server);
            async move { Ok::<_, SltError>(WireDb(server.connect().await)) }
        });
        runner
            .run_file_async(&file)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}
