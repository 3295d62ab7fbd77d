//! ecomsql's own SQL statements (`SHOW MODELS`, and the model lifecycle
//! statements of later issues), recognised from the token stream before
//! DataFusion's parser sees them, plus the script splitter every front end
//! shares.
//!
//! DataFusion's (sqlparser's) Postgres dialect rejects `CREATE MODEL` and
//! friends outright, so recognition works on tokens: the same rules then
//! apply to psql's simple protocol, a driver's prepared statements and the
//! CLI's report files.

mod alter_model;
mod copy;
mod create_model;
mod deallocate;
mod depth;
mod describe_model;
mod discard;
mod drop_model;
mod evaluate_model;
mod parser;
mod savepoint;
mod show_models;
mod show_version;
mod split;
mod tokens;

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;

pub use alter_model::AlterModel;
pub use copy::{CopyFormat, CopyTo};
pub use create_model::CreateModel;
pub use deallocate::{Deallocate, no_such_statement};
pub use depth::{MAX_DEPTH, check_depth};
pub use describe_model::{DescribeModel, properties as model_properties};
pub use discard::{Discard, Reset};
pub use drop_model::DropModel;
pub use evaluate_model::EvaluateModel;
pub use parser::{OptionList, OptionValue, validate_model_name};
pub use savepoint::{Savepoint, SavepointKind};
pub use show_models::ShowModels;
pub use show_version::ShowVersion;
pub use split::{SqlStatementText, split_statements};

use crate::engine::{Engine, Notices, Output};
use crate::error::SqlError;
use parser::Cursor;

/// A statement that ecomsql executes itself instead of handing to DataFusion.
#[derive(Debug, Clone, PartialEq)]
pub enum EcomStatement {
    ShowModels(ShowModels),
    ShowVersion(ShowVersion),
    CreateModel(CreateModel),
    DropModel(DropModel),
    DescribeModel(DescribeModel),
    EvaluateModel(EvaluateModel),
    AlterModel(AlterModel),
    /// A session statement: the server runs it against the connection.
    Deallocate(Deallocate),
    /// Rows streamed to the client in COPY format by the server; the CLI
    /// prints them in its output format.
    Copy(CopyTo),
    /// A session statement about the transaction block.
    Savepoint(Savepoint),
    /// asyncpg's type introspection query, answered by the server.
    TypeIntrospection,
    /// `DISCARD ...` / `RESET ALL`: a session statement.
    Discard(Discard),
}

impl EcomStatement {
    /// Recognise one statement's text. `Ok(None)` means "ordinary SQL, give it
    /// to DataFusion"; an error means the text starts like one of ours but is
    /// malformed (reported as a syntax error, 42601).
    pub fn recognise(sql: &str) -> std::result::Result<Option<Self>, SqlError> {
        let words = leading_words(sql, 4);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let statement = match words.as_slice() {
            ["SHOW", "MODELS", ..] => Self::ShowModels(ShowModels::parse(sql)?),
            ["SHOW", "SERVER_VERSION" | "SERVER_VERSION_NUM"] => {
                Self::ShowVersion(ShowVersion::parse(sql)?)
            }
            ["CREATE", "MODEL", ..] | ["CREATE", "OR", "REPLACE", "MODEL"] => {
                Self::CreateModel(CreateModel::parse(sql)?)
            }
            ["DROP", "MODEL", ..] => Self::DropModel(DropModel::parse(sql)?),
            ["DESCRIBE", "MODEL", ..] => Self::DescribeModel(DescribeModel::parse(sql)?),
            ["EVALUATE", "MODEL", ..] => Self::EvaluateModel(EvaluateModel::parse(sql)?),
            ["ALTER", "MODEL", ..] => Self::AlterModel(AlterModel::parse(sql)?),
            ["DEALLOCATE", ..] => Self::Deallocate(Deallocate::parse(sql)?),
            ["COPY", ..] => Self::Copy(CopyTo::parse(sql)?),
            ["SAVEPOINT", ..] | ["RELEASE", ..] => Self::Savepoint(Savepoint::parse(sql)?),
            // asyncpg's query, not any CTE that happens to share its name.
            ["WITH", "RECURSIVE", "TYPEINFO_TREE", ..] if sql.contains("pg_catalog.pg_type") => {
                Self::TypeIntrospection
            }
            ["DISCARD", ..] | ["RESET", ..] => Self::Discard(Discard::parse(sql)?),
            ["ROLLBACK", "TO", ..] | ["ROLLBACK", "WORK" | "TRANSACTION", "TO", ..] => {
                Self::Savepoint(Savepoint::parse(sql)?)
            }
            _ => return Ok(None),
        };
        Ok(Some(statement))
    }

