//! `COPY ... TO STDOUT`: a query's rows streamed in Postgres's COPY text,
//! CSV or binary format (one CopyData message per row, as Postgres sends
//! them), encoded by arrow-pg's value encoders into pgwire's COPY encoder.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use futures::{StreamExt, stream};
use pgwire::api::portal::Format;
use pgwire::api::results::{
    CopyCsvOptions, CopyEncoder, CopyResponse, CopyTextOptions, FieldInfo, Response,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::CopyData;

use crate::engine::Engine;
use crate::statements::{CopyFormat, CopyTo};

/// The PGCOPY signature, flags and header-extension length: what a binary
/// COPY starts with (pgwire writes it before the first row; a result with
/// no rows needs it too).
const BINARY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

fn api_error(e: datafusion::error::DataFusionError) -> PgWireError {
    PgWireError::ApiError(Box::new(e))
}

fn encoder(copy: &CopyTo, fields: Arc<Vec<FieldInfo>>) -> CopyEncoder {
    match copy.format {
        CopyFormat::Binary => CopyEncoder::new_binary(fields),
        CopyFormat::Text => {
            let mut options = CopyTextOptions::default();
            if let Some(d) = &copy.delimiter {
                options.delimiter = d.as_str().into();
            }
            if let Some(n) = &copy.null {
                options.null_string = n.as_str().into();
            }
            CopyEncoder::new_text(fields, options)
        }
        CopyFormat::Csv => {
            let mut options = CopyCsvOptions::default();
            if let Some(d) = &copy.delimiter {
                options.delimiter = d.as_str().into();
            }
            if let Some(n) = &copy.null {
                options.null_string = n.as_str().into();
            }
            if let Some(q) = &copy.quote {
                options.quote = q.as_str().into();
                if copy.escape.is_none() {
                    options.escape = q.as_str().into();
                }
            }
            if let Some(e) = &copy.escape {
                options.escape = e.as_str().into();
            }
            CopyEncoder::new_csv(fields, options)
        }
    }
}

/// The header line of text and CSV output: the column names, CSV-quoted
/// where they need it.
fn header_line(copy: &CopyTo, schema: &SchemaRef) -> Bytes {
    let delimiter = copy.delimiter.clone().unwrap_or_else(|| match copy.format {
        CopyFormat::Csv => ",".into(),
        _ => "\t".into(),
    });
    let quote = copy.quote.clone().unwrap_or_else(|| "\"".into());
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let name = f.name();
            let needs_quotes = copy.format == CopyFormat::Csv
                && (name.contains(delimiter.as_str())
                    || name.contains(quote.as_str())
                    || name.contains(['\n', '\r']));
            if needs_quotes {
                format!(
                    "{quote}{}{quote}",
                    name.replace(&quote, &format!("{quote}{quote}"))
                )
            } else {
                name.clone()
            }
        })
        .collect();
    Bytes::from(format!("{}\n", names.join(&delimiter)))
}

/// Text and CSV COPY write timestamps and dates as Postgres's ISO text.
/// arrow-pg formats each value with a strftime string that chrono parses
/// again for every value (60% of a COPY of a timestamp column); formatting
/// the column once per batch with pre-parsed items gives the same text.
fn preformat_temporal(batch: &RecordBatch) -> PgWireResult<RecordBatch> {
    use std::fmt::Write;

    use chrono::format::StrftimeItems;
    use datafusion::arrow::array::{Array, AsArray, StringBuilder};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use datafusion::arrow::datatypes::{
        Date32Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    let needs = |t: &DataType| matches!(t, DataType::Timestamp(_, None) | DataType::Date32);
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| needs(f.data_type())) {
        return Ok(batch.clone());
    }
    let full: Vec<_> = StrftimeItems::new("%Y-%m-%d %H:%M:%S%.6f")
        .parse()
        .map_err(|e| PgWireError::ApiError(Box::new(std::io::Error::other(e.to_string()))))?;
    let date: Vec<_> = StrftimeItems::new("%Y-%m-%d")
        .parse()
        .map_err(|e| PgWireError::ApiError(Box::new(std::io::Error::other(e.to_string()))))?;
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !needs(field.data_type()) {
            fields.push(field.as_ref().clone());
            columns.push(Arc::clone(column));
            continue;
        }
        let mut text = StringBuilder::with_capacity(column.len(), column.len() * 26);
        for i in 0..column.len() {
            if column.is_null(i) {
                text.append_null();
                continue;
            }
            // Written straight into the builder's buffer, no String per value.
            let written = match field.data_type() {
                DataType::Date32 => column
                    .as_primitive::<Date32Type>()
                    .value_as_date(i)
                    .map(|d| write!(text, "{}", d.format_with_items(date.iter()))),
                DataType::Timestamp(unit, None) => match unit {
                    TimeUnit::Second => column
                        .as_primitive::<TimestampSecondType>()
                        .value_as_datetime(i),
                    TimeUnit::Millisecond => column
                        .as_primitive::<TimestampMillisecondType>()
                        .value_as_datetime(i),
                    TimeUnit::Microsecond => column
                        .as_primitive::<TimestampMicrosecondType>()
                        .value_as_datetime(i),
                    TimeUnit::Nanosecond => column
                        .as_primitive::<TimestampNanosecondType>()
                        .value_as_datetime(i),
                }
                .map(|t| write!(text, "{}", t.format_with_items(full.iter()))),
                _ => None,
            };
            match written {
                Some(Ok(())) => text.append_value(""),
                _ => text.append_null(),
            }
        }
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(text.finish()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| PgWireError::ApiError(Box::new(e)))
}

