//! `pg_get_indexdef(index_oid [, column, pretty])` → text: NULL. ecomsql's
//! tables have no indexes, and Postgres answers NULL for an oid that is not
//! an index; the system-catalog indexes in datafusion-pg-catalog's
//! `pg_index` snapshot carry no definitions to print. SQLAlchemy's index
//! reflection calls it (for expression indexes only, so never for a row it
//! returns here).

use datafusion::arrow::array::new_null_array;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// `pg_get_indexdef`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgGetIndexdefImpl {
    signature: Signature,
}

impl PgGetIndexdefImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Any(1),
                    datafusion::logical_expr::TypeSignature::Any(3),
                ],
                Volatility::Stable,
            ),
        }
    }
}

impl Default for PgGetIndexdefImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for PgGetIndexdefImpl {
    fn name(&self) -> &str {
        "pg_get_indexdef"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.len() != 1 && arg_types.len() != 3 {
            return plan_err!("pg_get_indexdef takes (oid) or (oid, integer, boolean)");
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
        {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        }
        Ok(ColumnarValue::Array(new_null_array(
            &DataType::Utf8,
            args.number_rows,
        )))
    }
}
