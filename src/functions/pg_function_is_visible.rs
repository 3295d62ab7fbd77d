//! `pg_function_is_visible(oid)` → true: every function is on the search
//! path (ecomsql has one schema of functions). psql's `\df` filters by it.

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// `pg_function_is_visible`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgFunctionIsVisibleImpl {
    signature: Signature,
}

impl PgFunctionIsVisibleImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Stable),
        }
    }
}

impl Default for PgFunctionIsVisibleImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for PgFunctionIsVisibleImpl {
    fn name(&self) -> &str {
        "pg_function_is_visible"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match &args.args[0] {
            ColumnarValue::Scalar(v) => Ok(ColumnarValue::Scalar(ScalarValue::Boolean(
                (!v.is_null()).then_some(true),
            ))),
            ColumnarValue::Array(a) => {
                let values: BooleanArray = (0..a.len())
                    .map(|i| (!a.is_null(i)).then_some(true))
                    .collect();
                Ok(ColumnarValue::Array(std::sync::Arc::new(values)))
            }
        }
    }
}
