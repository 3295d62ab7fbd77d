//! asyncpg's type introspection query, answered from pgwire's table of
//! built-in types. asyncpg decodes only `text[]` and `oid[]` arrays on its
//! own; for any other array (or domain, range, composite) it first runs a
//! recursive query over `pg_type` (`WITH RECURSIVE typeinfo_tree ...`)
//! whose correlated subqueries inside `CASE` DataFusion cannot plan. Its
//! answer only describes types, so it is computed here: for each requested
//! OID, the type's kind, element, base or subtype, and those types in turn.

use std::sync::Arc;

use futures::stream;
use pgwire::api::Type;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use postgres_types::Kind;

/// One row of the answer.
struct TypeRow {
    ty: Type,
    depth: i32,
}

/// The answer's columns, as asyncpg's query returns them.
pub fn fields(format: &Format) -> Vec<FieldInfo> {
    [
        ("oid", Type::OID),
        ("ns", Type::NAME),
        ("name", Type::NAME),
        ("kind", Type::CHAR),
        ("basetype", Type::OID),
        ("elemtype", Type::OID),
        ("elemdelim", Type::CHAR),
        ("range_subtype", Type::OID),
        ("attrtypoids", Type::OID_ARRAY),
        ("attrnames", Type::TEXT_ARRAY),
        ("depth", Type::INT4),
        ("basetype_name", Type::TEXT),
        ("elemtype_name", Type::TEXT),
        ("range_subtype_name", Type::TEXT),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, ty))| FieldInfo::new(name.into(), None, None, ty, format.format_for(i)))
    .collect()
}

/// The requested OIDs: the statement's one `oid[]` parameter, in text
/// (`{16,1016}`) or binary array format.
fn requested_oids(portal: &Portal<super::handlers::DfStatement>) -> PgWireResult<Vec<u32>> {
    let bad = |m: &str| {
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".into(),
            "22P02".into(),
            format!("type introspection: {m}"),
        )))
    };
    let Some(Some(bytes)) = portal.parameters.first() else {
        return Ok(Vec::new());
    };
    if portal.parameter_format.format_for(0) == FieldFormat::Text {
        let text = std::str::from_utf8(bytes).map_err(|_| bad("the OID list is not text"))?;
        return text
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| bad("an OID is not a number"))
            })
            .collect();
    }
    let word = |at: usize| -> PgWireResult<i32> {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(i32::from_be_bytes)
            .ok_or_else(|| bad("truncated array"))
    };
    let dims = word(0)?;
    if dims == 0 {
        return Ok(Vec::new());
    }
    if dims != 1 {
        return Err(bad("expected a one-dimensional array"));
    }
    let count = word(12)?.max(0) as usize;
    let mut at = 20;
    let mut oids = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let len = word(at)?;
        at += 4;
        if len < 0 {
            continue;
        }
        if len != 4 {
            return Err(bad("an OID is not 4 bytes"));
        }
        oids.push(word(at)? as u32);
        at += 4;
    }
    Ok(oids)
}

/// The requested types and, one level deeper each time, the types they
/// are built from; unknown OIDs are left out (asyncpg then reports them).
fn type_tree(oids: &[u32]) -> Vec<TypeRow> {
    let mut rows: Vec<TypeRow> = Vec::new();
    let mut level: Vec<Type> = oids.iter().filter_map(|&o| Type::from_oid(o)).collect();
    let mut depth = 0;
    while !level.is_empty() && depth < 8 {
        let mut next = Vec::new();
        for ty in level {
            if rows.iter().any(|r| r.ty == ty) {
                continue;
            }
            match ty.kind() {
                Kind::Array(t) | Kind::Range(t) | Kind::Domain(t) => next.push(t.clone()),
                Kind::Composite(fields) => next.extend(fields.iter().map(|f| f.type_().clone())),
                _ => {}
            }
            rows.push(TypeRow { ty, depth });
        }
        level = next;
        depth += 1;
    }
    // asyncpg registers the deepest (simplest) types first.
    rows.sort_by_key(|r| std::cmp::Reverse(r.depth));
    rows
}