fn encode_batch(
    encoder: &mut CopyEncoder,
    batch: &RecordBatch,
    fields: &[FieldInfo],
    header: &mut Option<Bytes>,
    text: bool,
) -> PgWireResult<Vec<CopyData>> {
    let batch = if text {
        preformat_temporal(batch)?
    } else {
        batch.clone()
    };
    let schema = batch.schema();
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        for (i, column) in batch.columns().iter().enumerate() {
            arrow_pg::encoder::encode_value(encoder, column, row, schema.field(i), &fields[i])?;
        }
        let data = encoder.take_copy();
        // The header goes in front of the first row, so the row count in
        // the command tag stays the number of rows.
        out.push(match header.take() {
            Some(prefix) => {
                let mut joined = BytesMut::from(prefix.as_ref());
                joined.extend_from_slice(&data.data);
                CopyData::new(joined.freeze())
            }
            None => data,
        });
    }
    Ok(out)
}

/// Run the COPY's query and answer with its rows in COPY format.
pub async fn copy_out(engine: &Engine, copy: &CopyTo) -> PgWireResult<Response> {
    let df = engine
        .session_context()
        .sql(&copy.query)
        .await
        .map_err(api_error)?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let binary = copy.format == CopyFormat::Binary;
    let format = if binary {
        Format::UnifiedBinary
    } else {
        Format::UnifiedText
    };
    let fields = Arc::new(arrow_pg::datatypes::arrow_schema_to_pg_fields(
        &schema, &format, None,
    )?);
    let batches = df.execute_stream().await.map_err(api_error)?;
    let columns = fields.len();
    let mut encoder = encoder(copy, Arc::clone(&fields));
    // What the output starts with: the header line if asked for, or the
    // binary signature. pgwire writes the signature before the first row
    // itself, so only a text/CSV header rides on the first row; a result
    // without rows gets its start on its own after the (empty) rows.
    let start = if binary {
        Some(Bytes::from_static(BINARY_HEADER))
    } else if copy.header {
        Some(header_line(copy, &schema))
    } else {
        None
    };
    let mut header = if binary { None } else { start.clone() };
    let any_rows = Arc::new(AtomicBool::new(false));
    let rows_seen = Arc::clone(&any_rows);
    let rows = batches
        .map(move |batch| {
            let encoded = batch
                .map_err(api_error)
                .and_then(|b| encode_batch(&mut encoder, &b, &fields, &mut header, !binary));
            if encoded.as_ref().is_ok_and(|rows| !rows.is_empty()) {
                rows_seen.store(true, Ordering::Relaxed);
            }
            stream::iter(match encoded {
                Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
        })
        .flatten();
    let tail = stream::once(async move {
        let empty = !any_rows.load(Ordering::Relaxed);
        stream::iter(start.filter(|_| empty).map(|b| Ok(CopyData::new(b))))
    })
    .flatten();
    Ok(Response::CopyOut(CopyResponse::new(
        i8::from(binary),
        columns,
        rows.chain(tail),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_header_is_the_pgcopy_signature() {
        // 11-byte signature, 4 bytes of flags, 4 bytes of extension length.
        assert_eq!(BINARY_HEADER.len(), 19);
        assert!(BINARY_HEADER.starts_with(b"PGCOPY\n\xff\r\n\0"));
    }
}
