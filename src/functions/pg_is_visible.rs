//! `pg_function_is_visible(oid)` and `pg_type_is_visible(oid)` → true (NULL
//! for NULL): every function and type is on the search path (ecomsql's
//! functions are in one schema, its types all in `pg_catalog`). psql's `\df`
//! filters by the first, SQLAlchemy's column reflection by the second.

use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// `pg_function_is_visible` and `pg_type_is_visible`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgIsVisibleImpl {
    name: &'static str,
    signature: Signature,
}

impl PgIsVisibleImpl {
    /// The functions, one per kind of object.
    pub fn all() -> [Self; 2] {
        ["pg_function_is_visible", "pg_type_is_visible"].map(|name| Self {
            name,
            signature: Signature::any(1, Volatility::Stable),
        })
    }
}

impl ScalarUDFImpl for PgIsVisibleImpl {
    fn name(&self) -> &str {
        self.name
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
