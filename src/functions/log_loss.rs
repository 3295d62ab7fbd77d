//! `log_loss(score, label)` aggregate → Float64: mean negative
//! log-likelihood of probabilities `score` for a boolean (or 0/1) `label`.
//! Probabilities are clipped to [1e-15, 1 − 1e-15] as scikit-learn does.
//! NULL for no rows; rows with a NULL are ignored.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

use super::mean_loss::{MeanLossAccumulator, score_label_types, state_fields};
use crate::models::metrics::log_loss_term;

/// `log_loss`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LogLossImpl {
    signature: Signature,
}

impl LogLossImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for LogLossImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl AggregateUDFImpl for LogLossImpl {
    fn name(&self) -> &str {
        "log_loss"
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
        Ok(Box::new(MeanLossAccumulator::new(log_loss_term)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(args.name))
    }
}
