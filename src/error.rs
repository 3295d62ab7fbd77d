//! Errors with Postgres SQLSTATEs.
//!
//! ecomsql code raises [`SqlError`] (wrapped in `DataFusionError::External`
//! by [`sql_err`]) so the code survives DataFusion's error plumbing and the
//! server can report it unchanged. Errors that come from DataFusion itself are
//! classified by [`classify`], from their structured variants first and from
//! message text only where DataFusion has no variant (unknown table, unknown
//! function).

use std::fmt;

use datafusion::arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;

/// A Postgres SQLSTATE code (see the "PostgreSQL Error Codes" appendix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SqlState(&'static str);

impl SqlState {
    pub const FEATURE_NOT_SUPPORTED: SqlState = SqlState("0A000");
    pub const CARDINALITY_VIOLATION: SqlState = SqlState("21000");
    pub const DATA_EXCEPTION: SqlState = SqlState("22000");
    pub const NUMERIC_VALUE_OUT_OF_RANGE: SqlState = SqlState("22003");
    pub const DIVISION_BY_ZERO: SqlState = SqlState("22012");
    pub const INVALID_PARAMETER_VALUE: SqlState = SqlState("22023");
    pub const INVALID_TEXT_REPRESENTATION: SqlState = SqlState("22P02");
    pub const INVALID_ESCAPE_SEQUENCE: SqlState = SqlState("22025");
    pub const ACTIVE_SQL_TRANSACTION: SqlState = SqlState("25001");
    pub const NO_ACTIVE_SQL_TRANSACTION: SqlState = SqlState("25P01");
    pub const IN_FAILED_SQL_TRANSACTION: SqlState = SqlState("25P02");
    pub const INVALID_SQL_STATEMENT_NAME: SqlState = SqlState("26000");
    pub const INVALID_PASSWORD: SqlState = SqlState("28P01");
    pub const SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION: SqlState = SqlState("42000");
    pub const SYNTAX_ERROR: SqlState = SqlState("42601");
    pub const INVALID_NAME: SqlState = SqlState("42602");
    pub const INSUFFICIENT_PRIVILEGE: SqlState = SqlState("42501");
    pub const DUPLICATE_COLUMN: SqlState = SqlState("42701");
    pub const AMBIGUOUS_COLUMN: SqlState = SqlState("42702");
    pub const UNDEFINED_COLUMN: SqlState = SqlState("42703");
    pub const UNDEFINED_OBJECT: SqlState = SqlState("42704");
    pub const DUPLICATE_OBJECT: SqlState = SqlState("42710");
    pub const DATATYPE_MISMATCH: SqlState = SqlState("42804");
    pub const UNDEFINED_FUNCTION: SqlState = SqlState("42883");
    pub const UNDEFINED_TABLE: SqlState = SqlState("42P01");
    pub const OUT_OF_MEMORY: SqlState = SqlState("53200");
    pub const PROGRAM_LIMIT_EXCEEDED: SqlState = SqlState("54000");
    pub const STATEMENT_TOO_COMPLEX: SqlState = SqlState("54001");
    pub const TOO_MANY_CONNECTIONS: SqlState = SqlState("53300");
    pub const CANT_CHANGE_RUNTIME_PARAM: SqlState = SqlState("55P02");
    pub const QUERY_CANCELED: SqlState = SqlState("57014");
    pub const ADMIN_SHUTDOWN: SqlState = SqlState("57P01");
    pub const IO_ERROR: SqlState = SqlState("58030");
    pub const INTERNAL_ERROR: SqlState = SqlState("XX000");

