//! `EVALUATE MODEL name [ON (<query>)] [OPTIONS (label = '...', threshold = 0.5, k = 10,
//! folds = 3, horizon = 30, level = 0.95, by_series = true)]` (`label` and
//! `threshold` for classifiers, `k` for recommenders, the rest for
//! forecasters). With `by_series = true` the rows gain a leading `series`
//! column: NULL for the overall figures, then one set per series.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::Result;

use super::parser::OptionList;
use super::{Cursor, rows_output};
use crate::engine::{Engine, Output};
use crate::error::{SqlError, SqlState};
use crate::models::ar::BacktestRequest;
use crate::models::evaluate::{EvaluateRequest, evaluate};

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

static SERIES_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("series", DataType::Utf8, true),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
    ]))
});

const OPTIONS: &[&str] = &[
    "label",
    "threshold",
    "k",
    "folds",
    "horizon",
    "level",
    "by_series",
];

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
            if !OPTIONS.contains(&key.as_str()) {
                return Err(SqlError::new(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "unknown option \"{key}\" for EVALUATE MODEL; valid options: {}",
                        OPTIONS.join(", ")
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

    /// `(metric, value)`, or `(series, metric, value)` with `by_series`.
    pub fn schema(&self) -> SchemaRef {
        if self.by_series() {
            Arc::clone(&SERIES_SCHEMA)
        } else {
            Arc::clone(&SCHEMA)
        }
    }

    fn by_series(&self) -> bool {
        self.options
            .get("by_series")
            .is_some_and(|v| matches!(v.as_text().to_lowercase().as_str(), "true" | "on" | "1"))
    }

    /// A whole-number option within `[min, max]`.
    fn whole(&self, key: &str, min: usize, max: usize) -> Result<Option<usize>> {
        let Some(v) = self.options.get(key) else {
            return Ok(None);
        };
        v.as_text()
            .parse::<usize>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| {
                SqlError::new(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("{key} = {v} must be a whole number from {min} to {max}"),
                )
                .into()
            })
    }

    /// A number option strictly between 0 and 1 (or up to 1 with `closed`).
    fn fraction(&self, key: &str, closed: bool) -> Result<Option<f64>> {
        let Some(v) = self.options.get(key) else {
            return Ok(None);
        };
        v.as_text()
            .parse::<f64>()
            .ok()
            .filter(|t| {
                if closed {
                    (0.0..=1.0).contains(t)
                } else {
                    *t > 0.0 && *t < 1.0
                }
            })
            .map(Some)
            .ok_or_else(|| {
                SqlError::new(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "{key} = {v} must be a number {}",
                        if closed {
                            "from 0 to 1"
                        } else {
                            "between 0 and 1 (exclusive)"
                        }
                    ),
                )
                .into()
            })
    }

    pub(super) async fn execute(&self, engine: &Engine) -> Result<Output> {
        let label = self.options.get("label").map(|v| v.as_text());
        if let Some(v) = self.options.get("by_series") {
            let text = v.as_text().to_lowercase();
            if !["true", "false", "on", "off", "1", "0"].contains(&text.as_str()) {
                return Err(SqlError::new(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!("by_series = {v} must be true or false"),
                )
                .into());
            }
        }
        let request = EvaluateRequest {
            query: self.query.as_deref(),
            label: label.as_deref(),
            threshold: self.fraction("threshold", true)?,
            k: self.whole("k", 1, 10_000)?,
            backtest: BacktestRequest {
                folds: self.whole("folds", 1, 100)?,
                horizon: self.whole("horizon", 1, 100_000)?,
                level: self.fraction("level", false)?,
            },
        };
        let mut rows = evaluate(engine, &self.name, request).await?;
        let by_series = self.by_series();
        if !by_series {
            rows.retain(|r| r.series.is_none());
        }
        if by_series && rows.iter().all(|r| r.series.is_none()) && !rows.is_empty() {
            let per_series = engine
                .models()
                .get(&self.name)
                .is_ok_and(|m| m.meta.options.contains_key("series_col"));
            if !per_series {
                return Err(SqlError::new(
                    SqlState::INVALID_PARAMETER_VALUE,
                    format!(
                        "by_series needs a forecasting model trained with series_col; \"{}\" has one set of metrics",
                        self.name
                    ),
                )
                .into());
            }
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(3);
        if by_series {
            columns.push(Arc::new(StringArray::from(
                rows.iter().map(|r| r.series.clone()).collect::<Vec<_>>(),
            )));
        }
        columns.push(Arc::new(StringArray::from(
            rows.iter().map(|r| r.metric.clone()).collect::<Vec<_>>(),
        )));
        columns.push(Arc::new(Float64Array::from(
            rows.iter().map(|r| r.value).collect::<Vec<_>>(),
        )));
        rows_output(self.schema(), columns)
    }
}
