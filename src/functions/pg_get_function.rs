//! `pg_get_function_arguments(oid)`, `pg_get_function_identity_arguments(oid)`
//! and `pg_get_function_result(oid)`: the signature texts psql's `\\df`
//! shows for ecomsql's functions (see [`crate::catalog::pg_proc`]); NULL for
//! other oids.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::catalog::pg_proc::entry_by_oid;

/// Which text a `pg_get_function_*` function gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Arguments,
    IdentityArguments,
    Result,
}

/// One of the three `pg_get_function_*` functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgGetFunctionImpl {
    name: &'static str,
    part: Part,
    signature: Signature,
}

impl PgGetFunctionImpl {
    pub fn all() -> Vec<Self> {
        [
            ("pg_get_function_arguments", Part::Arguments),
            (
                "pg_get_function_identity_arguments",
                Part::IdentityArguments,
            ),
            ("pg_get_function_result", Part::Result),
        ]
        .into_iter()
        .map(|(name, part)| Self {
            name,
            part,
            signature: Signature::any(1, Volatility::Stable),
        })
        .collect()
    }

    fn text(&self, oid: i64) -> Option<&'static str> {
        let entry = entry_by_oid(oid)?;
        Some(match self.part {
            Part::Arguments | Part::IdentityArguments => entry.arguments,
            Part::Result => entry.result,
        })
    }
}

impl ScalarUDFImpl for PgGetFunctionImpl {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match &args.args[0] {
            ColumnarValue::Scalar(value) => {
                let oid = match value.cast_to(&DataType::Int64)? {
                    ScalarValue::Int64(Some(oid)) => Some(oid),
                    _ => None,
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8(
                    oid.and_then(|o| self.text(o)).map(str::to_string),
                )))
            }
            ColumnarValue::Array(array) => {
                let oids = cast(array, &DataType::Int64)?;
                let oids = oids.as_primitive::<Int64Type>();
                let texts: StringArray = oids
                    .iter()
                    .map(|oid| oid.and_then(|o| self.text(o)))
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(texts)))
            }
        }
    }
}
