//! `model_versions('model')`: every stored version of a model, oldest first:
//! `version`, `created_at`, `training_rows`, the headline `metric` and its
//! `metric_value`, and `current` (the active one; `ALTER MODEL m SET VERSION
//! n` changes it).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;

use super::{Models, memory_table, table_function_model_name};

/// `model_versions`
#[derive(Debug)]
pub struct ModelVersionsFunc {
    models: Models,
}

impl ModelVersionsFunc {
    pub fn new(models: Models) -> Self {
        Self { models }
    }
}

impl TableFunctionImpl for ModelVersionsFunc {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = table_function_model_name("model_versions", args.exprs())?;
        let store = self.models.0.store();
        let current = store.current_version(&name)?;
        let mut version = Vec::new();
        let mut created = Vec::new();
        let mut rows = Vec::new();
        let mut metric = Vec::new();
        let mut value = Vec::new();
        let mut is_current = Vec::new();
        for v in store.versions(&name)? {
            let meta = store.meta(&name, v)?;
            version.push(i64::try_from(v).unwrap_or(i64::MAX));
            created.push(meta.created_at.timestamp_micros());
            rows.push(i64::try_from(meta.training_rows).unwrap_or(i64::MAX));
            value.push(
                meta.headline_metric
                    .as_ref()
                    .and_then(|m| meta.metrics.get(m).copied()),
            );
            metric.push(meta.headline_metric);
            is_current.push(v == current);
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("version", DataType::Int64, false),
            Field::new(
                "created_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            Field::new("training_rows", DataType::Int64, false),
            Field::new("metric", DataType::Utf8, true),
            Field::new("metric_value", DataType::Float64, true),
            Field::new("current", DataType::Boolean, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(version)),
            Arc::new(TimestampMicrosecondArray::from(created).with_timezone("UTC")),
            Arc::new(Int64Array::from(rows)),
            Arc::new(StringArray::from(metric)),
            Arc::new(Float64Array::from(value)),
            Arc::new(BooleanArray::from(is_current)),
        ];
        memory_table(schema, columns)
    }
}
