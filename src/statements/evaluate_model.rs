//! `EVALUATE MODEL name [ON (<query>)] [OPTIONS (label = '...', threshold = 0.5, k = 10)]`
//! (`label` and `threshold` for classifiers, `k` for recommenders).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::Result;

use super::parser::OptionList;
use super::{Cursor, rows_output};
use crate::engine::{Engine, Output};
use crate::error::{SqlError, SqlState};
use crate::models::evaluate::evaluate;

/// `EVALUATE MODEL`
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateModel {
    pub name: String,
    pub query: Option<String>,
    pub options: OptionList,
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
    ]))
});

impl EvaluateModel {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "EVALUATE MODEL")?;
        c.expect_word("EVALUATE")?;
        c.expect_word("MODEL")?;
        let name = c.model_name()?;
        let query = if c.eat_word("ON") {
            Some(c.parenthesised_text()?.to_string())
        } else {
            None
        };
        let options = if c.eat_word("OPTIONS") {
            c.option_list()?
        } else {
            OptionList::default()
        };
        c.expect_end()?;
        for (key, _) in &options.0 {
            if !["label", "threshold", "k"].contains(&key.as_str()) {
                return Err(SqlError::new(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "unknown option \"{key}\" for EVALUATE MODEL; valid options: label, threshold, k"
                    ),
                ));
            }
        }
        Ok(Self {
            name,
            query,
            options,
        })
    }

    pub fn schema() -> SchemaRef {
        Arc::clone(&SCHEMA)
    }

    pub(super) async fn execute(&self, engine: &Engine) -> Result<Output> {
        let label = self.options.get("label").map(|v| v.as_text());
        let threshold = match self.options.get("threshold") {
            Some(v) => Some(
                v.as_text()
                    .parse::<f64>()
                    .ok()
                    .filter(|t| (0.0..=1.0).contains(t))
                    .ok_or_else(|| {
                        SqlError::new(
                            SqlState::INVALID_PARAMETER_VALUE,
                            format!("threshold = {v} must be a number from 0 to 1"),
                        )
                    })?,
            ),
            None => None,
        };
        let k = match self.options.get("k") {
            Some(v) => Some(
                v.as_text()
                    .parse::<usize>()
                    .ok()
                    .filter(|k| (1..=10_000).contains(k))
                    .ok_or_else(|| {
                        SqlError::new(
                            SqlState::INVALID_PARAMETER_VALUE,
                            format!("k = {v} must be a whole number from 1 to 10000"),
                        )
                    })?,
            ),
            None => None,
        };
        let metrics = evaluate(
            engine,
            &self.name,
            self.query.as_deref(),
            label.as_deref(),
            threshold,
            k,
        )
        .await?;
        let (names, values): (Vec<String>, Vec<f64>) = metrics.into_iter().unzip();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(names)),
            Arc::new(Float64Array::from(values)),
        ];
        rows_output(Self::schema(), columns)
    }
}
