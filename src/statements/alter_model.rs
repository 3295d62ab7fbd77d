//! `ALTER MODEL name SET VERSION n`: roll back (or forward) to a stored version.

use datafusion::error::Result;

use super::Cursor;
use crate::engine::{Engine, Output};
use crate::error::SqlError;

/// `ALTER MODEL ... SET VERSION`
#[derive(Debug, Clone, PartialEq)]
pub struct AlterModel {
    pub name: String,
    pub version: u64,
}

impl AlterModel {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "ALTER MODEL")?;
        c.expect_word("ALTER")?;
        c.expect_word("MODEL")?;
        let name = c.model_name()?;
        c.expect_word("SET")?;
        c.expect_word("VERSION")?;
        let version = c.unsigned()?;
        c.expect_end()?;
        Ok(Self { name, version })
    }

    pub(super) fn execute(&self, engine: &Engine) -> Result<Output> {
        let store = engine.model_store();
        // 42704 for an unknown model before 22023 for an unknown version.
        store.current_version(&self.name)?;
        store.set_current(&self.name, self.version)?;
        Ok(Output::Command("ALTER MODEL".into()))
    }
}
