//! The accumulator shared by the per-row loss aggregates (`log_loss`,
//! `brier_score`): a sum and a count, so partial aggregates merge exactly.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, UInt64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::Accumulator;

use crate::error::{SqlState, sql_err};

/// `(score, label)` coerced to (Float64, Boolean); a numeric label counts as
/// positive when it is non-zero.
pub(crate) fn score_label_types(function: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [score, label]
            if (score.is_numeric() || *score == DataType::Null)
                && (label.is_numeric() || matches!(label, DataType::Boolean | DataType::Null)) =>
        {
            Ok(vec![DataType::Float64, DataType::Boolean])
        }
        _ => Err(sql_err(
            SqlState::UNDEFINED_FUNCTION,
            format!(
                "{function}(score, label) takes a numeric score and a boolean or 0/1 label, not {arg_types:?}"
            ),
        )),
    }
}

pub(crate) fn state_fields(name: &str) -> Vec<FieldRef> {
    vec![
        Arc::new(Field::new(format!("{name}_sum"), DataType::Float64, false)),
        Arc::new(Field::new(format!("{name}_count"), DataType::UInt64, false)),
    ]
}

/// Mean of `loss(score, label)` over rows without NULLs; NULL for no rows.
#[derive(Debug)]
pub(crate) struct MeanLossAccumulator {
    loss: fn(f64, bool) -> f64,
    sum: f64,
    count: u64,
}

impl MeanLossAccumulator {
    pub fn new(loss: fn(f64, bool) -> f64) -> Self {
        Self {
            loss,
            sum: 0.0,
            count: 0,
        }
    }
}

impl Accumulator for MeanLossAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let scores = values[0].as_primitive::<Float64Type>();
        let labels = values[1].as_boolean();
        for i in 0..scores.len() {
            if scores.is_valid(i) && labels.is_valid(i) {
                self.sum += (self.loss)(scores.value(i), labels.value(i));
                self.count += 1;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(
            (self.count > 0).then(|| self.sum / self.count as f64),
        ))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Float64(Some(self.sum)),
            ScalarValue::UInt64(Some(self.count)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let sums = states[0].as_primitive::<Float64Type>();
        let counts = states[1].as_primitive::<UInt64Type>();
        for i in 0..sums.len() {
            if sums.is_valid(i) && counts.is_valid(i) {
                self.sum += sums.value(i);
                self.count += counts.value(i);
            }
        }
        Ok(())
    }
}
