//! Parquet output of the generator: each table is written to a temporary
//! file and renamed into place when complete, so a reader never sees half a
//! table.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::ArrayBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use super::DemoError;

pub struct TableWriter {
    writer: ArrowWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
}

impl TableWriter {
    pub fn create(dir: &Path, table: &str, schema: SchemaRef) -> Result<Self, DemoError> {
        let path = dir.join(format!("{table}.parquet"));
        let tmp = dir.join(format!(".{table}.parquet.tmp"));
        let file = File::create(&tmp).map_err(|e| DemoError::io(&tmp, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(3).map_err(DemoError::parquet)?,
            ))
            .set_max_row_group_row_count(Some(256 * 1024))
            .build();
        let writer = ArrowWriter::try_new(file, schema, Some(props)).map_err(DemoError::parquet)?;
        Ok(Self {
            writer,
            tmp,
            path,
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), DemoError> {
        self.rows += batch.num_rows() as u64;
        self.writer.write(batch).map_err(DemoError::parquet)
    }

    /// Finish the file and move it into place; returns the row count.
    pub fn finish(self) -> Result<u64, DemoError> {
        let file = self.writer.into_inner().map_err(DemoError::parquet)?;
        file.sync_all().map_err(|e| DemoError::io(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| DemoError::io(&self.path, e))?;
        Ok(self.rows)
    }
}

/// Finish column builders, in schema order, into one batch.
pub fn finish_batch(
    schema: SchemaRef,
    builders: &mut [&mut dyn ArrayBuilder],
) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(schema, builders.iter_mut().map(|b| b.finish()).collect())
}
