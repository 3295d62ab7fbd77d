//! `SHOW server_version` and `SHOW server_version_num`: PostgreSQL's shape
//! (`16.6 (ecomsql 0.1.0)`, `160006`), which drivers and BI tools parse,
//! rather than datafusion-postgres's "datafusion ... on ..." text.

use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::Result;

use super::{Cursor, rows_output};
use crate::engine::Output;
use crate::error::SqlError;
use crate::functions::{server_version, server_version_num};

/// `SHOW server_version[_num]`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShowVersion {
    numeric: bool,
}

impl ShowVersion {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "SHOW server_version")?;
        c.expect_word("SHOW")?;
        let numeric = if c.eat_word("SERVER_VERSION_NUM") {
            true
        } else {
            c.expect_word("SERVER_VERSION")?;
            false
        };
        c.expect_end()?;
        Ok(Self { numeric })
    }

    fn name(&self) -> &'static str {
        if self.numeric {
            "server_version_num"
        } else {
            "server_version"
        }
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(
            self.name(),
            DataType::Utf8,
            false,
        )]))
    }

    pub(super) fn execute(&self) -> Result<Output> {
        let value = if self.numeric {
            server_version_num()
        } else {
            server_version()
        };
        rows_output(
            self.schema(),
            vec![Arc::new(StringArray::from(vec![value]))],
        )
    }
}
