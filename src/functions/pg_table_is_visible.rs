//! `pg_table_is_visible(oid)` → boolean: whether the relation is in a
//! schema on the search path, so an unqualified name finds it: the
//! session's default schema (`public`) or `pg_catalog`. NULL for an oid no
//! `pg_class` scan has listed (Postgres: NULL for no relation). psql's
//! `\dt`/`\dv` and SQLAlchemy's reflection without a schema filter by it;
//! datafusion-pg-catalog's version answers true for everything, so
//! `ecomsql.models` and `information_schema`'s views showed up as if they
//! were in `public`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::catalog::RelationFiles;

/// `pg_table_is_visible`
#[derive(Debug)]
pub struct PgTableIsVisibleImpl {
    signature: Signature,
    relations: RelationFiles,
}

impl PartialEq for PgTableIsVisibleImpl {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for PgTableIsVisibleImpl {}

impl std::hash::Hash for PgTableIsVisibleImpl {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        "pg_table_is_visible".hash(state);
    }
}

impl PgTableIsVisibleImpl {
    pub fn new(relations: &RelationFiles) -> Self {
        Self {
            signature: Signature::any(1, Volatility::Volatile),
            relations: relations.clone(),
        }
    }
}

impl ScalarUDFImpl for PgTableIsVisibleImpl {
    fn name(&self) -> &str {
        "pg_table_is_visible"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let default_schema = args.config_options.catalog.default_schema.clone();
        let visible = |oid: i32| {
            self.relations
                .schema_of(oid)
                .map(|s| s == "pg_catalog" || s == default_schema)
        };
        match &args.args[0] {
            ColumnarValue::Scalar(v) => {
                let ScalarValue::Int32(oid) = v.cast_to(&DataType::Int32)? else {
                    return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(None)));
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(
                    oid.and_then(visible),
                )))
            }
            ColumnarValue::Array(a) => {
                let oids = cast(a, &DataType::Int32)?;
                let oids = oids.as_primitive::<Int32Type>();
                let out: BooleanArray = (0..oids.len())
                    .map(|i| oids.is_valid(i).then(|| visible(oids.value(i))).flatten())
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }
        }
    }
}
