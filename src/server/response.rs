//! Turning engine output and errors into pgwire responses.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion_postgres::arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch};
use futures::StreamExt;
use pgwire::api::ClientInfo;
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::types::format::FormatOptions;

use crate::engine::Output;
use crate::error::{SqlError, SqlState, classify};

/// The wire description of a result schema.
pub(crate) fn schema_fields(
    schema: &Schema,
    format: Option<&Format>,
) -> PgWireResult<Vec<FieldInfo>> {
    arrow_schema_to_pg_fields(schema, format.unwrap_or(&Format::UnifiedText), None)
}

/// Stream an [`Output`] to the client in the requested format.
pub(crate) fn output_response<C: ClientInfo>(
    output: Output,
    format: &Format,
    client: &C,
) -> PgWireResult<Response> {
    match output {
        Output::Command(tag) => Ok(Response::Execution(Tag::new(&tag))),
        Output::Rows(stream) => {
            let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
            let fields = Arc::new(arrow_schema_to_pg_fields(
                stream.schema().as_ref(),
                format,
                Some(options),
            )?);
            let row_fields = Arc::clone(&fields);
            let rows = stream.flat_map(move |batch| {
                let rows: Box<dyn Iterator<Item = PgWireResult<_>> + Send> = match batch {
                    Ok(batch) => encode_recordbatch(Arc::clone(&row_fields), batch),
                    Err(e) => Box::new(std::iter::once(Err(PgWireError::ApiError(Box::new(e))))),
                };
                futures::stream::iter(rows)
            });
            Ok(Response::Query(QueryResponse::new(fields, rows)))
        }
    }
}

/// The ErrorResponse fields for one of our errors.
pub(crate) fn error_info(e: &SqlError) -> ErrorInfo {
    let mut info = ErrorInfo::new("ERROR".into(), e.state.code().into(), e.message.clone());
    info.hint = e.hint.clone();
    info
}

/// Replace the generic XX000 that pgwire gives API errors with the SQLSTATE
/// of the underlying DataFusion, parser or ecomsql error.
pub(crate) fn map_error(e: PgWireError) -> PgWireError {
    match e {
        PgWireError::ApiError(inner) => {
            let mapped = if let Some(df) = inner.downcast_ref::<DataFusionError>() {
                classify(df)
            } else if let Some(own) = inner.downcast_ref::<SqlError>() {
                own.clone()
            } else if let Some(parse) = inner.downcast_ref::<ParserError>() {
                SqlError::new(SqlState::SYNTAX_ERROR, parse.to_string())
            } else {
                SqlError::new(SqlState::INTERNAL_ERROR, inner.to_string())
            };
            PgWireError::UserError(Box::new(error_info(&mapped)))
        }
        // datafusion-postgres answers statements in a failed transaction
        // block with 25P01 (no active transaction); Postgres says 25P02.
        PgWireError::UserError(mut info)
            if info.code == "25P01"
                && info.message.starts_with("current transaction is aborted") =>
        {
            info.code = SqlState::IN_FAILED_SQL_TRANSACTION.code().to_string();
            PgWireError::UserError(info)
        }
        other => other,
    }
}
