//! `like_escape(pattern, escape)` → text: a LIKE pattern written with
//! `escape` as its escape character, rewritten to use `\\` (DataFusion's only
//! LIKE escape). ecomsql puts it in place of `LIKE ... ESCAPE 'c'` (see
//! [`crate::optimizer::LikeEscape`]); it is callable by name too.
//! A pattern ending in a lone escape character is an error (22025), as in
//! Postgres.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::{SqlError, SqlState};

/// `like_escape`: see the module docs.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LikeEscapeImpl {
    signature: Signature,
}

impl LikeEscapeImpl {
    pub fn new() -> Self {
        Self {
            signature: Signature::string(2, Volatility::Immutable),
        }
    }
}

impl Default for LikeEscapeImpl {
    fn default() -> Self {
        Self::new()
    }
}

/// `like_escape(pattern, 'c')` as an expression.
pub fn like_escape_call(pattern: Expr, escape: char) -> Expr {
    ScalarUDF::from(LikeEscapeImpl::new()).call(vec![
        pattern,
        Expr::Literal(ScalarValue::Utf8(Some(escape.to_string())), None),
    ])
}

/// The pattern with `escape` replaced by `\\` and literal backslashes
/// doubled; `None` when it ends in a lone escape character.
pub fn translate(pattern: &str, escape: char) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            out.push('\\');
            out.push(chars.next()?);
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn bad_pattern() -> DataFusionError {
    DataFusionError::External(Box::new(SqlError::new(
        SqlState::INVALID_ESCAPE_SEQUENCE,
        "LIKE pattern must not end with escape character",
    )))
}

impl ScalarUDFImpl for LikeEscapeImpl {
    fn name(&self) -> &str {
        "like_escape"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let escape = match &args.args[1] {
            ColumnarValue::Scalar(value) => match value.cast_to(&DataType::Utf8)? {
                ScalarValue::Utf8(Some(e)) if e.chars().count() == 1 => e.chars().next(),
                ScalarValue::Utf8(None) => None,
                _ => {
                    return Err(DataFusionError::External(Box::new(SqlError::new(
                        SqlState::INVALID_ESCAPE_SEQUENCE,
                        "invalid escape string: it must be one character",
                    ))));
                }
            },
            ColumnarValue::Array(_) => {
                return Err(DataFusionError::External(Box::new(SqlError::new(
                    SqlState::FEATURE_NOT_SUPPORTED,
                    "like_escape's escape character must be a constant",
                ))));
            }
        };
        let Some(escape) = escape else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        };
        match &args.args[0] {
            ColumnarValue::Scalar(value) => match value.cast_to(&DataType::Utf8)? {
                ScalarValue::Utf8(Some(p)) => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
                    translate(&p, escape).ok_or_else(bad_pattern)?,
                )))),
                _ => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None))),
            },
            ColumnarValue::Array(array) => {
                let text = cast(array, &DataType::Utf8)?;
                let text = text.as_string::<i32>();
                let out = (0..text.len())
                    .map(|i| {
                        if text.is_null(i) {
                            Ok(None)
                        } else {
                            translate(text.value(i), escape)
                                .map(Some)
                                .ok_or_else(bad_pattern)
                        }
                    })
                    .collect::<Result<StringArray>>()?;
                Ok(ColumnarValue::Array(Arc::new(out)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn escape_characters_become_backslashes() {
        assert_eq!(translate("pg/_%", '/').as_deref(), Some("pg\\_%"));
        assert_eq!(translate("a//b", '/').as_deref(), Some("a\\/b"));
        assert_eq!(translate("c:\\x!%", '!').as_deref(), Some("c:\\\\x\\%"));
        assert_eq!(translate("bad/", '/'), None);
    }
}
