//! `pg_size_pretty(bytes)` → `'977 kB'`: Postgres's rule (bytes below
//! 10240, then kB, MB, GB, TB, PB, each step rounding half away from zero),
//! which psql's `\dt+` and BI tools' table lists call.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::sentiment::columnar;

/// The text for a size in bytes.
pub fn size_pretty(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes;
    for (i, unit) in UNITS.iter().enumerate() {
        if value.unsigned_abs() < 10 * 1024 || i == UNITS.len() - 1 {
            return format!("{value} {unit}");
        }
        // Postgres's half_rounded(size >> 9): halves away from zero, and no
        // overflow at the extremes.
        let half = value >> 9;
        value = (half + half.signum()) / 2;
    }
    format!("{value} PB")
}

/// `pg_size_pretty`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgSizePrettyImpl {
    signature: Signature,
}

impl PgSizePrettyImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Numeric(1),
                    TypeSignature::Exact(vec![DataType::Null]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl Default for PgSizePrettyImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for PgSizePrettyImpl {
    fn name(&self) -> &str {
        "pg_size_pretty"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let input = args.args[0].to_array(if scalar { 1 } else { args.number_rows })?;
        let bytes = cast(&input, &DataType::Int64)?;
        let bytes = bytes.as_primitive::<Int64Type>();
        let mut out = StringBuilder::with_capacity(bytes.len(), bytes.len() * 8);
        for i in 0..bytes.len() {
            if bytes.is_null(i) {
                out.append_null();
            } else {
                out.append_value(size_pretty(bytes.value(i)));
            }
        }
        columnar(Arc::new(out.finish()), scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::size_pretty;

    #[test]
    fn as_postgres_prints_them() {
        // Values from PostgreSQL 16's pg_size_pretty.
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(1_000_000), "977 kB");
        assert_eq!(size_pretty(38_653_215), "37 MB");
        assert_eq!(size_pretty(-20480), "-20 kB");
        assert_eq!(size_pretty(i64::MAX), "8192 PB");
        assert_eq!(size_pretty(i64::MIN), "-8192 PB");
    }
}
