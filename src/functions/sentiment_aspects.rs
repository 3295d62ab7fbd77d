//! `sentiment_aspects(text)` → struct(quality, price, delivery, service,
//! packaging, fit), each Float64 in (−1, 1): the sentiment of what the text
//! says about that aspect, NULL where it says nothing of it. Words count
//! for the nearest aspect noun in their clause (质量, "delivery"), or for
//! the aspect they imply ("flimsy" → quality, 偏小 → fit). NULL → NULL.
//! Read a field with `sentiment_aspects(t)['delivery']`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Builder, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::sentiment::{columnar, for_each_text, text_argument, text_signature};
use crate::sentiment::{Analyzer, Aspect, Scratch};

/// `sentiment_aspects`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SentimentAspectsImpl {
    signature: Signature,
}

impl SentimentAspectsImpl {
    pub fn new() -> Self {
        Self {
            signature: text_signature(),
        }
    }
}

impl Default for SentimentAspectsImpl {
    fn default() -> Self {
        Self::new()
    }
}

fn fields() -> Fields {
    Aspect::ALL
        .iter()
        .map(|a| Field::new(a.name(), DataType::Float64, true))
        .collect()
}

impl ScalarUDFImpl for SentimentAspectsImpl {
    fn name(&self) -> &str {
        "sentiment_aspects"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (texts, scalar) = text_argument(&args)?;
        let analyzer = Analyzer::get();
        let mut scratch = Scratch::default();
        let mut columns: Vec<Float64Builder> = Aspect::ALL
            .iter()
            .map(|_| Float64Builder::with_capacity(texts.len()))
            .collect();
        for_each_text(self.name(), &texts, |text| {
            let aspects = text.map(|t| analyzer.analyze(t, &mut scratch).aspects);
            for (i, column) in columns.iter_mut().enumerate() {
                column.append_option(aspects.and_then(|a| a[i]));
            }
        })?;
        let columns: Vec<ArrayRef> = columns
            .iter_mut()
            .map(|c| Arc::new(c.finish()) as ArrayRef)
            .collect();
        let result = StructArray::try_new(fields(), columns, texts.logical_nulls())?;
        columnar(Arc::new(result), scalar)
    }
}
