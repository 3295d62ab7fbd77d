//! `obj_description(oid [, catalog])` and `col_description(table_oid,
//! column)` → text: the comment on an object, from `pg_description`.
//! ecomsql's own tables, columns and functions have no comments (there is
//! no `COMMENT ON`), so they answer NULL; Postgres's built-in functions,
//! types and operators answer from datafusion-pg-catalog's snapshot of
//! `pg_description`, read once at start-up. psql's `\dt+` and `\df+` show
//! them.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use datafusion::physical_plan::collect;
use datafusion::prelude::SessionContext;

/// The fixed oids Postgres gives its catalogs, for `obj_description`'s
/// second argument.
const CATALOG_OIDS: &[(&str, i32)] = &[
    ("pg_type", 1247),
    ("pg_attribute", 1249),
    ("pg_proc", 1255),
    ("pg_class", 1259),
    ("pg_database", 1262),
    ("pg_am", 2601),
    ("pg_cast", 2605),
    ("pg_constraint", 2606),
    ("pg_conversion", 2607),
    ("pg_language", 2612),
    ("pg_namespace", 2615),
    ("pg_opclass", 2616),
    ("pg_operator", 2617),
    ("pg_opfamily", 2753),
    ("pg_extension", 3079),
    ("pg_collation", 3456),
    ("pg_ts_dict", 3600),
    ("pg_ts_parser", 3601),
    ("pg_ts_config", 3602),
    ("pg_ts_template", 3764),
];

const PG_CLASS: i32 = 1259;

/// `pg_description`'s rows: (objoid, classoid, objsubid) → description.
#[derive(Debug, Default)]
pub struct Descriptions {
    by_object: HashMap<(i32, i32, i32), String>,
    /// For the one-argument form: objoid → description of sub-object 0 of
    /// any catalog.
    by_oid: HashMap<i32, String>,
}

impl Descriptions {
    /// Read `pg_catalog.pg_description` of `ctx`.
    pub async fn load(ctx: &SessionContext) -> Result<Self> {
        let mut out = Self::default();
        let Ok(table) = ctx.table_provider("pg_catalog.pg_description").await else {
            return Ok(out);
        };
        let state = ctx.state();
        let plan = table.scan(&state, None, &[], None).await?;
        for batch in collect(plan, state.task_ctx()).await? {
            let column = |name: &str| -> Result<Option<ArrayRef>> {
                Ok(match batch.column_by_name(name) {
                    Some(c) => Some(cast(c, &DataType::Int32)?),
                    None => None,
                })
            };
            let (Some(objoid), Some(classoid), Some(objsubid), Some(text)) = (
                column("objoid")?,
                column("classoid")?,
                column("objsubid")?,
                batch.column_by_name("description"),
            ) else {
                continue;
            };
            let text = cast(text, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let (objoid, classoid, objsubid) = (
                objoid.as_primitive::<Int32Type>(),
                classoid.as_primitive::<Int32Type>(),
                objsubid.as_primitive::<Int32Type>(),
            );
            for i in 0..batch.num_rows() {
                if objoid.is_null(i)
                    || classoid.is_null(i)
                    || objsubid.is_null(i)
                    || text.is_null(i)
                {
                    continue;
                }
                let key = (objoid.value(i), classoid.value(i), objsubid.value(i));
                if key.2 == 0 {
                    out.by_oid
                        .entry(key.0)
                        .or_insert_with(|| text.value(i).to_string());
                }
                out.by_object.insert(key, text.value(i).to_string());
            }
        }
        Ok(out)
    }
}

/// `obj_description`, `col_description`
#[derive(Debug)]
pub struct ObjDescriptionImpl {
    name: &'static str,
    signature: Signature,
    descriptions: Arc<Descriptions>,
}

impl PartialEq for ObjDescriptionImpl {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ObjDescriptionImpl {}

impl std::hash::Hash for ObjDescriptionImpl {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ObjDescriptionImpl {
    pub fn all(descriptions: &Arc<Descriptions>) -> [Self; 2] {
        let one_or_two = Signature::one_of(
            vec![TypeSignature::Any(1), TypeSignature::Any(2)],
            Volatility::Stable,
        );
        [
            Self {
                name: "obj_description",
                signature: one_or_two,
                descriptions: Arc::clone(descriptions),
            },
            Self {
                name: "col_description",
                signature: Signature::any(2, Volatility::Stable),
                descriptions: Arc::clone(descriptions),
            },
        ]
    }

    /// The description of row `i`'s object.
    fn lookup(&self, oid: Option<i32>, second: Option<Second<'_>>) -> Option<&str> {
        let oid = oid?;
        let text = match (self.name, second) {
            ("col_description", Some(Second::Number(column))) => {
                self.descriptions.by_object.get(&(oid, PG_CLASS, column))
            }
            ("obj_description", None) => self.descriptions.by_oid.get(&oid),
            ("obj_description", Some(Second::Catalog(catalog))) => {
                let class = CATALOG_OIDS.iter().find(|(n, _)| *n == catalog)?.1;
                self.descriptions.by_object.get(&(oid, class, 0))
            }
            _ => None,
        };
        text.map(String::as_str)
    }
}

#[derive(Clone, Copy)]
enum Second<'a> {
    Catalog(&'a str),
    Number(i32),
}

impl ScalarUDFImpl for ObjDescriptionImpl {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if self.name == "col_description" && arg_types.len() != 2 {
            return plan_err!("col_description takes (table oid, column number)");
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let oids = cast(&arrays[0], &DataType::Int32)?;
        let oids = oids.as_primitive::<Int32Type>();
        let second = match arrays.get(1) {
            None => None,
            Some(a) if self.name == "col_description" => Some(cast(a, &DataType::Int32)?),
            Some(a) => Some(cast(a, &DataType::Utf8)?),
        };
        let text: StringArray = (0..rows)
            .map(|i| {
                let oid = oids.is_valid(i).then(|| oids.value(i));
                let second = match &second {
                    None => None,
                    Some(a) if a.is_null(i) => return None,
                    Some(a) => Some(match a.data_type() {
                        DataType::Int32 => Second::Number(a.as_primitive::<Int32Type>().value(i)),
                        _ => Second::Catalog(a.as_string::<i32>().value(i)),
                    }),
                };
                self.lookup(oid, second)
            })
            .collect();
        if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
        {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &text, 0,
            )?));
        }
        Ok(ColumnarValue::Array(Arc::new(text)))
    }
}
