//! `brier_score(score, label)` aggregate → Float64: mean squared
//! difference between probability `score` and a boolean (or 0/1) `label`.
//! NULL for no rows; rows with a NULL are ignored.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

use super::mean_loss::{MeanLossAccumulator, score_label_types, state_fields};
use crate::models::metrics::brier_term;

/// `brier_score`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BrierScoreImpl {
    signature: Signature,
}

impl BrierScoreImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for BrierScoreImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl AggregateUDFImpl for BrierScoreImpl {
    fn name(&self) -> &str {
        "brier_score"
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
        Ok(Box::new(MeanLossAccumulator::new(brier_term)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(args.name))
    }
}
