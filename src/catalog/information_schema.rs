//! `information_schema` as Postgres clients read it.
//!
//! DataFusion's own `information_schema` names column types the Arrow way
//! (`Int64`, `Timestamp(µs, "UTC")`), so Grafana's column picker, Npgsql's
//! `GetSchema("Columns")` (Power BI) and Metabase's field sync saw types no
//! Postgres client knows. This wraps it: `columns.data_type` is the SQL
//! type name Postgres shows (`bigint`, `timestamp with time zone`,
//! `numeric`, `ARRAY`), beside Postgres's `udt_catalog`, `udt_schema` and
//! `udt_name` (`int8`, `timestamptz`); the constraint views Metabase joins
//! (`table_constraints`, `key_column_usage`, `referential_constraints`,
//! `constraint_column_usage`) exist and are empty, as ecomsql's tables have
//! no constraints. Every other table is DataFusion's.
//!
//! DataFusion answers `information_schema` itself when its option is on, so
//! ecomsql turns the option off and registers this schema in its catalog;
//! `SHOW TABLES` and `SHOW COLUMNS` find it the same way.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::information_schema::InformationSchemaProvider;
use datafusion::catalog::{SchemaProvider, Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use pgwire::api::Type;

use super::rows::{read_all, serve};

/// Postgres's empty constraint views and their columns.
const CONSTRAINT_VIEWS: &[(&str, &[&str])] = &[
    (
        "table_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
    ),
    (
        "key_column_usage",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "position_in_unique_constraint",
        ],
    ),
    (
        "referential_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
    ),
    (
        "constraint_column_usage",
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
    ),
];

/// The integer columns among [`CONSTRAINT_VIEWS`]' (the rest are text).
const INTEGER_COLUMNS: [&str; 2] = ["ordinal_position", "position_in_unique_constraint"];

/// DataFusion's `information_schema` with Postgres's type names.
#[derive(Debug)]
pub struct PgInformationSchema {
    inner: InformationSchemaProvider,
}

impl PgInformationSchema {
    pub fn new(inner: InformationSchemaProvider) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl SchemaProvider for PgInformationSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.extend(CONSTRAINT_VIEWS.iter().map(|(n, _)| n.to_string()));
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some((_, columns)) = CONSTRAINT_VIEWS.iter().find(|(n, _)| *n == name) {
            let fields: Vec<Field> = columns
                .iter()
                .map(|c| {
                    let t = if INTEGER_COLUMNS.contains(c) {
                        DataType::Int32
                    } else {
                        DataType::Utf8
                    };
                    Field::new(*c, t, true)
                })
                .collect();
            let table = MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])?;
            return Ok(Some(Arc::new(table)));
        }
        let table = self.inner.table(name).await?;
        match table {
            Some(columns) if name == "columns" => Ok(Some(Arc::new(ColumnsTable::new(columns)))),
            other => Ok(other),
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name) || CONSTRAINT_VIEWS.iter().any(|(n, _)| *n == name)
    }
}

/// `information_schema.columns` with Postgres's type names.
#[derive(Debug)]
struct ColumnsTable {
    inner: Arc<dyn TableProvider>,
    schema: SchemaRef,
}

const UDT_COLUMNS: [&str; 3] = ["udt_catalog", "udt_schema", "udt_name"];

impl ColumnsTable {
    fn new(inner: Arc<dyn TableProvider>) -> Self {
        let mut fields: Vec<Field> = inner
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(UDT_COLUMNS.map(|n| Field::new(n, DataType::Utf8, true)));
        Self {
            inner,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    fn convert(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let arrow_types = match batch.column_by_name("data_type") {
            Some(c) => cast(c, &DataType::Utf8)?,
            None => Arc::new(StringArray::new_null(batch.num_rows())),
        };
        let arrow_types = arrow_types.as_string::<i32>();
        let mut sql_names = Vec::with_capacity(batch.num_rows());
        let mut udt_names = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            let pg = (!arrow_types.is_null(i))
                .then(|| arrow_types.value(i).parse::<DataType>().ok())
                .flatten()
                .and_then(|t| arrow_pg::datatypes::into_pg_type(&t).ok());
            sql_names.push(pg.as_ref().map(sql_type_name));
            udt_names.push(pg.map(|t| t.name().to_string()));
        }
        let rows = batch.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            if field.name() == "data_type" {
                columns.push(Arc::new(StringArray::from(sql_names.clone())));
            } else {
                columns.push(Arc::clone(column));
            }
        }
        let catalog: StringArray = udt_names
            .iter()
            .map(|n| n.as_ref().map(|_| "ecomsql"))
            .collect();
        let schema: StringArray = udt_names
            .iter()
            .map(|n| n.as_ref().map(|_| "pg_catalog"))
            .collect();
        columns.push(Arc::new(catalog));
        columns.push(Arc::new(schema));
        columns.push(Arc::new(StringArray::from(udt_names)));
        debug_assert_eq!(columns.len(), self.schema.fields().len());
        let _ = rows;
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

/// The name `information_schema.columns.data_type` gives a type in
/// Postgres: the SQL standard's where there is one, `ARRAY` for arrays,
/// the type's own name otherwise.
fn sql_type_name(t: &Type) -> String {
    let name = match *t {
        Type::BOOL => "boolean",
        Type::INT2 => "smallint",
        Type::INT4 => "integer",
        Type::INT8 => "bigint",
        Type::FLOAT4 => "real",
        Type::FLOAT8 => "double precision",
        Type::NUMERIC => "numeric",
        Type::TEXT => "text",
        Type::VARCHAR => "character varying",
        Type::BPCHAR => "character",
        Type::BYTEA => "bytea",
        Type::DATE => "date",
        Type::TIME => "time without time zone",
        Type::TIMETZ => "time with time zone",
        Type::TIMESTAMP => "timestamp without time zone",
        Type::TIMESTAMPTZ => "timestamp with time zone",
        Type::INTERVAL => "interval",
        Type::JSON => "json",
        Type::JSONB => "jsonb",
        Type::UUID => "uuid",
        _ if matches!(t.kind(), postgres_types::Kind::Array(_)) => "ARRAY",
        _ => return t.name().to_string(),
    };
    name.to_string()
}

#[async_trait]
impl TableProvider for ColumnsTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let rows = read_all(self.inner.as_ref(), state, |b| self.convert(b)).await?;
        serve(&self.schema, rows, state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_names_of_column_types() {
        let name = |t: DataType| sql_type_name(&arrow_pg::datatypes::into_pg_type(&t).unwrap());
        assert_eq!(name(DataType::Int64), "bigint");
        assert_eq!(name(DataType::Int32), "integer");
        assert_eq!(name(DataType::Utf8View), "text");
        assert_eq!(name(DataType::Decimal128(12, 2)), "numeric");
        assert_eq!(name(DataType::Date32), "date");
        assert_eq!(
            name("Timestamp(µs, \"UTC\")".parse().unwrap()),
            "timestamp with time zone"
        );
        assert_eq!(
            name(DataType::Timestamp(
                datafusion::arrow::datatypes::TimeUnit::Microsecond,
                None
            )),
            "timestamp without time zone"
        );
        assert_eq!(
            name(DataType::List(Arc::new(Field::new_list_field(
                DataType::Float64,
                true
            )))),
            "ARRAY"
        );
    }
}
