//! Parameter types of prepared statements, as Postgres decides them: a type
//! the client names in Parse wins; otherwise the type inferred from the
//! query; a parameter nothing types (`$1 IS NULL`) is text.
//!
//! datafusion-postgres ignores the client's types and leaves untyped
//! parameters without a type, so psycopg's `SELECT %s * 2` with a float
//! (sent as float8) was decoded as the inferred bigint and failed, and
//! `SELECT %s IS NULL` found no value. Here the statement is planned again
//! as `PREPARE ... (types) AS <statement>`, which gives its placeholders
//! exactly those types.

use std::collections::HashMap;

use datafusion::arrow::datatypes::{DataType as ArrowType, FieldRef};
use datafusion::logical_expr::{LogicalPlan, Statement as PlanStatement};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    ArrayElemTypeDef, DataType, ExactNumberInfo, Ident, Statement, TimezoneInfo,
};
use pgwire::api::Type;

/// The SQL type of a wire type a client may name in Parse (None: a type
/// we leave to inference, such as arrays).
fn sql_type_of_wire(t: &Type) -> Option<DataType> {
    Some(match *t {
        Type::BOOL => DataType::Boolean,
        Type::INT2 => DataType::SmallInt(None),
        Type::INT4 => DataType::Int(None),
        Type::INT8 => DataType::BigInt(None),
        Type::FLOAT4 => DataType::Real,
        Type::FLOAT8 => DataType::Double(ExactNumberInfo::None),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DataType::Text,
        Type::DATE => DataType::Date,
        Type::TIMESTAMP => DataType::Timestamp(None, TimezoneInfo::None),
        Type::TIMESTAMPTZ => DataType::Timestamp(None, TimezoneInfo::WithTimeZone),
        _ => return None,
    })
}

/// The SQL type of an inferred Arrow type (None: one PREPARE cannot name).
fn sql_type_of_arrow(t: &ArrowType) -> Option<DataType> {
    Some(match t {
        ArrowType::Boolean => DataType::Boolean,
        ArrowType::Int8 | ArrowType::Int16 => DataType::SmallInt(None),
        ArrowType::Int32 => DataType::Int(None),
        ArrowType::Int64 => DataType::BigInt(None),
        ArrowType::UInt8 | ArrowType::UInt16 => DataType::Int(None),
        ArrowType::UInt32 | ArrowType::UInt64 => DataType::BigInt(None),
        ArrowType::Float16 | ArrowType::Float32 => DataType::Real,
        ArrowType::Float64 => DataType::Double(ExactNumberInfo::None),
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => DataType::Text,
        ArrowType::Date32 | ArrowType::Date64 => DataType::Date,
        ArrowType::Timestamp(_, None) => DataType::Timestamp(None, TimezoneInfo::None),
        ArrowType::Timestamp(_, Some(_)) => DataType::Timestamp(None, TimezoneInfo::WithTimeZone),
        ArrowType::Decimal128(p, s) | ArrowType::Decimal256(p, s) if *s >= 0 => DataType::Numeric(
            ExactNumberInfo::PrecisionAndScale(u64::from(*p), i64::from(*s)),
        ),
        ArrowType::List(item) | ArrowType::LargeList(item) => DataType::Array(
            ArrayElemTypeDef::SquareBracket(Box::new(sql_type_of_arrow(item.data_type())?), None),
        ),
        _ => return None,
    })
}

/// The types to plan the statement's parameters with, when they differ
/// from what inference gave; None to keep the plan as it is.
fn wanted_types(
    inferred: &HashMap<String, Option<FieldRef>>,
    casts: &HashMap<String, ArrowType>,
    client: &[Option<Type>],
) -> Option<Vec<DataType>> {
    let count = inferred
        .keys()
        .filter_map(|id| id.strip_prefix('$')?.parse::<usize>().ok())
        .max()?;
    let mut changed = false;
    let mut types = Vec::with_capacity(count);
    for i in 1..=count {
        let guessed = inferred.get(&format!("${i}")).cloned().flatten();
        let named = client
            .get(i - 1)
            .cloned()
            .flatten()
            .filter(|t| *t != Type::UNKNOWN && t.oid() != 0);
        // A type inference found but PREPARE cannot name (or Null) counts
        // as no type.
        let guessed = guessed.and_then(|f| sql_type_of_arrow(f.data_type()));
        let t = match (named, guessed) {
            (Some(named), guessed) => {
                let wanted = sql_type_of_wire(&named)?;
                changed |= guessed.as_ref() != Some(&wanted);
                wanted
            }
            (None, Some(guessed)) => guessed,
            (None, None) => {
                changed = true;
                // `$1::bigint` types $1 as bigint, as in Postgres.
                match casts.get(&format!("${i}")).and_then(sql_type_of_arrow) {
                    Some(t) => t,
                    None => DataType::Text,
                }
            }
        };
        types.push(t);
    }
    changed.then_some(types)
}

