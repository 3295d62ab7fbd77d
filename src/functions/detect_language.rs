//! `detect_language(text)` → 'zh' | 'en' | 'und': 'zh' when the text has at
//! least as many Han characters as Latin words, 'en' when it has Latin
//! words, else 'und' (only emoji, digits or punctuation). NULL → NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::sentiment::{columnar, for_each_text, text_argument, text_signature};
use crate::sentiment::detect_language;

/// `detect_language`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DetectLanguageImpl {
    signature: Signature,
}

impl DetectLanguageImpl {
    pub fn new() -> Self {
        Self {
            signature: text_signature(),
        }
    }
}

impl Default for DetectLanguageImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for DetectLanguageImpl {
    fn name(&self) -> &str {
        "detect_language"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (texts, scalar) = text_argument(&args)?;
        let mut out = StringBuilder::with_capacity(texts.len(), texts.len() * 2);
        for_each_text(self.name(), &texts, |text| match text {
            Some(t) => out.append_value(detect_language(t).code()),
            None => out.append_null(),
        })?;
        columnar(Arc::new(out.finish()), scalar)
    }
}
