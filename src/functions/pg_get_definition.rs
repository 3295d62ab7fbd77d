//! `pg_get_indexdef(index_oid [, column, pretty])`,
//! `pg_get_viewdef(view_oid [, pretty])` and
//! `pg_get_function_sqlbody(function_oid)` → text: NULL.
//!
//! Each prints the SQL that defines a catalog object. ecomsql's tables have
//! no indexes, its one view (`ecomsql.models`) and its functions are not
//! defined in SQL, and the system-catalog entries in datafusion-pg-catalog's
//! snapshot carry no definitions; Postgres answers NULL for an oid of the
//! wrong kind and for a function without a SQL body, and psql then leaves
//! the definition out. SQLAlchemy's index reflection calls the first (for
//! expression indexes only), psql's `\d+` of a view the second, `\df+` the
//! third.

use datafusion::arrow::array::new_null_array;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

/// `pg_get_indexdef`, `pg_get_viewdef`, `pg_get_function_sqlbody`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgGetDefinitionImpl {
    name: &'static str,
    /// The argument counts Postgres's signatures take.
    arities: &'static [usize],
    usage: &'static str,
    signature: Signature,
}

impl PgGetDefinitionImpl {
    fn new(name: &'static str, arities: &'static [usize], usage: &'static str) -> Self {
        Self {
            name,
            arities,
            usage,
            signature: Signature::one_of(
                arities.iter().map(|&n| TypeSignature::Any(n)).collect(),
                Volatility::Stable,
            ),
        }
    }

    pub fn indexdef() -> Self {
        Self::new(
            "pg_get_indexdef",
            &[1, 3],
            "pg_get_indexdef takes (oid) or (oid, integer, boolean)",
        )
    }

    pub fn viewdef() -> Self {
        Self::new(
            "pg_get_viewdef",
            &[1, 2],
            "pg_get_viewdef takes (oid) or (oid, boolean)",
        )
    }

    pub fn function_sqlbody() -> Self {
        Self::new(
            "pg_get_function_sqlbody",
            &[1],
            "pg_get_function_sqlbody takes (oid)",
        )
    }
}

impl ScalarUDFImpl for PgGetDefinitionImpl {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !self.arities.contains(&arg_types.len()) {
            return plan_err!("{}", self.usage);
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
