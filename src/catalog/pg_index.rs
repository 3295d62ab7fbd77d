//! `pg_catalog.pg_index` with its `int2vector` columns as arrays.
//!
//! datafusion-pg-catalog stores `indkey`, `indoption` (`int2vector`),
//! `indclass` and `indcollation` (`oidvector`) as text ("1 2"); in Postgres
//! they are arrays, and clients unnest them: SQLAlchemy's primary-key,
//! unique-constraint and index reflection (which Superset runs on every
//! table it adds) does `unnest(pg_index.indkey)` and
//! `unnest(pg_index.indclass)`, which DataFusion refuses on text. Here they
//! are lists of smallint and of oid (int, as the catalog's other oid
//! columns), parsed once from the snapshot. ecomsql's own tables have no indexes, so every row is one of
//! Postgres's system catalogs'.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::PrimitiveBuilder;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int16Builder, Int32Builder, ListBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{ArrowPrimitiveType, DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::rows::{read_all, serve};

/// The columns that are vectors in Postgres, and their element types.
const VECTOR_COLUMNS: [(&str, DataType); 4] = [
    ("indkey", DataType::Int16),
    ("indcollation", DataType::Int32),
    ("indclass", DataType::Int32),
    ("indoption", DataType::Int16),
];

fn element_type(column: &str) -> Option<&'static DataType> {
    VECTOR_COLUMNS
        .iter()
        .find(|(name, _)| *name == column)
        .map(|(_, t)| t)
}

/// `pg_index` over datafusion-pg-catalog's snapshot.
#[derive(Debug)]
pub struct IndexTable {
    schema: SchemaRef,
    snapshot: Arc<dyn TableProvider>,
    rows: tokio::sync::OnceCell<Vec<RecordBatch>>,
}

impl IndexTable {
    pub fn new(snapshot: Arc<dyn TableProvider>) -> Self {
        let fields: Vec<Field> = snapshot
            .schema()
            .fields()
            .iter()
            .map(|f| match element_type(f.name()) {
                Some(item) => Field::new(
                    f.name(),
                    DataType::List(Arc::new(Field::new_list_field(item.clone(), true))),
                    true,
                ),
                None => f.as_ref().clone(),
            })
            .collect();
        Self {
            schema: Arc::new(Schema::new(fields)),
            snapshot,
            rows: tokio::sync::OnceCell::new(),
        }
    }

    fn convert(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let columns = batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .map(|(column, field)| match element_type(field.name()) {
                Some(DataType::Int16) => parse_vectors(column, Int16Builder::new()),
                Some(_) => parse_vectors(column, Int32Builder::new()),
                None => Ok(Arc::clone(column)),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

/// "1 2" → [1, 2]; an empty text is an empty array, NULL stays NULL.
fn parse_vectors<T>(column: &ArrayRef, items: PrimitiveBuilder<T>) -> Result<ArrayRef>
where
    T: ArrowPrimitiveType,
    T::Native: std::str::FromStr,
{
    let text = cast(column, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    let mut lists = ListBuilder::new(items);
    for i in 0..text.len() {
        if text.is_null(i) {
            lists.append_null();
            continue;
        }
        for part in text.value(i).split_ascii_whitespace() {
            lists.values().append_option(part.parse::<T::Native>().ok());
        }
        lists.append(true);
    }
    Ok(Arc::new(lists.finish()))
}

#[async_trait]
impl TableProvider for IndexTable {
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
        let rows = self
            .rows
            .get_or_try_init(|| read_all(self.snapshot.as_ref(), state, |b| self.convert(b)))
            .await?;
        serve(
            &self.schema,
            rows.clone(),
            state,
            projection,
            filters,
            limit,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int16Array, ListArray, StringArray};

    use super::*;

    #[test]
    fn int2vector_text_becomes_a_smallint_list() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some("1 2"),
            Some(""),
            None,
            Some("3"),
        ]));
        let lists = parse_vectors(&text, Int16Builder::new()).unwrap();
        let lists = lists.as_any().downcast_ref::<ListArray>().unwrap();
        let values = |i: usize| {
            let v = lists.value(i);
            v.as_any()
                .downcast_ref::<Int16Array>()
                .unwrap()
                .values()
                .to_vec()
        };
        assert_eq!(values(0), vec![1, 2]);
        assert!(values(1).is_empty());
        assert!(lists.is_null(2));
        assert_eq!(values(3), vec![3]);
    }
}