fn kind_char(ty: &Type) -> u8 {
    match ty.kind() {
        Kind::Enum(_) => b'e',
        Kind::Pseudo => b'p',
        Kind::Domain(_) => b'd',
        Kind::Composite(_) => b'c',
        Kind::Range(_) => b'r',
        Kind::Multirange(_) => b'm',
        _ => b'b',
    }
}

/// A `"char"` value: one byte in binary, the character in text.
fn encode_char(
    encoder: &mut DataRowEncoder,
    value: Option<u8>,
    field: &FieldInfo,
) -> PgWireResult<()> {
    let options = field.format_options().clone();
    match (value, field.format()) {
        (None, _) => encoder.encode_field_with_type_and_format(
            &None::<i8>,
            &Type::CHAR,
            field.format(),
            options.as_ref(),
        ),
        (Some(c), FieldFormat::Binary) => encoder.encode_field_with_type_and_format(
            &(c as i8),
            &Type::CHAR,
            FieldFormat::Binary,
            options.as_ref(),
        ),
        (Some(c), FieldFormat::Text) => encoder.encode_field_with_type_and_format(
            &char::from(c).to_string(),
            &Type::TEXT,
            FieldFormat::Text,
            options.as_ref(),
        ),
    }
}

pub fn respond(portal: &Portal<super::handlers::DfStatement>) -> PgWireResult<Response> {
    let fields = Arc::new(fields(&portal.result_column_format));
    let rows = type_tree(&requested_oids(portal)?);
    let mut encoder = DataRowEncoder::new(Arc::clone(&fields));
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let ty = &row.ty;
        let element = match ty.kind() {
            Kind::Array(t) => Some(t.clone()),
            _ => None,
        };
        let base = match ty.kind() {
            Kind::Domain(t) => Some(t.clone()),
            _ => None,
        };
        let subtype = match ty.kind() {
            Kind::Range(t) => Some(t.clone()),
            _ => None,
        };
        let (attr_oids, attr_names) = match ty.kind() {
            Kind::Composite(f) => (
                Some(f.iter().map(|f| f.type_().oid()).collect::<Vec<u32>>()),
                Some(
                    f.iter()
                        .map(|f| f.name().to_string())
                        .collect::<Vec<String>>(),
                ),
            ),
            _ => (None, None),
        };
        let oid = |t: &Option<Type>| t.as_ref().map(Type::oid);
        let name = |t: &Option<Type>| t.as_ref().map(|t| t.name().to_string());
        encoder.encode_field(&ty.oid())?;
        encoder.encode_field(&ty.schema())?;
        encoder.encode_field(&ty.name())?;
        encode_char(&mut encoder, Some(kind_char(ty)), &fields[3])?;
        encoder.encode_field(&oid(&base))?;
        encoder.encode_field(&oid(&element))?;
        encode_char(&mut encoder, element.as_ref().map(|_| b','), &fields[6])?;
        encoder.encode_field(&oid(&subtype))?;
        encoder.encode_field(&attr_oids)?;
        encoder.encode_field(&attr_names)?;
        encoder.encode_field(&row.depth)?;
        encoder.encode_field(&name(&base))?;
        encoder.encode_field(&name(&element))?;
        encoder.encode_field(&name(&subtype))?;
        out.push(Ok(encoder.take_row()));
    }
    Ok(Response::Query(QueryResponse::new(
        fields,
        stream::iter(out),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_bring_their_element_types_first() {
        let rows = type_tree(&[Type::INT8_ARRAY.oid(), Type::FLOAT8_ARRAY.oid(), 999_999]);
        let names: Vec<(&str, i32)> = rows.iter().map(|r| (r.ty.name(), r.depth)).collect();
        assert_eq!(
            names,
            vec![("int8", 1), ("float8", 1), ("_int8", 0), ("_float8", 0)]
        );
        assert_eq!(kind_char(&Type::INT8_ARRAY), b'b');
        assert_eq!(kind_char(&Type::INT4_RANGE), b'r');
    }
}
