//! `version()` → the server's version string in PostgreSQL's shape,
//! `PostgreSQL 16.6 (ecomsql 0.1.0) on <arch>-<os>, compiled by rustc, 64-bit`:
//! SQLAlchemy, Metabase and other clients parse the leading
//! `PostgreSQL <major>.<minor>` to pick their dialect.

use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The PostgreSQL version ecomsql presents (its catalog and protocol follow
/// datafusion-postgres, which models PostgreSQL 16).
pub const POSTGRES_VERSION: &str = "16.6";

/// `server_version` as sent at connection start and shown by `SHOW`.
pub fn server_version() -> String {
    format!("{POSTGRES_VERSION} (ecomsql {})", env!("CARGO_PKG_VERSION"))
}

/// `server_version_num`: 16.6 → 160006, as PostgreSQL 10 and later number
/// themselves.
pub fn server_version_num() -> String {
    let (major, minor) = POSTGRES_VERSION
        .split_once('.')
        .unwrap_or((POSTGRES_VERSION, "0"));
    format!("{major}{:04}", minor.parse::<u32>().unwrap_or(0))
}

/// The full `version()` text.
pub fn version_string() -> String {
    format!(
        "PostgreSQL {POSTGRES_VERSION} (ecomsql {}) on {}-{}, compiled by rustc, {}-bit",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS,
        usize::BITS
    )
}

/// `version`
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VersionImpl {
    signature: Signature,
}

impl VersionImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::nullary(Volatility::Stable),
        }
    }
}

impl Default for VersionImpl {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for VersionImpl {
    fn name(&self) -> &str {
        "version"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let text = version_string();
        if args.number_rows == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(text))));
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(vec![
            text;
            args.number_rows
        ]))))
    }
}
