//! `pg_table_size(oid)`, `pg_relation_size(oid)` and
//! `pg_total_relation_size(oid)` → bigint: the bytes on disk of a table in
//! the data folder (its file, or the data files of its folder). The three
//! agree: ecomsql's tables have no indexes, TOAST or free-space maps. NULL
//! for an oid that is not one of the data folder's tables (a view, a
//! catalog table, no relation), as Postgres answers NULL for no relation.
//! psql's `\dt+` shows it through `pg_size_pretty`.
//!
//! Oids come from `pg_class` (see [`crate::catalog::RelationFiles`]).
//! datafusion-pg-catalog's own `pg_relation_size` answers 0 for everything;
//! this one replaces it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::catalog::RelationFiles;

/// `pg_table_size`, `pg_relation_size`, `pg_total_relation_size`
#[derive(Debug)]
pub struct PgTableSizeImpl {
    name: &'static str,
    signature: Signature,
    files: RelationFiles,
}

impl PartialEq for PgTableSizeImpl {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for PgTableSizeImpl {}

impl std::hash::Hash for PgTableSizeImpl {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl PgTableSizeImpl {
    /// The three functions, reading the same table files.
    pub fn all(files: &RelationFiles) -> [Self; 3] {
        [
            "pg_table_size",
            "pg_relation_size",
            "pg_total_relation_size",
        ]
        .map(|name| Self {
            name,
            signature: Signature::any(1, Volatility::Volatile),
            files: files.clone(),
        })
    }
}

impl ScalarUDFImpl for PgTableSizeImpl {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let size = |oid: i32| self.files.size(oid).and_then(|b| i64::try_from(b).ok());
        match &args.args[0] {
            ColumnarValue::Scalar(v) => {
                let oid = v.cast_to(&DataType::Int32)?;
                let ScalarValue::Int32(oid) = oid else {
                    return Ok(ColumnarValue::Scalar(ScalarValue::Int64(None)));
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Int64(
                    oid.and_then(size),
                )))
            }
            ColumnarValue::Array(a) => {
                let oids = cast(a, &DataType::Int32)?;
                let oids = oids.as_primitive::<Int32Type>();
                let sizes: Int64Array = (0..oids.len())
                    .map(|i| oids.is_valid(i).then(|| size(oids.value(i))).flatten())
                    .collect();
                Ok(ColumnarValue::Array(Arc::new(sizes)))
            }
        }
    }
}
