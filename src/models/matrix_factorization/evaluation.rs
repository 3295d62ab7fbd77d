//! Ranking metrics of recommendations against held-out interactions, for
//! the model and for the most-popular baseline.
//!
//! Per user with at least one relevant (held-out) item, with `hits` the
//! relevant items among the top k (already-seen items excluded):
//! precision@k = hits / k; recall@k = hits / |relevant|;
//! NDCG@k = Σ_hits 1/log2(rank + 1) ÷ Σ_{r ≤ min(k, |relevant|)} 1/log2(r + 1);
//! MAP@k = Σ_hits precision@rank ÷ min(k, |relevant|); hit rate = share of
//! users with a hit. All are averaged over users. Coverage@k is the share
//! of the catalogue that appears in anyone's top k.

use std::collections::{BTreeMap, HashMap};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::error::Result;
use futures::StreamExt;

use super::als::Feedback;
use super::{MatrixFactorizationModel, interactions_of};
use crate::engine::Engine;
use crate::error::{SqlState, sql_err};

/// Ranking metrics of `recommended` (per user, best first) against
/// `relevant` (per user), with their names suffixed by `_at_{k}`.
pub fn ranking_metrics(
    recommended: &[Vec<u32>],
    relevant: &[Vec<u32>],
    k: usize,
    catalogue: usize,
) -> Vec<(String, f64)> {
    let (mut precision, mut recall, mut ndcg, mut map, mut hit_rate) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut users = 0_usize;
    let mut shown = vec![false; catalogue];
    for (recs, rel) in recommended.iter().zip(relevant) {
        for &i in recs.iter().take(k) {
            if let Some(s) = shown.get_mut(i as usize) {
                *s = true;
            }
        }
        if rel.is_empty() {
            continue;
        }
        users += 1;
        let (mut hits, mut dcg, mut ap) = (0_usize, 0.0, 0.0);
        for (rank, item) in recs.iter().take(k).enumerate() {
            if rel.contains(item) {
                hits += 1;
                dcg += 1.0 / ((rank + 2) as f64).log2();
                ap += hits as f64 / (rank + 1) as f64;
            }
        }
        let ideal: f64 = (0..rel.len().min(k))
            .map(|r| 1.0 / ((r + 2) as f64).log2())
            .sum();
        precision += hits as f64 / k as f64;
        recall += hits as f64 / rel.len() as f64;
        ndcg += dcg / ideal;
        map += ap / rel.len().min(k) as f64;
        hit_rate += f64::from(u8::from(hits > 0));
    }
    let n = users.max(1) as f64;
    let covered = shown.iter().filter(|&&s| s).count();
    vec![
        (format!("precision_at_{k}"), precision / n),
        (format!("recall_at_{k}"), recall / n),
        (format!("ndcg_at_{k}"), ndcg / n),
        (format!("map_at_{k}"), map / n),
        (format!("hit_rate_at_{k}"), hit_rate / n),
        (
            format!("coverage_at_{k}"),
            covered as f64 / catalogue.max(1) as f64,
        ),
        ("users".to_string(), users as f64),
    ]
}

/// Metrics for known users (model) and the popularity baseline
/// (`popular_…`), both excluding training items.
pub fn evaluate_known_users(
    model: &MatrixFactorizationModel,
    users: &[u32],
    relevant_by_user: &[Vec<u32>],
    k: usize,
) -> Vec<(String, f64)> {
    let (recommended, popular) = model.model_and_popular_lists(users, k);
    let relevant: Vec<Vec<u32>> = users
        .iter()
        .map(|&u| relevant_by_user[u as usize].clone())
        .collect();
    let catalogue = model.items.len();
    let mut out = ranking_metrics(&recommended, &relevant, k, catalogue);
    out.extend(
        ranking_metrics(&popular, &relevant, k, catalogue)
            .into_iter()
            .filter(|(m, _)| m != "users")
            .map(|(m, v)| (format!("popular_{m}"), v)),
    );
    out
}

/// RMSE and MAE of predicted ratings (explicit models).
pub fn rating_errors(
    model: &MatrixFactorizationModel,
    cells: impl Iterator<Item = (u32, u32, f32)>,
) -> (f64, f64) {
    let f = model.factors();
    let (mut se, mut ae, mut n) = (0.0, 0.0, 0_usize);
    for (u, i, r) in cells {
        let x = model.user_factors.row(u as usize);
        let y = model.item_factors.row(i as usize);
        let mut pred =
            model.global_mean + model.user_bias[u as usize] + model.item_bias[i as usize];
        for j in 0..f {
            pred += x[j] * y[j];
        }
        let e = f64::from(r - pred);
        se += e * e;
        ae += e.abs();
        n += 1;
    }
    let n = n.max(1) as f64;
    ((se / n).sqrt(), ae / n)
}

