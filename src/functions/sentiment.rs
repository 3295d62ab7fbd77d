//! `sentiment(text)` → Float64 in (−1, 1): the built-in bilingual review
//! sentiment (see [`crate::sentiment`]). NULL → NULL; text with no
//! sentiment (an empty string, a product code) → 0.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use crate::error::{SqlState, sql_err};
use crate::sentiment::{Analyzer, Scratch};

/// `sentiment`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SentimentImpl {
    signature: Signature,
}

impl SentimentImpl {
    pub fn new() -> Self {
        Self {
            signature: text_signature(),
        }
    }
}

impl Default for SentimentImpl {
    fn default() -> Self {
        Self::new()
    }
}

/// One text argument of any string type.
pub(crate) fn text_signature() -> Signature {
    Signature::one_of(vec![TypeSignature::String(1)], Volatility::Immutable)
}

/// Call `f` on every text of a string argument, in order (None for NULL).
pub(crate) fn for_each_text(
    function: &str,
    array: &ArrayRef,
    mut f: impl FnMut(Option<&str>),
) -> Result<()> {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(&mut f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(&mut f),
        DataType::Utf8View => array.as_string_view().iter().for_each(&mut f),
        DataType::Null => (0..array.len()).for_each(|_| f(None)),
        other => {
            return Err(sql_err(
                SqlState::DATATYPE_MISMATCH,
                format!("{function} takes text, not {other}"),
            ));
        }
    }
    Ok(())
}

/// The single text argument as an array, and whether it was a scalar (the
/// result is then a scalar too).
pub(crate) fn text_argument(args: &ScalarFunctionArgs) -> Result<(ArrayRef, bool)> {
    match args.args.as_slice() {
        [ColumnarValue::Array(a)] => Ok((Arc::clone(a), false)),
        [ColumnarValue::Scalar(s)] => Ok((s.to_array_of_size(1)?, true)),
        _ => Err(sql_err(
            SqlState::UNDEFINED_FUNCTION,
            "this function takes one text argument",
        )),
    }
}

/// The result column, or its only value for a scalar argument.
pub(crate) fn columnar(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &array, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

impl ScalarUDFImpl for SentimentImpl {
    fn name(&self) -> &str {
        "sentiment"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (texts, scalar) = text_argument(&args)?;
        let analyzer = Analyzer::get();
        let mut scratch = Scratch::default();
        let mut values = Vec::with_capacity(texts.len());
        for_each_text(self.name(), &texts, |text| {
            values.push(text.map_or(0.0, |t| analyzer.score(t, &mut scratch)));
        })?;
        let result = Float64Array::new(values.into(), texts.logical_nulls());
        columnar(Arc::new(result), scalar)
    }
}
