//! `roc_auc(score, label)` aggregate → Float64: area under the ROC curve of
//! `score` against a boolean (or 0/1) `label`; ties count one half. NULL when
//! the group has only one class; rows with a NULL score or label are
//! ignored.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

use super::mean_loss::score_label_types;
use crate::models::metrics;

/// `roc_auc`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RocAucImpl {
    signature: Signature,
}

impl RocAucImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for RocAucImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl AggregateUDFImpl for RocAucImpl {
    fn name(&self) -> &str {
        "roc_auc"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        score_label_types(self.name(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(RocAucAccumulator::default()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new_list(
                format!("{}_scores", args.name),
                Field::new_list_field(DataType::Float64, true),
                true,
            )),
            Arc::new(Field::new_list(
                format!("{}_labels", args.name),
                Field::new_list_field(DataType::Boolean, true),
                true,
            )),
        ])
    }
}

/// Keeps every (score, label) pair: AUC is a rank statistic.
#[derive(Debug, Default)]
struct RocAucAccumulator {
    scores: Vec<f64>,
    labels: Vec<bool>,
}

impl RocAucAccumulator {
    fn push(&mut self, scores: &Float64Array, labels: &BooleanArray) {
        for i in 0..scores.len() {
            if scores.is_valid(i) && labels.is_valid(i) {
                self.scores.push(scores.value(i));
                self.labels.push(labels.value(i));
            }
        }
    }
}

impl Accumulator for RocAucAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.push(values[0].as_primitive(), values[1].as_boolean());
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(metrics::roc_auc(
            &self.scores,
            &self.labels,
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.scores.capacity() * 8 + self.labels.capacity()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let scores = Float64Array::from(std::mem::take(&mut self.scores));
        let labels = BooleanArray::from(std::mem::take(&mut self.labels));
        Ok(vec![
            SingleRowListArrayBuilder::new(Arc::new(scores)).build_list_scalar(),
            SingleRowListArrayBuilder::new(Arc::new(labels)).build_list_scalar(),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (scores, labels) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..scores.len() {
            if scores.is_valid(row) && labels.is_valid(row) {
                let s = scores.value(row);
                let l = labels.value(row);
                self.push(s.as_primitive(), l.as_boolean());
            }
        }
        Ok(())
    }
}