/// `EVALUATE MODEL recs ON (<held-out interactions>)`: the query returns the
/// model's user and item columns (and its rating column, for RMSE of an
/// explicit model). Users the model does not know get the popular fallback,
/// as `recommend` would serve them; items it does not know cannot be
/// recommended and are left out of the relevant sets.
pub async fn evaluate(
    engine: &Engine,
    model: &MatrixFactorizationModel,
    meta: &crate::models::ModelMeta,
    query: &str,
    k: usize,
) -> Result<Vec<(String, f64)>> {
    let mut stream = interactions_of(
        engine.session_context(),
        meta,
        query,
        "EVALUATE MODEL",
        model.feedback == Feedback::Explicit,
    )
    .await?;
    // Unknown users are keyed by their display form.
    let mut known: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut unknown: HashMap<String, Vec<u32>> = HashMap::new();
    let mut cells = Vec::new();
    let mut rows = 0_usize;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let users = model.users.lookup_array(batch.column(0))?;
        let items = model.items.lookup_array(batch.column(1))?;
        let user_text = cast(batch.column(0), &DataType::Utf8)?;
        let user_text = user_text.as_string::<i32>();
        let ratings = match batch.columns().get(2) {
            Some(c) => Some(cast(c, &DataType::Float64)?),
            None => None,
        };
        for row in 0..batch.num_rows() {
            if user_text.is_null(row) {
                continue;
            }
            rows += 1;
            let Some(item) = items[row] else {
                continue;
            };
            match users[row] {
                Some(u) => {
                    known.entry(u).or_default().push(item);
                    if let Some(r) = &ratings {
                        let r = r.as_primitive::<Float64Type>();
                        if r.is_valid(row) {
                            cells.push((u, item, r.value(row) as f32));
                        }
                    }
                }
                None => unknown
                    .entry(user_text.value(row).to_string())
                    .or_default()
                    .push(item),
            }
        }
    }
    if rows == 0 {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "the evaluation query returned no interactions",
        ));
    }
    let users: Vec<u32> = known.keys().copied().collect();
    let mut relevant: Vec<Vec<u32>> = known.into_values().collect();
    for r in &mut relevant {
        r.sort_unstable();
        r.dedup();
    }
    let (mut recommended, mut popular) = model.model_and_popular_lists(&users, k);
    // Unknown users in a stable order; both systems serve them popular items.
    let mut unknown: Vec<(String, Vec<u32>)> = unknown.into_iter().collect();
    unknown.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let unknown_users = unknown.len();
    for (_, mut items) in unknown {
        items.sort_unstable();
        items.dedup();
        let fallback: Vec<u32> = model.popular(k, &[], None).iter().map(|x| x.0).collect();
        recommended.push(fallback.clone());
        popular.push(fallback);
        relevant.push(items);
    }
    let catalogue = model.items.len();
    let mut out = ranking_metrics(&recommended, &relevant, k, catalogue);
    out.extend(
        ranking_metrics(&popular, &relevant, k, catalogue)
            .into_iter()
            .filter(|(m, _)| m != "users")
            .map(|(m, v)| (format!("popular_{m}"), v)),
    );
    out.push(("unknown_users".into(), unknown_users as f64));
    if !cells.is_empty() {
        let (rmse, mae) = rating_errors(model, cells.into_iter());
        out.push(("rmse".into(), rmse));
        out.push(("mae".into(), mae));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        // User 0: relevant {1, 5}; top 3 = [1, 2, 5] → hits at ranks 1, 3.
        // User 1: relevant {9}; top 3 = [3, 4, 6] → no hit.
        let m: HashMap<String, f64> = ranking_metrics(
            &[vec![1, 2, 5], vec![3, 4, 6]],
            &[vec![1, 5], vec![9]],
            3,
            10,
        )
        .into_iter()
        .collect();
        let close = |name: &str, v: f64| {
            assert!((m[name] - v).abs() < 1e-12, "{name}: {} vs {v}", m[name]);
        };
        close("precision_at_3", (2.0 / 3.0) / 2.0);
        close("recall_at_3", 1.0 / 2.0);
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2();
        close("ndcg_at_3", dcg / idcg / 2.0);
        close("map_at_3", ((1.0 + 2.0 / 3.0) / 2.0) / 2.0);
        close("hit_rate_at_3", 0.5);
        close("coverage_at_3", 0.6);
        close("users", 2.0);
    }
}
