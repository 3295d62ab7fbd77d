//! `SHOW MODELS`: one row per model in the model folder.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::error::Result;

use super::Cursor;
use crate::engine::{Engine, Output};
use crate::error::SqlError;
use crate::models::ModelStore;

/// `SHOW MODELS`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShowModels;

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("model_type", DataType::Utf8, true),
        Field::new("version", DataType::Int64, true),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("training_rows", DataType::Int64, true),
        Field::new(
            "features",
            DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            true,
        ),
        Field::new("metric", DataType::Utf8, true),
        Field::new("metric_value", DataType::Float64, true),
        // NULL for a loadable model; otherwise why it cannot be loaded, so
        // one damaged model does not hide the others.
        Field::new("error", DataType::Utf8, true),
    ]))
});

impl ShowModels {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "SHOW MODELS")?;
        c.expect_word("SHOW")?;
        c.expect_word("MODELS")?;
        c.expect_end()?;
        Ok(Self)
    }

    pub fn schema() -> SchemaRef {
        Arc::clone(&SCHEMA)
    }

    pub(super) async fn execute(&self, engine: &Engine) -> Result<Output> {
        let batch = Self::batch(engine.model_store())?;
        Ok(Output::batches(Self::schema(), vec![batch]))
    }

    /// One row per model in `store` (the rows of `SHOW MODELS` and of the
    /// `ecomsql.models` view).
    pub fn batch(store: &ModelStore) -> Result<RecordBatch> {
        let names = store.model_names()?;

        let mut name = StringBuilder::new();
        let mut model_type = StringBuilder::new();
        let mut version = Int64Builder::new();
        let mut created_at = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        let mut training_rows = Int64Builder::new();
        let mut features = ListBuilder::new(StringBuilder::new())
            .with_field(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        let mut metric = StringBuilder::new();
        let mut metric_value = Float64Builder::new();
        let mut error = StringBuilder::new();

        for model in &names {
            name.append_value(model);
            match store.current_meta(model) {
                Ok(meta) => {
                    model_type.append_value(&meta.model_type);
                    version.append_value(i64::try_from(meta.version).unwrap_or(i64::MAX));
                    created_at.append_value(meta.created_at.timestamp_micros());
                    training_rows
                        .append_value(i64::try_from(meta.training_rows).unwrap_or(i64::MAX));
                    for f in &meta.features {
                        features.values().append_value(&f.name);
                    }
                    features.append(true);
                    let headline = meta.headline_metric.as_deref();
                    metric.append_option(headline);
                    metric_value.append_option(headline.and_then(|m| meta.metrics.get(m).copied()));
                    error.append_null();
                }
                Err(e) => {
                    model_type.append_null();
                    version.append_null();
                    created_at.append_null();
                    training_rows.append_null();
                    features.append(false);
                    metric.append_null();
                    metric_value.append_null();
                    error.append_value(e.message);
                }
            }
        }

        let columns: Vec<ArrayRef> = vec![
            Arc::new(name.finish()),
            Arc::new(model_type.finish()),
            Arc::new(version.finish()),
            Arc::new(created_at.finish()),
            Arc::new(training_rows.finish()),
            Arc::new(features.finish()),
            Arc::new(metric.finish()),
            Arc::new(metric_value.finish()),
            Arc::new(error.finish()),
        ];
        Ok(RecordBatch::try_new(Self::schema(), columns)?)
    }
}
