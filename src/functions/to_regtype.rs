//! `to_regtype(name)` → the OID of a built-in type named `name` (`int4`,
//! `integer`, `text[]`, `timestamp with time zone`, ...), or NULL when
//! there is no such type (as Postgres: no error). psycopg asks it for
//! extension types such as `hstore` when SQLAlchemy connects, and takes
//! NULL as "not installed".

use std::sync::Arc;

use datafusion::arrow::array::Int32Builder;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use pgwire::api::Type;

use super::sentiment::{columnar, for_each_text, text_argument};

/// The types ecomsql's results can have, by every name Postgres accepts.
fn type_by_name(name: &str) -> Option<Type> {
    let name = name.trim().trim_start_matches("pg_catalog.").to_lowercase();
    let (base, array) = match name.strip_suffix("[]") {
        Some(base) => (base.trim().to_string(), true),
        None => (name, false),
    };
    let (scalar, array_type) = match base.as_str() {
        "bool" | "boolean" => (Type::BOOL, Type::BOOL_ARRAY),
        "int2" | "smallint" => (Type::INT2, Type::INT2_ARRAY),
        "int4" | "int" | "integer" => (Type::INT4, Type::INT4_ARRAY),
        "int8" | "bigint" => (Type::INT8, Type::INT8_ARRAY),
        "float4" | "real" => (Type::FLOAT4, Type::FLOAT4_ARRAY),
        "float8" | "double precision" => (Type::FLOAT8, Type::FLOAT8_ARRAY),
        "numeric" | "decimal" => (Type::NUMERIC, Type::NUMERIC_ARRAY),
        "text" => (Type::TEXT, Type::TEXT_ARRAY),
        "varchar" | "character varying" => (Type::VARCHAR, Type::VARCHAR_ARRAY),
        "bpchar" | "character" | "char" => (Type::BPCHAR, Type::BPCHAR_ARRAY),
        "name" => (Type::NAME, Type::NAME_ARRAY),
        "bytea" => (Type::BYTEA, Type::BYTEA_ARRAY),
        "date" => (Type::DATE, Type::DATE_ARRAY),
        "time" | "time without time zone" => (Type::TIME, Type::TIME_ARRAY),
        "timestamp" | "timestamp without time zone" => (Type::TIMESTAMP, Type::TIMESTAMP_ARRAY),
        "timestamptz" | "timestamp with time zone" => (Type::TIMESTAMPTZ, Type::TIMESTAMPTZ_ARRAY),
        "interval" => (Type::INTERVAL, Type::INTERVAL_ARRAY),
        "json" => (Type::JSON, Type::JSON_ARRAY),
        "jsonb" => (Type::JSONB, Type::JSONB_ARRAY),
        "uuid" => (Type::UUID, Type::UUID_ARRAY),
        "oid" => (Type::OID, Type::OID_ARRAY),
        "regtype" => (Type::REGTYPE, Type::REGTYPE_ARRAY),
        "regclass" => (Type::REGCLASS, Type::REGCLASS_ARRAY),
        "record" => (Type::RECORD, Type::RECORD_ARRAY),
        _ => return None,
    };
    Some(if array { array_type } else { scalar })
}

/// `to_regtype`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ToRegtypeImpl {
    signature: Signature,
}

impl ToRegtypeImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(vec![TypeSignature::String(1)], Volatility::Stable),
        }
    }
}

impl Default for ToRegtypeImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for ToRegtypeImpl {
    fn name(&self) -> &str {
        "to_regtype"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    /// An Int32 tagged as `regtype`, so clients see the Postgres type.
    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(
            Field::new(self.name(), DataType::Int32, true).with_metadata(
                [(
                    arrow_pg::datatypes::PG_OID_ALIAS_KEY.to_string(),
                    "regtype".to_string(),
                )]
                .into(),
            ),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (names, scalar) = text_argument(&args)?;
        let mut out = Int32Builder::with_capacity(names.len());
        for_each_text(self.name(), &names, |name| {
            out.append_option(name.and_then(type_by_name).map(|t| t.oid() as i32));
        })?;
        columnar(Arc::new(out.finish()), scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases() {
        assert_eq!(type_by_name("integer").map(|t| t.oid()), Some(23));
        assert_eq!(type_by_name("pg_catalog.int8").map(|t| t.oid()), Some(20));
        assert_eq!(type_by_name("text[]").map(|t| t.oid()), Some(1009));
        assert_eq!(
            type_by_name("Timestamp With Time Zone").map(|t| t.oid()),
            Some(1184)
        );
        assert_eq!(type_by_name("hstore"), None);
    }
}
