//! Result formats of `ecomsql sql`.

use std::io::Write;

use clap::ValueEnum;
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;
use futures::StreamExt;

use crate::error::{SqlError, SqlState, classify};

/// Why writing a result set failed: the statement itself (its stream
/// errored), or the output (disk full, closed pipe).
#[derive(Debug)]
pub enum WriteError {
    Query(SqlError),
    Output(std::io::Error),
}

impl From<SqlError> for WriteError {
    fn from(e: SqlError) -> Self {
        Self::Query(e)
    }
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        Self::Output(e)
    }
}

impl From<datafusion::arrow::error::ArrowError> for WriteError {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        match e {
            datafusion::arrow::error::ArrowError::IoError(_, io) => Self::Output(io),
            other => Self::Output(std::io::Error::other(other)),
        }
    }
}

impl From<datafusion::parquet::errors::ParquetError> for WriteError {
    fn from(e: datafusion::parquet::errors::ParquetError) -> Self {
        Self::Output(std::io::Error::other(e))
    }
}

/// How result sets are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned table per result set, followed by its row count.
    Table,
    /// CSV with a header line; result sets are separated by a blank line.
    Csv,
    /// JSON Lines: one object per row.
    Json,
    /// One Parquet file; only one statement may return rows.
    Parquet,
}

/// Writes the result sets of a run to one sink.
pub struct ResultWriter {
    format: OutputFormat,
    sink: Box<dyn Write + Send>,
    results: usize,
    parquet: Option<ArrowWriter<Box<dyn Write + Send>>>,
}

impl ResultWriter {
    pub fn new(format: OutputFormat, sink: Box<dyn Write + Send>) -> Self {
        Self {
            format,
            sink,
            results: 0,
            parquet: None,
        }
    }

    /// Write one statement's rows. Statements without columns (DDL such as
    /// `CREATE VIEW`) write nothing.
    pub async fn write_stream(
        &mut self,
        mut stream: SendableRecordBatchStream,
    ) -> Result<(), WriteError> {
        let schema = stream.schema();
        if schema.fields().is_empty() {
            while let Some(batch) = stream.next().await {
                batch.map_err(|e| classify(&e))?;
            }
            return Ok(());
        }
        let first_result = self.results == 0;
        self.results += 1;
        match self.format {
            OutputFormat::Table => {
                let mut batches = Vec::new();
                while let Some(batch) = stream.next().await {
                    batches.push(batch.map_err(|e| classify(&e))?);
                }
                let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
                if batches.is_empty() {
                    batches.push(RecordBatch::new_empty(schema));
                }
                let table = pretty_format_batches(&batches)?;
                let noun = if rows == 1 { "row" } else { "rows" };
                writeln!(self.sink, "{table}\n({rows} {noun})\n")?;
            }
            OutputFormat::Csv => {
                if !first_result {
                    writeln!(self.sink)?;
                }
                let mut writer = CsvWriterBuilder::new()
                    .with_header(true)
                    .build(&mut self.sink);
                let mut wrote_any = false;
                while let Some(batch) = stream.next().await {
                    writer.write(&batch.map_err(|e| classify(&e))?)?;
                    wrote_any = true;
                }
                if !wrote_any {
                    writer.write(&RecordBatch::new_empty(schema))?;
                }
            }
            OutputFormat::Json => {
                let mut writer = LineDelimitedWriter::new(&mut self.sink);
                while let Some(batch) = stream.next().await {
                    writer.write(&batch.map_err(|e| classify(&e))?)?;
                }
                writer.finish()?;
            }
            OutputFormat::Parquet => {
                if !first_result {
                    return Err(WriteError::Query(SqlError::new(
                        SqlState::INVALID_PARAMETER_VALUE,
                        "Parquet output holds one result set, and an earlier statement already returned rows",
                    )
                    .with_hint("write other result sets with --format csv or json, or split the report")));
                }
                let sink = std::mem::replace(&mut self.sink, Box::new(std::io::sink()));
                // Row groups of 128k rows let readers (DataFusion, DuckDB,
                // Spark) scan the file on several cores.
                let mut props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(128 * 1024));
                // Measured values (prices, scores) rarely repeat: a
                // dictionary makes such columns larger and slower to read.
                for field in schema.fields() {
                    if field.data_type().is_floating() {
                        props = props.set_column_dictionary_enabled(
                            ColumnPath::from(field.name().as_str()),
                            false,
                        );
                    }
                }
                let props = props.build();
                let mut writer = ArrowWriter::try_new(sink, schema, Some(props))?;
                while let Some(batch) = stream.next().await {
                    writer.write(&batch.map_err(|e| classify(&e))?)?;
                }
                self.parquet = Some(writer);
            }
        }
        Ok(())
    }

    /// A command without rows: nothing is written to the results, so that a
    /// report's output holds only its result sets.
    pub fn write_command(&mut self, tag: &str) -> Result<(), WriteError> {
        log::info!("{tag}");
        Ok(())
    }

    /// Flush everything; a Parquet file gets its footer here.
    pub fn finish(&mut self) -> Result<(), std::io::Error> {
        if let Some(writer) = self.parquet.take() {
            let mut sink = writer.into_inner().map_err(std::io::Error::other)?;
            sink.flush()?;
        }
        self.sink.flush()
    }
}