    /// The five-character code.
    pub fn code(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// An error raised by ecomsql code, carrying the SQLSTATE a client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub state: SqlState,
    pub message: String,
    pub hint: Option<String>,
}

impl SqlError {
    pub fn new(state: SqlState, message: impl Into<String>) -> Self {
        Self {
            state,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

impl From<SqlError> for DataFusionError {
    fn from(e: SqlError) -> Self {
        DataFusionError::External(Box::new(e))
    }
}

/// Build a `DataFusionError` that reaches the client with `state`.
pub fn sql_err(state: SqlState, message: impl Into<String>) -> DataFusionError {
    SqlError::new(state, message).into()
}

/// The SQLSTATE and client-facing message of any error ecomsql produces.
pub fn classify(err: &DataFusionError) -> SqlError {
    if let Some(own) = find_sql_error(err) {
        return own.clone();
    }
    let message = client_message(err);
    // The data-folder store's refusal, wherever the reader wrapped it
    // (object store, Parquet and Arrow errors all can).
    if message.contains(crate::catalog::OUTSIDE_DATA_FOLDER) {
        return SqlError::new(SqlState::INSUFFICIENT_PRIVILEGE, message);
    }
    SqlError::new(datafusion_state(err), message)
}

/// Our own error, wherever DataFusion wrapped it.
fn find_sql_error(err: &DataFusionError) -> Option<&SqlError> {
    match err {
        DataFusionError::External(e) => external_sql_error(e.as_ref()),
        DataFusionError::ArrowError(arrow, _) => match arrow.as_ref() {
            ArrowError::ExternalError(e) => external_sql_error(e.as_ref()),
            _ => None,
        },
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            find_sql_error(inner)
        }
        DataFusionError::Shared(inner) => find_sql_error(inner),
        DataFusionError::Collection(errs) => errs.iter().find_map(find_sql_error),
        _ => None,
    }
}

fn external_sql_error<'a>(
    e: &'a (dyn std::error::Error + Send + Sync + 'static),
) -> Option<&'a SqlError> {
    if let Some(own) = e.downcast_ref::<SqlError>() {
        return Some(own);
    }
    e.downcast_ref::<DataFusionError>().and_then(find_sql_error)
}

fn datafusion_state(err: &DataFusionError) -> SqlState {
    match err {
        DataFusionError::SQL(..) => SqlState::SYNTAX_ERROR,
        DataFusionError::Plan(msg) => plan_state(msg),
        DataFusionError::SchemaError(e, _) => schema_state(e),
        DataFusionError::ArrowError(e, _) => arrow_state(e),
        DataFusionError::NotImplemented(_) => SqlState::FEATURE_NOT_SUPPORTED,
        DataFusionError::ResourcesExhausted(_) => SqlState::OUT_OF_MEMORY,
        DataFusionError::Configuration(msg) => configuration_state(msg),
        DataFusionError::Execution(msg) => execution_state(msg),
        DataFusionError::IoError(_)
        | DataFusionError::ParquetError(_)
        | DataFusionError::ObjectStore(_) => SqlState::IO_ERROR,
        DataFusionError::External(e) => match e.downcast_ref::<DataFusionError>() {
            Some(inner) => datafusion_state(inner),
            None => match e.downcast_ref::<ArrowError>() {
                Some(inner) => arrow_state(inner),
                None => SqlState::INTERNAL_ERROR,
            },
        },
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            datafusion_state(inner)
        }
        DataFusionError::Shared(inner) => datafusion_state(inner),
        DataFusionError::Collection(errs) => errs
            .first()
            .map(datafusion_state)
            .unwrap_or(SqlState::INTERNAL_ERROR),
        _ => SqlState::INTERNAL_ERROR,
    }
}

/// DataFusion reports unknown tables and functions as plain `Plan` errors,
/// so these are recognised by the wording DataFusion 55 uses.
fn plan_state(msg: &str) -> SqlState {
    let lower = msg.to_ascii_lowercase();
    if lower.starts_with("table '") && lower.contains("not found") {
        SqlState::UNDEFINED_TABLE
    } else if lower.contains("invalid function")
        || lower.contains("table function '")
        || lower.contains("failed to coerce arguments")
        || lower.contains("no function matches")
        || lower.contains("function does not exist")
    {
        SqlState::UNDEFINED_FUNCTION
    } else if lower.contains("cannot infer common") || lower.contains("cannot coerce") {
        SqlState::DATATYPE_MISMATCH
    } else {
        SqlState::SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION
    }
}

