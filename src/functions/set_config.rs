//! `set_config(name, value, is_local)` → `value`, for clients that call it
//! on connect (asyncpg switches JIT off with it). ecomsql's settings are
//! fixed: setting one to the value it has is accepted (and changes
//! nothing), another value is 0A000 (use `SET` for DataFusion's options),
//! and a setting ecomsql does not have is 42704, as in Postgres.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::current_setting::setting;
use crate::error::{SqlState, sql_err};

/// `set_config`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SetConfigImpl {
    signature: Signature,
}

impl SetConfigImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![TypeSignature::Exact(vec![
                    DataType::Utf8,
                    DataType::Utf8,
                    DataType::Boolean,
                ])],
                Volatility::Volatile,
            ),
        }
    }
}

impl Default for SetConfigImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for SetConfigImpl {
    fn name(&self) -> &str {
        "set_config"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(args.number_rows))
            .collect::<Result<Vec<_>>>()?;
        let names = cast(&arrays[0], &DataType::Utf8)?;
        let values = cast(&arrays[1], &DataType::Utf8)?;
        let (names, values) = (names.as_string::<i32>(), values.as_string::<i32>());
        let mut out = StringBuilder::new();
        for i in 0..args.number_rows {
            if names.is_null(i) {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    "SET requires parameter name",
                ));
            }
            let name = names.value(i);
            let Some(current) = setting(&name.to_lowercase()) else {
                return Err(sql_err(
                    SqlState::UNDEFINED_OBJECT,
                    format!("unrecognized configuration parameter \"{name}\""),
                ));
            };
            let value = (!values.is_null(i)).then(|| values.value(i));
            if value.is_some_and(|v| !v.eq_ignore_ascii_case(&current)) {
                return Err(sql_err(
                    SqlState::FEATURE_NOT_SUPPORTED,
                    format!("parameter \"{name}\" is fixed at '{current}' in ecomsql"),
                ));
            }
            out.append_value(current);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
