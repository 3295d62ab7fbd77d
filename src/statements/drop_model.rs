//! `DROP MODEL [IF EXISTS] name`

use datafusion::error::Result;

use super::Cursor;
use crate::engine::{Engine, Output};
use crate::error::SqlError;
use crate::models::no_such_model;

/// `DROP MODEL`: removes every version.
#[derive(Debug, Clone, PartialEq)]
pub struct DropModel {
    pub name: String,
    pub if_exists: bool,
}

impl DropModel {
    pub(super) fn parse(sql: &str) -> std::result::Result<Self, SqlError> {
        let mut c = Cursor::new(sql, "DROP MODEL")?;
        c.expect_word("DROP")?;
        c.expect_word("MODEL")?;
        let if_exists = c.eat_word("IF");
        if if_exists {
            c.expect_word("EXISTS")?;
        }
        let name = c.model_name()?;
        c.expect_end()?;
        Ok(Self { name, if_exists })
    }

    pub(super) fn execute(&self, engine: &Engine) -> Result<Output> {
        let dropped = engine.model_store().drop_model(&self.name)?;
        if !dropped && !self.if_exists {
            return Err(no_such_model(&self.name).into());
        }
        Ok(Output::Command("DROP MODEL".into()))
    }
}
