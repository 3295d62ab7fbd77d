//! Plan rules of ecomsql's own.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};

/// Puts a yield point (DataFusion's [`CooperativeExec`]) above every join
/// and unnest.
///
/// DataFusion's own rule puts them at leaves and exchanges, which is enough
/// for operators that pull a batch for each batch they emit. A join can
/// emit millions of batches from one input batch (a cross join emits
/// |left| batches per right batch) without ever returning `Pending`, so the
/// task neither yields its worker thread (starving other connections on a
/// small machine) nor reaches a point where a cancel or statement_timeout
/// can stop it. A yield point above the join makes it give up the thread
/// once its tokio budget is spent.
#[derive(Debug, Default)]
pub struct CooperativeJoins;

impl CooperativeJoins {
    fn amplifies(plan: &dyn ExecutionPlan) -> bool {
        let name = plan.name();
        name.ends_with("JoinExec") || name == "UnnestExec"
    }
}

impl PhysicalOptimizerRule for CooperativeJoins {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            // Wrap the children that amplify, unless already wrapped.
            let children = node.children();
            if !children.iter().any(|c| Self::amplifies(c.as_ref())) {
                return Ok(Transformed::no(node));
            }
            let wrapped: Vec<Arc<dyn ExecutionPlan>> = children
                .into_iter()
                .map(|c| {
                    if Self::amplifies(c.as_ref()) {
                        Arc::new(CooperativeExec::new(Arc::clone(c))) as Arc<dyn ExecutionPlan>
                    } else {
                        Arc::clone(c)
                    }
                })
                .collect();
            if node.name() == "CooperativeExec" {
                return Ok(Transformed::no(node));
            }
            // A yield point has its input's properties: nothing to recompute.
            let keep = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep);
            Ok(Transformed::yes(node.replace_children(wrapped, keep)?))
        })
        .map(|t| {
            let root = t.data;
            if Self::amplifies(root.as_ref()) {
                Arc::new(CooperativeExec::new(root)) as Arc<dyn ExecutionPlan>
            } else {
                root
            }
        })
    }

    fn name(&self) -> &str {
        "CooperativeJoins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Rewrites `LIKE pattern ESCAPE 'c'` with an escape character other than
/// `\` into `LIKE like_escape(pattern, 'c')`, the same match with `\` as the
/// escape ([`crate::functions::like_escape`] translates the pattern, so
/// patterns from parameters work too).
///
/// DataFusion's LIKE only takes `\`; SQLAlchemy (and so Superset) lists
/// schemas with `nspname NOT LIKE $1 || '%' ESCAPE '/'`. Runs before type
/// coercion, so the new pattern is coerced like any other.
#[derive(Debug, Default)]
pub struct LikeEscape;

impl LikeEscape {
    fn rewrite(expr: Expr) -> Result<Transformed<Expr>> {
        expr.transform(|e| {
            let Expr::Like(like) = &e else {
                return Ok(Transformed::no(e));
            };
            let Some(escape) = like.escape_char.filter(|c| *c != '\\') else {
                return Ok(Transformed::no(e));
            };
            let mut like = like.clone();
            like.pattern = Box::new(crate::functions::like_escape_call(*like.pattern, escape));
            like.escape_char = None;
            Ok(Transformed::yes(Expr::Like(like)))
        })
    }
}

impl AnalyzerRule for LikeEscape {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| node.map_expressions(Self::rewrite))
            .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "LikeEscape"
    }
}

/// Aggregates each correlated scalar subquery that could return more than
/// one row with [`crate::functions::single_value`]: `(SELECT typname FROM
/// pg_type WHERE oid = a.atttypid)` becomes `(SELECT single_value(typname)
/// FROM ...)`.
///
/// Postgres accepts such a subquery and fails at run time if it finds more
/// than one row; DataFusion refuses it at planning ("Correlated scalar
/// subquery must be aggregated"), and client catalog queries (SQLAlchemy's
/// column reflection, which pandas and Superset use) are written this way.
/// Aggregated, DataFusion decorrelates it into a join, and `single_value`
/// raises Postgres's 21000 where Postgres would.
#[derive(Debug, Default)]
pub struct SingleRowSubqueries;

impl SingleRowSubqueries {
    /// Whether DataFusion already knows the subquery gives at most one row.
    fn at_most_one_row(plan: &LogicalPlan) -> bool {
        let mut inner = plan;
        while let LogicalPlan::Projection(p) = inner {
            inner = p.input.as_ref();
        }
        while let LogicalPlan::SubqueryAlias(a) = inner {
            inner = a.input.as_ref();
        }
        match inner {
            LogicalPlan::Aggregate(_) => true,
            LogicalPlan::Filter(f) => matches!(f.input.as_ref(), LogicalPlan::Aggregate(_)),
            _ => plan.max_rows().is_some_and(|n| n <= 1),
        }
    }

    fn rewrite(expr: Expr) -> Result<Transformed<Expr>> {
        use datafusion::common::Column;
        use datafusion::logical_expr::{LogicalPlanBuilder, Subquery};
        expr.transform(|e| {
            let Expr::ScalarSubquery(subquery) = &e else {
                return Ok(Transformed::no(e));
            };
            let plan = subquery.subquery.as_ref();
            if subquery.outer_ref_columns.is_empty()
                || plan.schema().fields().len() != 1
                || Self::at_most_one_row(plan)
            {
                return Ok(Transformed::no(e));
            }
            let (qualifier, field) = plan.schema().qualified_field(0);
            let name = field.name().clone();
            let value = Expr::Column(Column::new(qualifier.cloned(), name.clone()));
            let aggregated = LogicalPlanBuilder::from(plan.clone())
                .aggregate(
                    Vec::<Expr>::new(),
                    vec![crate::functions::single_value_call(value).alias(name)],
                )?
                .build()?;
            Ok(Transformed::yes(Expr::ScalarSubquery(Subquery {
                subquery: Arc::new(aggregated),
                outer_ref_columns: subquery.outer_ref_columns.clone(),
                spans: subquery.spans.clone(),
            })))
        })
    }
}

impl AnalyzerRule for SingleRowSubqueries {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| node.map_expressions(Self::rewrite))
            .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "SingleRowSubqueries"
    }
}