/// Types placeholders take from where they stand, where inference left
/// them untyped: the type they are cast to (`$1::bigint`), and the array
/// type of `x = ANY($1)` (planned as `array_has($1, x)`).
fn cast_types(plan: &LogicalPlan) -> HashMap<String, ArrowType> {
    use datafusion::common::ExprSchema;
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::{Cast, Expr, ExprSchemable, TryCast, expr::Placeholder};
    let mut casts = HashMap::new();
    let _ = plan.apply_with_subqueries(|node| {
        let input = node.inputs().first().map(|i| i.schema().clone());
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                let (inner, to) = match e {
                    Expr::Cast(Cast { expr, field }) => (expr.as_ref(), field.data_type().clone()),
                    Expr::TryCast(TryCast { expr, field }) => {
                        (expr.as_ref(), field.data_type().clone())
                    }
                    Expr::ScalarFunction(f) if f.name() == "array_has" && f.args.len() == 2 => {
                        let Some(schema) = &input else {
                            return Ok(TreeNodeRecursion::Continue);
                        };
                        let schema: &dyn ExprSchema = schema.as_ref();
                        let Ok(item) = f.args[1].get_type(schema) else {
                            return Ok(TreeNodeRecursion::Continue);
                        };
                        let list = ArrowType::List(std::sync::Arc::new(
                            datafusion::arrow::datatypes::Field::new_list_field(item, true),
                        ));
                        (&f.args[0], list)
                    }
                    _ => return Ok(TreeNodeRecursion::Continue),
                };
                if let Expr::Placeholder(Placeholder { id, .. }) = inner {
                    casts.entry(id.clone()).or_insert(to);
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    casts
}

/// `plan` with its parameters typed as Postgres would type them, or the
/// plan as it was when nothing changes (or re-planning fails: the original
/// plan then reports its own errors at Bind).
pub async fn typed_plan(
    ctx: &SessionContext,
    statement: &Statement,
    plan: LogicalPlan,
    client_types: &[Option<Type>],
) -> LogicalPlan {
    if !matches!(statement, Statement::Query(_)) {
        return plan;
    }
    // Most statements have no parameters: nothing to type, no second walk.
    let Ok(inferred) = plan.get_parameter_fields() else {
        return plan;
    };
    if inferred.is_empty() {
        return plan;
    }
    let Some(data_types) = wanted_types(&inferred, &cast_types(&plan), client_types) else {
        return plan;
    };
    let prepare = Statement::Prepare {
        name: Ident::new("ecomsql_typed_parameters"),
        data_types,
        statement: Box::new(statement.clone()),
    };
    match ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(prepare)))
        .await
    {
        Ok(LogicalPlan::Statement(PlanStatement::Prepare(prepared))) => {
            std::sync::Arc::unwrap_or_clone(prepared.input)
        }
        _ => plan,
    }
}

/// The Arrow type a parameter the query no longer mentions is given: the
/// client's, where it named one; text otherwise (any value decodes as text).
fn arrow_type_of_wire(t: Option<&Type>) -> ArrowType {
    use datafusion::arrow::datatypes::TimeUnit;
    match t {
        Some(&Type::BOOL) => ArrowType::Boolean,
        Some(&Type::INT2) => ArrowType::Int16,
        Some(&Type::INT4) => ArrowType::Int32,
        Some(&Type::INT8) => ArrowType::Int64,
        Some(&Type::FLOAT4) => ArrowType::Float32,
        Some(&Type::FLOAT8) => ArrowType::Float64,
        Some(&Type::DATE) => ArrowType::Date32,
        Some(&Type::TIMESTAMP) => ArrowType::Timestamp(TimeUnit::Microsecond, None),
        Some(&Type::TIMESTAMPTZ) => ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        _ => ArrowType::Utf8,
    }
}

/// `plan` with a placeholder for every parameter the client binds.
///
/// datafusion-postgres lists a statement's parameters from the placeholders
/// left in its plan, in order, and decodes the i-th value with the i-th of
/// them. Its SQL rewrites can drop placeholders (a subquery in a select list
/// becomes NULL, and SQLAlchemy's column reflection has nine parameters in
/// such a subquery), so the list came out short and shifted: 'always' was
/// decoded as the next parameter's integer. The missing ones are added as
/// `$i IS NULL OR true` in a filter over the plan: true for any value, so
/// no row is lost, and the optimiser drops the filter once values are bound.
pub fn with_every_parameter(plan: LogicalPlan, client_types: &[Option<Type>]) -> LogicalPlan {
    use datafusion::arrow::datatypes::Field;
    use datafusion::logical_expr::{Expr, LogicalPlanBuilder, expr::Placeholder, lit};
    let Ok(fields) = plan.get_parameter_fields() else {
        return plan;
    };
    let present: Vec<usize> = fields
        .keys()
        .filter_map(|id| id.strip_prefix('$')?.parse::<usize>().ok())
        .collect();
    let count = present
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(client_types.len());
    let predicate = (1..=count)
        .filter(|i| !present.contains(i))
        .map(|i| {
            let named = client_types.get(i - 1).and_then(Option::as_ref);
            let field = Field::new("", arrow_type_of_wire(named), true);
            Expr::Placeholder(Placeholder::new_with_field(
                format!("${i}"),
                Some(std::sync::Arc::new(field)),
            ))
            .is_null()
            .or(lit(true))
        })
        .reduce(Expr::and);
    let Some(predicate) = predicate else {
        return plan;
    };
    let fallback = plan.clone();
    LogicalPlanBuilder::from(plan)
        .filter(predicate)
        .and_then(LogicalPlanBuilder::build)
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::Field;

    use super::*;

    fn inferred(types: &[(&str, Option<ArrowType>)]) -> HashMap<String, Option<FieldRef>> {
        types
            .iter()
            .map(|(id, t)| {
                (
                    id.to_string(),
                    t.clone().map(|t| Arc::new(Field::new(*id, t, true))),
                )
            })
            .collect()
    }

    fn wanted_types_no_casts(
        inferred: &HashMap<String, Option<FieldRef>>,
        client: &[Option<Type>],
    ) -> Option<Vec<DataType>> {
        wanted_types(inferred, &HashMap::new(), client)
    }

    #[test]
    fn client_types_win_and_untyped_parameters_are_text() {
        // $1 inferred bigint but sent as float8; $2 untyped and unnamed.
        let got = wanted_types_no_casts(
            &inferred(&[("$1", Some(ArrowType::Int64)), ("$2", None)]),
            &[Some(Type::FLOAT8), None],
        );
        assert_eq!(
            got,
            Some(vec![
                DataType::Double(ExactNumberInfo::None),
                DataType::Text
            ])
        );
        // Nothing to change: inference agrees with the client.
        assert_eq!(
            wanted_types_no_casts(
                &inferred(&[("$1", Some(ArrowType::Int64))]),
                &[Some(Type::INT8)]
            ),
            None
        );
        assert_eq!(
            wanted_types_no_casts(&inferred(&[("$1", Some(ArrowType::Utf8))]), &[None]),
            None
        );
        // A named type we leave alone (an array) keeps the plan.
        assert_eq!(
            wanted_types_no_casts(
                &inferred(&[("$1", Some(ArrowType::Int64))]),
                &[Some(Type::INT8_ARRAY)]
            ),
            None
        );
        assert_eq!(wanted_types_no_casts(&HashMap::new(), &[]), None);
        // A cast types an otherwise untyped parameter.
        let casts = HashMap::from([("$1".to_string(), ArrowType::Int64)]);
        assert_eq!(
            wanted_types(&inferred(&[("$1", None)]), &casts, &[None]),
            Some(vec![DataType::BigInt(None)])
        );
    }

    #[tokio::test]
    async fn parameters_a_rewrite_dropped_are_put_back_in_their_places() {
        let ctx = SessionContext::new();
        let plan = ctx
            .state()
            .create_logical_plan("SELECT $2 + 1 AS v ORDER BY v")
            .await
            .unwrap();
        let plan = with_every_parameter(plan, &[Some(Type::INT4), None, Some(Type::BOOL)]);
        let fields = plan.get_parameter_fields().unwrap();
        let type_of = |id: &str| fields[id].as_ref().map(|f| f.data_type().clone());
        assert_eq!(type_of("$1"), Some(ArrowType::Int32));
        assert_eq!(type_of("$3"), Some(ArrowType::Boolean));
        assert!(fields.contains_key("$2"));
        // The result is unchanged: one column, the filter true for any value.
        assert_eq!(plan.schema().fields().len(), 1);
        let bound = plan
            .with_param_values(vec![
                datafusion::scalar::ScalarValue::Int32(Some(7)),
                datafusion::scalar::ScalarValue::Int64(Some(41)),
                datafusion::scalar::ScalarValue::Boolean(None),
            ])
            .unwrap();
        let rows = ctx
            .execute_logical_plan(bound)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let v = rows[0]
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap();
        assert_eq!(v.value(0), 42);
        // Nothing missing: the plan is left as it was.
        let plain = ctx
            .state()
            .create_logical_plan("SELECT $1 + 1")
            .await
            .unwrap();
        let same = with_every_parameter(plain.clone(), &[]);
        assert_eq!(format!("{plain}"), format!("{same}"));
    }
}
