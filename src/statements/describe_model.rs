//! `DESCRIBE MODEL name`: every property of the active version as
//! (property, value) rows; the table function `model_info('name')` returns
//! the same rows.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::Result;

use super::{Cursor, rows_output};
use crate::engine::{Engine, Output};
use crate::error::SqlError;
use crate::models::ModelMeta;

/// `DESCRIBE MODEL`
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeModel {
    pub name: String,
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("property", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, true),
    ]))
});

impl DescribeModel {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "DESCRIBE MODEL")?;
        c.expect_word("DESCRIBE")?;
        c.expect_word("MODEL")?;
        let name = c.model_name()?;
        c.expect_end()?;
        Ok(Self { name })
    }

    pub fn schema() -> SchemaRef {
        Arc::clone(&SCHEMA)
    }

    pub(super) fn execute(&self, engine: &Engine) -> Result<Output> {
        let meta = engine.model_store().current_meta(&self.name)?;
        let (properties, values): (Vec<String>, Vec<Option<String>>) =
            properties(&meta).into_iter().unzip();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(properties)),
            Arc::new(StringArray::from(values)),
        ];
        rows_output(Self::schema(), columns)
    }
}

/// The (property, value) rows describing a model version.
pub fn properties(meta: &ModelMeta) -> Vec<(String, Option<String>)> {
    let mut rows = vec![
        ("name".to_string(), Some(meta.name.clone())),
        ("model_type".into(), Some(meta.model_type.clone())),
        ("version".into(), Some(meta.version.to_string())),
        ("created_at".into(), Some(meta.created_at.to_rfc3339())),
        ("training_rows".into(), Some(meta.training_rows.to_string())),
        (
            "training_seconds".into(),
            Some(format!("{:.3}", meta.training_seconds)),
        ),
        ("label".into(), meta.label.clone()),
    ];
    if meta.model_type == crate::models::text_classifier::MODEL_TYPE {
        rows.push(("classes".into(), Some(meta.classes.join(", "))));
    } else {
        rows.push(("positive_class".into(), meta.classes.first().cloned()));
        rows.push(("negative_class".into(), meta.classes.get(1).cloned()));
    }
    rows.push(("headline_metric".into(), meta.headline_metric.clone()));
    for f in &meta.features {
        rows.push((
            format!("feature.{}", f.name),
            Some(format!("{} ({})", f.kind, f.data_type)),
        ));
    }
    for (k, v) in &meta.options {
        rows.push((format!("option.{k}"), Some(v.clone())));
    }
    for (k, v) in &meta.metrics {
        rows.push((format!("metric.{k}"), Some(v.to_string())));
    }
    rows
}
