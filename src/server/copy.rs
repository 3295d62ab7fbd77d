//! `COPY ... TO STDOUT`: a query's rows streamed in Postgres's COPY text,
//! CSV or binary format (one CopyData message per row, as Postgres sends
//! them). Text COPY of simple column types is written straight from the
//! Arrow arrays, a batch at a time; everything else is encoded by arrow-pg's
//! value encoders into pgwire's COPY encoder.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use datafusion::arrow::array::{RecordBatch, StringArray};
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

/// pgwire's ISO text forms of timestamps and dates, parsed once. A constant
/// format cannot fail to parse; if it did, formatting would fail and the
/// value would come out NULL rather than wrong.
static TIMESTAMP_ITEMS: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
    std::sync::LazyLock::new(|| {
        chrono::format::StrftimeItems::new("%Y-%m-%d %H:%M:%S%.6f").collect()
    });
static DATE_ITEMS: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
    std::sync::LazyLock::new(|| chrono::format::StrftimeItems::new("%Y-%m-%d").collect());

/// Text and CSV COPY write timestamps and dates as Postgres's ISO text.
/// arrow-pg formats each value with a strftime string that chrono parses
/// again for every value (60% of a COPY of a timestamp column); formatting
/// the column once per batch with pre-parsed items gives the same text.
fn preformat_temporal(batch: &RecordBatch) -> PgWireResult<RecordBatch> {
    use std::fmt::Write;

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
    let (full, date) = (&*TIMESTAMP_ITEMS, &*DATE_ITEMS);
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

/// Each column of a batch as text, the way pgwire's text encoder writes it,
/// when every column has a simple type (integers, floats, booleans, text,
/// and the timestamps and dates [`preformat_temporal`] renders); `None`
/// sends the batch through the general per-value encoder.
fn text_columns(batch: &RecordBatch) -> PgWireResult<Option<Vec<StringArray>>> {
    use datafusion::arrow::array::{Array, AsArray, StringBuilder};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
    use pgwire::types::format::float_digits::ExtraFloatDigits;
    let simple = |t: &DataType| {
        t.is_integer()
            || matches!(
                t,
                DataType::Float32
                    | DataType::Float64
                    | DataType::Boolean
                    | DataType::Utf8
                    | DataType::LargeUtf8
                    | DataType::Utf8View
                    | DataType::Timestamp(_, None)
                    | DataType::Date32
            )
    };
    if !batch
        .schema()
        .fields()
        .iter()
        .all(|f| simple(f.data_type()))
    {
        return Ok(None);
    }
    let batch = preformat_temporal(batch)?;
    // Floats as Postgres prints them with extra_float_digits = 1, as the
    // general path does (COPY runs without the session's settings).
    let digits = ExtraFloatDigits(1);
    let mut out = Vec::with_capacity(batch.num_columns());
    for column in batch.columns() {
        let text = match column.data_type() {
            DataType::Float32 | DataType::Float64 => {
                let mut b = StringBuilder::with_capacity(column.len(), column.len() * 12);
                for i in 0..column.len() {
                    if column.is_null(i) {
                        b.append_null();
                    } else if let Some(v) = column.as_primitive_opt::<Float64Type>() {
                        b.append_value(digits.format_f64(v.value(i)));
                    } else {
                        let v = column.as_primitive::<Float32Type>().value(i);
                        b.append_value(digits.format_f32(v));
                    }
                }
                b.finish()
            }
            DataType::Boolean => column
                .as_boolean()
                .iter()
                .map(|v| v.map(|t| if t { "t" } else { "f" }))
                .collect(),
            _ => cast(column, &DataType::Utf8)
                .map_err(|e| PgWireError::ApiError(Box::new(e)))?
                .as_string::<i32>()
                .clone(),
        };
        out.push(text);
    }
    Ok(Some(out))
}

/// Text-format rows straight from [`text_columns`]: one buffer per batch,
/// split into one CopyData per row without copying.
fn encode_text_rows(
    columns: &[StringArray],
    rows: usize,
    copy: &TextOptions,
    header: &mut Option<Bytes>,
) -> Vec<CopyData> {
    use datafusion::arrow::array::Array;
    let mut buffer = BytesMut::with_capacity(rows * (columns.len() * 12 + 1));
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        if let Some(prefix) = header.take() {
            buffer.extend_from_slice(&prefix);
        }
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                buffer.extend_from_slice(&[copy.delimiter]);
            }
            if column.is_null(row) {
                buffer.extend_from_slice(copy.null.as_bytes());
                continue;
            }
            let value = column.value(row).as_bytes();
            let special =
                |b: &u8| matches!(b, b'\n' | b'\r' | b'\t' | b'\\') || *b == copy.delimiter;
            if !value.iter().any(special) {
                buffer.extend_from_slice(value);
                continue;
            }
            for &b in value {
                match b {
                    b'\n' => buffer.extend_from_slice(b"\\n"),
                    b'\r' => buffer.extend_from_slice(b"\\r"),
                    b'\t' => buffer.extend_from_slice(b"\\t"),
                    b'\\' => buffer.extend_from_slice(b"\\\\"),
                    b if b == copy.delimiter => buffer.extend_from_slice(&[b'\\', b]),
                    b => buffer.extend_from_slice(&[b]),
                }
            }
        }
        buffer.extend_from_slice(b"\n");
        out.push(CopyData::new(buffer.split().freeze()));
    }
    out
}

/// The text format's settings, for the direct path.
#[derive(Debug, Clone)]
struct TextOptions {
    delimiter: u8,
    null: String,
}

impl TextOptions {
    /// Only for single-byte delimiters (the only kind Postgres accepts).
    fn of(copy: &CopyTo) -> Option<Self> {
        if copy.format != CopyFormat::Text {
            return None;
        }
        let delimiter = match copy.delimiter.as_deref() {
            None => b'\t',
            Some(d) if d.len() == 1 => d.as_bytes()[0],
            Some(_) => return None,
        };
        Some(Self {
            delimiter,
            null: copy.null.clone().unwrap_or_else(|| "\\N".into()),
        })
    }
}

fn encode_batch(
    encoder: &mut CopyEncoder,
    batch: &RecordBatch,
    fields: &[FieldInfo],
    header: &mut Option<Bytes>,
    text: bool,
    direct: Option<&TextOptions>,
) -> PgWireResult<Vec<CopyData>> {
    if let Some(options) = direct
        && let Some(columns) = text_columns(batch)?
    {
        return Ok(encode_text_rows(
            &columns,
            batch.num_rows(),
            options,
            header,
        ));
    }
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
    let direct = TextOptions::of(copy);
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
            let encoded = batch.map_err(api_error).and_then(|b| {
                encode_batch(
                    &mut encoder,
                    &b,
                    &fields,
                    &mut header,
                    !binary,
                    direct.as_ref(),
                )
            });
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
