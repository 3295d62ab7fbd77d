//! `sentiment_label(text)` → 'positive' | 'neutral' | 'negative': the
//! built-in sentiment score cut at ±[`crate::sentiment::LABEL_THRESHOLD`]. NULL → NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::sentiment::{columnar, for_each_text, text_argument, text_signature};
use crate::sentiment::{Analyzer, Scratch, label};

/// `sentiment_label`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SentimentLabelImpl {
    signature: Signature,
}

impl SentimentLabelImpl {
    pub fn new() -> Self {
        Self {
            signature: text_signature(),
        }
    }
}

impl Default for SentimentLabelImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for SentimentLabelImpl {
    fn name(&self) -> &str {
        "sentiment_label"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (texts, scalar) = text_argument(&args)?;
        let analyzer = Analyzer::get();
        let mut scratch = Scratch::default();
        let mut out = StringBuilder::with_capacity(texts.len(), texts.len() * 8);
        for_each_text(self.name(), &texts, |text| match text {
            Some(t) => out.append_value(label(analyzer.score(t, &mut scratch))),
            None => out.append_null(),
        })?;
        columnar(Arc::new(out.finish()), scalar)
    }
}
