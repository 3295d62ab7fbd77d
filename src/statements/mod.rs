//! ecomsql's own SQL statements (`SHOW MODELS`, and the model lifecycle
//! statements of later issues), recognised from the token stream before
//! DataFusion's parser sees them, plus the script splitter every front end
//! shares.
//!
//! DataFusion's (sqlparser's) Postgres dialect rejects `CREATE MODEL` and
//! friends outright, so recognition works on tokens: the same rules then
//! apply to psql's simple protocol, a driver's prepared statements and the
//! CLI's report files.

mod show_models;
mod split;

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

pub use show_models::ShowModels;
pub use split::{SqlStatementText, split_statements};

use crate::engine::{Engine, Output};
use crate::error::{SqlError, SqlState};

/// A statement that ecomsql executes itself instead of handing to DataFusion.
#[derive(Debug, Clone, PartialEq)]
pub enum EcomStatement {
    ShowModels(ShowModels),
}

impl EcomStatement {
    /// Recognise one statement's text. `Ok(None)` means "ordinary SQL, give it
    /// to DataFusion"; an error means the text starts like one of ours but is
    /// malformed (reported as a syntax error, 42601).
    pub fn recognise(sql: &str) -> std::result::Result<Option<Self>, SqlError> {
        let words = leading_words(sql, 3);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["SHOW", "MODELS", ..] => ShowModels::parse(sql).map(|s| Some(Self::ShowModels(s))),
            _ => Ok(None),
        }
    }

    /// The columns this statement returns, known before it runs (the extended
    /// protocol's Describe needs them), or `None` for a command without rows.
    pub fn result_schema(&self) -> Option<SchemaRef> {
        match self {
            Self::ShowModels(_) => Some(ShowModels::schema()),
        }
    }

    pub async fn execute(&self, engine: &Engine) -> Result<Output> {
        match self {
            Self::ShowModels(s) => s.execute(engine).await,
        }
    }
}

/// Tokens of one statement without whitespace and comments.
pub(crate) fn significant_tokens(sql: &str) -> std::result::Result<Vec<Token>, SqlError> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize()
        .map_err(|e| SqlError::new(SqlState::SYNTAX_ERROR, e.to_string()))?;
    Ok(tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect())
}

/// The first `n` words of a statement, upper-cased; stops at anything that is
/// not an unquoted word. Tokenizer errors yield no words, so DataFusion's
/// parser reports them with its own message.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let Ok(tokens) = significant_tokens(sql) else {
        return Vec::new();
    };
    tokens
        .into_iter()
        .map_while(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
        .take(n)
        .collect()
}

/// Expect exactly these words (unquoted, any case) and then the end of the
/// statement (an optional trailing semicolon is allowed). Words rather than
/// sqlparser keywords, since `MODEL`/`MODELS` are not keywords there.
pub(crate) fn expect_only_words(
    sql: &str,
    words: &[&str],
    statement: &str,
) -> std::result::Result<(), SqlError> {
    let tokens = significant_tokens(sql)?;
    let mut rest = tokens.iter();
    for word in words {
        match rest.next() {
            Some(Token::Word(w))
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word) => {}
            other => {
                return Err(syntax_error(statement, other));
            }
        }
    }
    match rest.find(|t| !matches!(t, Token::SemiColon)) {
        None => Ok(()),
        Some(t) => Err(syntax_error(statement, Some(t))),
    }
}

fn syntax_error(statement: &str, at: Option<&Token>) -> SqlError {
    let at = at.map_or("end of input".to_string(), |t| format!("\"{t}\""));
    SqlError::new(
        SqlState::SYNTAX_ERROR,
        format!("syntax error at or near {at} in {statement}"),
    )
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
        assert_eq!(err.state, SqlState::SYNTAX_ERROR);
        assert!(err.message.contains("\"extra\""), "{}", err.message);
    }
}