    /// The columns this statement returns, known before it runs (the extended
    /// protocol's Describe needs them), or `None` for a command without rows.
    pub fn result_schema(&self) -> Option<SchemaRef> {
        match self {
            Self::ShowModels(_) => Some(ShowModels::schema()),
            Self::ShowVersion(s) => Some(s.schema()),
            Self::CreateModel(_) => Some(CreateModel::schema()),
            Self::DescribeModel(_) => Some(DescribeModel::schema()),
            Self::EvaluateModel(s) => Some(s.schema()),
            Self::DropModel(_)
            | Self::AlterModel(_)
            | Self::Deallocate(_)
            | Self::Copy(_)
            | Self::Savepoint(_)
            | Self::TypeIntrospection
            | Self::Discard(_) => None,
        }
    }

    pub async fn execute(&self, engine: &Engine, notices: &Notices) -> Result<Output> {
        match self {
            Self::ShowModels(s) => s.execute(engine).await,
            Self::ShowVersion(s) => s.execute(),
            Self::CreateModel(s) => s.execute(engine, notices).await,
            Self::DropModel(s) => s.execute(engine),
            Self::DescribeModel(s) => s.execute(engine),
            Self::EvaluateModel(s) => s.execute(engine).await,
            Self::AlterModel(s) => s.execute(engine),
            Self::Deallocate(s) => s.execute(),
            Self::Savepoint(s) => s.execute(),
            Self::Discard(s) => s.execute(),
            Self::TypeIntrospection => Err(crate::error::sql_err(
                crate::error::SqlState::FEATURE_NOT_SUPPORTED,
                "asyncpg's type introspection is answered by the server, over the extended protocol",
            )),
            Self::Copy(s) => {
                let df = engine.session_context().sql(&s.query).await?;
                Ok(Output::Rows(df.execute_stream().await?))
            }
        }
    }
}

/// The first `n` words of a statement, upper-cased; stops at anything that is
/// not an unquoted word. Tokenizer errors yield no words, so DataFusion's
/// parser reports them with its own message.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let Ok(tokens) = tokens::tokenize(sql) else {
        return Vec::new();
    };
    tokens
        .into_iter()
        .map_while(|t| match t.token {
            datafusion::sql::sqlparser::tokenizer::Token::Word(w) if w.quote_style.is_none() => {
                Some(w.value.to_ascii_uppercase())
            }
            _ => None,
        })
        .take(n)
        .collect()
}

/// Shared helper so every statement builds its single-batch output the same way.
pub(crate) fn rows_output(
    schema: SchemaRef,
    columns: Vec<datafusion::arrow::array::ArrayRef>,
) -> Result<Output> {
    let batch =
        datafusion::arrow::record_batch::RecordBatch::try_new(Arc::clone(&schema), columns)?;
    Ok(Output::batches(schema, vec![batch]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_show_models_in_any_case_and_spacing() {
        for sql in [
            "SHOW MODELS",
            "show models;",
            "  -- list them\n  Show\tModels ; ",
            "/* c */ SHOW /* d */ MODELS",
        ] {
            assert_eq!(
                EcomStatement::recognise(sql).unwrap(),
                Some(EcomStatement::ShowModels(ShowModels)),
                "{sql}"
            );
        }
    }

    #[test]
    fn leaves_ordinary_sql_to_datafusion() {
        for sql in [
            "SELECT 1",
            "SHOW TABLES",
            "SHOW search_path",
            "SELECT 'SHOW MODELS'",
            "\"SHOW\" MODELS",
        ] {
            assert_eq!(EcomStatement::recognise(sql).unwrap(), None, "{sql}");
        }
    }

    #[test]
    fn trailing_garbage_is_a_syntax_error() {
        let err = EcomStatement::recognise("SHOW MODELS extra").unwrap_err();
        assert_eq!(err.state, crate::error::SqlState::SYNTAX_ERROR);
        assert!(err.message.contains("\"extra\""), "{}", err.message);
    }
}