fn schema_state(e: &SchemaError) -> SqlState {
    match e {
        SchemaError::FieldNotFound { .. } => SqlState::UNDEFINED_COLUMN,
        SchemaError::AmbiguousReference { .. } => SqlState::AMBIGUOUS_COLUMN,
        SchemaError::DuplicateQualifiedField { .. }
        | SchemaError::DuplicateUnqualifiedField { .. } => SqlState::DUPLICATE_COLUMN,
    }
}

fn arrow_state(e: &ArrowError) -> SqlState {
    match e {
        ArrowError::DivideByZero => SqlState::DIVISION_BY_ZERO,
        ArrowError::ArithmeticOverflow(_) => SqlState::NUMERIC_VALUE_OUT_OF_RANGE,
        ArrowError::CastError(_) | ArrowError::ParseError(_) => {
            SqlState::INVALID_TEXT_REPRESENTATION
        }
        ArrowError::InvalidArgumentError(_) => SqlState::INVALID_PARAMETER_VALUE,
        ArrowError::ComputeError(_) => SqlState::DATA_EXCEPTION,
        ArrowError::MemoryError(_) => SqlState::OUT_OF_MEMORY,
        ArrowError::IoError(..) => SqlState::IO_ERROR,
        ArrowError::ExternalError(inner) => match inner.downcast_ref::<DataFusionError>() {
            Some(df) => datafusion_state(df),
            None => SqlState::INTERNAL_ERROR,
        },
        _ => SqlState::INTERNAL_ERROR,
    }
}

fn configuration_state(msg: &str) -> SqlState {
    if msg.contains("Could not find config namespace") || msg.contains("not found") {
        SqlState::UNDEFINED_OBJECT
    } else {
        SqlState::INVALID_PARAMETER_VALUE
    }
}

fn execution_state(msg: &str) -> SqlState {
    let lower = msg.to_ascii_lowercase();
    if lower.contains("divide by zero") || lower.contains("division by zero") {
        SqlState::DIVISION_BY_ZERO
    } else if lower.contains("overflow") {
        SqlState::NUMERIC_VALUE_OUT_OF_RANGE
    } else {
        SqlState::DATA_EXCEPTION
    }
}

/// The message without DataFusion's internal back-trace noise; the variant
/// prefix ("Error during planning: ...") stays because it tells users which
/// stage failed.
fn client_message(err: &DataFusionError) -> String {
    err.to_string().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_error_survives_context_and_arrow_wrapping() {
        let own = sql_err(SqlState::INVALID_PARAMETER_VALUE, "k must be positive");
        let wrapped = DataFusionError::Context("recommend".into(), Box::new(own));
        let via_arrow = DataFusionError::ArrowError(
            Box::new(ArrowError::ExternalError(Box::new(wrapped))),
            None,
        );
        let e = classify(&via_arrow);
        assert_eq!(e.state, SqlState::INVALID_PARAMETER_VALUE);
        assert_eq!(e.message, "k must be positive");
    }

    #[test]
    fn datafusion_variants_map_to_postgres_codes() {
        let cases = [
            (
                DataFusionError::Plan("table 'datafusion.public.nope' not found".into()),
                "42P01",
            ),
            (
                DataFusionError::Plan("Invalid function 'nope'.\nDid you mean 'now'?".into()),
                "42883",
            ),
            (
                DataFusionError::ArrowError(Box::new(ArrowError::DivideByZero), None),
                "22012",
            ),
            (DataFusionError::ResourcesExhausted("pool".into()), "53200"),
            (DataFusionError::NotImplemented("x".into()), "0A000"),
            (DataFusionError::Internal("x".into()), "XX000"),
        ];
        for (err, code) in cases {
            assert_eq!(classify(&err).state.code(), code, "{err}");
        }
    }
}
