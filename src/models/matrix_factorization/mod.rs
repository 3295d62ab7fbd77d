//! `model_type = 'matrix_factorization'`: collaborative filtering by
//! alternating least squares, for implicit feedback (views, carts,
//! purchases) or explicit ratings, served by `recommend`,
//! `recommend_fold_in` and `similar_items`.

pub mod als;
pub mod content;
pub mod evaluation;
pub mod interactions;
pub mod storage;
pub mod topk;

use std::collections::HashMap;

use chrono::Utc;
use datafusion::error::Result;
use ndarray::{Array2, ArrayView2};

use als::{AlsOptions, Factors, Feedback, Solver};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use interactions::{Csr, Holdout, IdIndex, InteractionColumns, Merge, ident};

use super::options::ModelOptions;
use super::store::{FeatureMeta, MODEL_FORMAT_VERSION, ModelFile, ModelMeta};
use crate::engine::{Engine, Notices};
use crate::error::{SqlState, sql_err};
use crate::statements::OptionList;

pub const MODEL_TYPE: &str = "matrix_factorization";

/// Options `CREATE MODEL` accepts for this model type.
pub const OPTIONS: &[&str] = &[
    "user_col",
    "item_col",
    "rating_col",
    "feedback",
    "factors",
    "iterations",
    "regularization",
    "alpha",
    "seed",
    "solver",
    "cg_steps",
    "validation",
    "validation_n",
    "validation_fraction",
    "time_col",
    "category_col",
    "content_query",
    "k",
];

/// A trained model, ready to serve.
#[derive(Debug)]
pub struct MatrixFactorizationModel {
    pub feedback: Feedback,
    pub users: IdIndex,
    pub items: IdIndex,
    pub user_factors: Array2<f32>,
    pub item_factors: Array2<f32>,
    pub user_bias: Vec<f32>,
    pub item_bias: Vec<f32>,
    pub global_mean: f32,
    pub regularization: f32,
    pub alpha: f32,
    /// Per item: the number of training users who interacted with it.
    pub item_users: Vec<u32>,
    /// Per item: its category, where the training query gave one.
    pub item_category: Vec<Option<String>>,
    /// The training interactions, per user (seen items and their weights).
    pub seen: Csr,
    /// Items by popularity (most users first, then by id).
    pub popular_order: Vec<u32>,
    /// Item content from `content_query`, for cold-start similar items.
    pub content: Option<content::Content>,
}

impl MatrixFactorizationModel {
    /// Build the derived parts (popularity order) from the stored ones.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        feedback: Feedback,
        users: IdIndex,
        items: IdIndex,
        factors: Factors,
        regularization: f32,
        alpha: f32,
        item_users: Vec<u32>,
        item_category: Vec<Option<String>>,
        seen: Csr,
    ) -> Self {
        let mut popular_order: Vec<u32> = (0..items.len() as u32).collect();
        popular_order.sort_by_key(|&i| (std::cmp::Reverse(item_users[i as usize]), i));
        Self {
            feedback,
            users,
            items,
            user_factors: factors.users,
            item_factors: factors.items,
            user_bias: factors.user_bias,
            item_bias: factors.item_bias,
            global_mean: factors.global_mean,
            regularization,
            alpha,
            item_users,
            item_category,
            seen,
            popular_order,
            content: None,
        }
    }

    pub fn factors(&self) -> usize {
        self.item_factors.ncols()
    }

    /// The items a category option allows (None: every item).
    pub fn category_mask(&self, category: Option<&str>) -> Result<Option<Vec<bool>>> {
        let Some(category) = category else {
            return Ok(None);
        };
        if self.item_category.iter().all(Option::is_none) {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                "this model has no item categories; train it with OPTIONS (category_col = '...') to filter by category",
            ));
        }
        Ok(Some(
            self.item_category
                .iter()
                .map(|c| c.as_deref() == Some(category))
                .collect(),
        ))
    }

    /// Top-k items for known users: one batched product per block of users.
    pub fn recommend_users(
        &self,
        users: &[u32],
        k: usize,
        exclude_seen: bool,
        allowed: Option<&[bool]>,
    ) -> Vec<Vec<(u32, f32)>> {
        let queries = self
            .user_factors
            .select(ndarray::Axis(0), &users_usize(users));
        let bias: Vec<f32> = users
            .iter()
            .map(|&u| self.global_mean + self.user_bias[u as usize])
            .collect();
        let empty: &[u32] = &[];
        topk::top_k_rows(
            queries.view(),
            self.item_factors.view(),
            &bias,
            self.item_bias_for_scores(),
            |row| {
                if exclude_seen {
                    self.seen.row(users[row] as usize).0
                } else {
                    empty
                }
            },
            k,
            allowed,
        )
    }

    /// Top-k items for users given as factor vectors (fold-in), excluding
    /// each row's `seen` items.
    pub fn recommend_vectors(
        &self,
        vectors: ArrayView2<'_, f32>,
        bias: &[f32],
        seen: &[Vec<u32>],
        k: usize,
        allowed: Option<&[bool]>,
    ) -> Vec<Vec<(u32, f32)>> {
        topk::top_k_rows(
            vectors,
            self.item_factors.view(),
            bias,
            self.item_bias_for_scores(),
            |row| seen[row].as_slice(),
            k,
            allowed,
        )
    }

    fn item_bias_for_scores(&self) -> Option<&[f32]> {
        match self.feedback {
            Feedback::Explicit => Some(&self.item_bias),
            Feedback::Implicit => None,
        }
    }

    /// Item lists of the top k per known user (model and popular
    /// baseline), seen items excluded.
    pub fn model_and_popular_lists(
        &self,
        users: &[u32],
        k: usize,
    ) -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
        let ids = |list: &[(u32, f32)]| list.iter().map(|x| x.0).collect::<Vec<u32>>();
        let model = self
            .recommend_users(users, k, true, None)
            .iter()
            .map(|l| ids(l))
            .collect();
        let popular = users
            .iter()
            .map(|&u| ids(&self.popular(k, self.seen.row(u as usize).0, None)))
            .collect();
        (model, popular)
    }

    /// The k most popular items not in `seen`; the score is the share of
    /// training users who interacted with the item.
    pub fn popular(&self, k: usize, seen: &[u32], allowed: Option<&[bool]>) -> Vec<(u32, f32)> {
        let users = self.users.len().max(1) as f32;
        self.popular_order
            .iter()
            .filter(|i| seen.binary_search(i).is_err())
            .filter(|&&i| allowed.is_none_or(|a| a[i as usize]))
            .take(k)
            .map(|&i| (i, self.item_users[i as usize] as f32 / users))
            .collect()
    }

    /// New users' factors (and biases) from their interactions, each
    /// solved against the fixed item factors exactly as a training half
    /// step would (fold-in).
    pub fn fold_in(&self, users: &[Vec<(u32, f32)>]) -> (Array2<f32>, Vec<f32>) {
        let f = self.factors();
        let standard = self.item_factors.as_standard_layout();
        let y = standard.as_slice().unwrap_or(&[]);
        let yty = match self.feedback {
            Feedback::Implicit => als::item_gram(self.item_factors.view(), self.regularization),
            Feedback::Explicit => Vec::new(),
        };
        let mut factors = Array2::<f32>::zeros((users.len(), f));
        let mut biases = vec![0.0_f32; users.len()];
        for ((items, mut row), bias) in users.iter().zip(factors.rows_mut()).zip(&mut biases) {
            if items.is_empty() {
                continue;
            }
            let mut sorted = items.clone();
            sorted.sort_unstable_by_key(|x| x.0);
            let cols: Vec<u32> = sorted.iter().map(|x| x.0).collect();
            let vals: Vec<f32> = sorted.iter().map(|x| x.1).collect();
            match self.feedback {
                Feedback::Implicit => {
                    let x = als::implicit_exact(&yty, y, f, &cols, &vals, self.alpha);
                    row.iter_mut()
                        .zip(x.iter())
                        .for_each(|(r, v)| *r = *v as f32);
                    *bias = 0.0;
                }
                Feedback::Explicit => {
                    let x = als::explicit_exact(
                        y,
                        &self.item_bias,
                        f,
                        &cols,
                        &vals,
                        self.regularization,
                        self.global_mean,
                    );
                    row.iter_mut()
                        .zip(x.iter())
                        .for_each(|(r, v)| *r = *v as f32);
                    *bias = self.global_mean + x[f] as f32;
                }
            }
        }
        (factors, biases)
    }

    /// The item factors scaled to unit length (zero rows stay zero): their
    /// dot products are cosine similarities.
    pub fn unit_item_factors(&self) -> Array2<f32> {
        let mut unit = self.item_factors.clone();
        for mut row in unit.rows_mut() {
            let norm = row.dot(&row).sqrt();
            if norm > 0.0 {
                row.mapv_inplace(|v| v / norm);
            }
        }
        unit
    }

    /// The k items most similar to each of `items`, by cosine similarity of
    /// their factors.
    pub fn similar_items(&self, items: &[u32], k: usize) -> Vec<Vec<(u32, f32)>> {
        let unit = self.unit_item_factors();
        let queries = unit.select(ndarray::Axis(0), &users_usize(items));
        let zero = vec![0.0; items.len()];
        let own: Vec<[u32; 1]> = items.iter().map(|&i| [i]).collect();
        topk::top_k_rows(
            queries.view(),
            unit.view(),
            &zero,
            None,
            |row| &own[row],
            k,
            None,
        )
    }
}

/// A query's interactions in the model's column names: a stream of
/// (user, item[, rating]) batches, the rating column only if `with_rating`
/// and the query has it. `purpose` names the caller in errors.
pub async fn interactions_of(
    ctx: &SessionContext,
    meta: &ModelMeta,
    query: &str,
    purpose: &str,
    with_rating: bool,
) -> Result<SendableRecordBatchStream> {
    let column = |kind: &str| {
        meta.features
            .iter()
            .find(|f| f.kind == kind)
            .map(|f| f.name.clone())
    };
    let (Some(user_col), Some(item_col)) = (column("user"), column("item")) else {
        return Err(sql_err(
            SqlState::DATA_EXCEPTION,
            "the model's metadata lacks its user or item column",
        ));
    };
    let df = ctx.sql(query).await?;
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for needed in [&user_col, &item_col] {
        if !names.contains(needed) {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                format!(
                    "the query of {purpose} needs the model's column \"{needed}\"; its columns are: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    let mut select = vec![ident(&user_col), ident(&item_col)];
    if let Some(r) = column("rating").filter(|r| with_rating && names.contains(r)) {
        select.push(ident(&r));
    }
    let sql = format!(
        "SELECT {} FROM ({query}) AS interactions",
        select.join(", ")
    );
    ctx.sql(&sql).await?.execute_stream().await
}

fn users_usize(indexes: &[u32]) -> Vec<usize> {
    indexes.iter().map(|&i| i as usize).collect()
}

/// Parsed training options.
#[derive(Debug, Clone)]
struct MfOptions {
    columns: InteractionColumns,
    als: AlsOptions,
    holdout: Holdout,
    k: usize,
}

fn parse_options(opts: &ModelOptions<'_>) -> Result<MfOptions> {
    let feedback = match opts.choice("feedback", "implicit", &["implicit", "explicit"])? {
        "explicit" => Feedback::Explicit,
        _ => Feedback::Implicit,
    };
    let rating = opts.text("rating_col");
    if feedback == Feedback::Explicit && rating.is_none() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "feedback = 'explicit' needs rating_col, the column holding the ratings",
        ));
    }
    let solver = match opts.choice("solver", "cg", &["cg", "cholesky"])? {
        "cholesky" => Solver::Cholesky,
        _ => Solver::ConjugateGradient,
    };
    let seed = opts.whole("seed", 42, 0, u64::MAX)?;
    let validation = opts.choice("validation", "none", &["none", "last_n", "random"])?;
    let time = opts.text("time_col");
    let holdout = match validation {
        "last_n" => {
            if time.is_none() {
                return Err(sql_err(
                    SqlState::INVALID_PARAMETER_VALUE,
                    "validation = 'last_n' needs time_col, the column that orders each user's interactions",
                ));
            }
            Holdout::LastN(opts.whole("validation_n", 1, 1, 1_000_000)? as usize)
        }
        "random" => Holdout::Fraction(opts.number("validation_fraction", 0.2, 0.0, 0.9)?, seed),
        _ => Holdout::None,
    };
    Ok(MfOptions {
        columns: InteractionColumns {
            user: opts.text("user_col").unwrap_or_else(|| "user_id".into()),
            item: opts.text("item_col").unwrap_or_else(|| "item_id".into()),
            rating,
            time,
            category: opts.text("category_col"),
        },
        als: AlsOptions {
            factors: opts.whole("factors", 64, 1, 1024)? as usize,
            iterations: opts.whole("iterations", 15, 1, 1000)? as usize,
            regularization: opts.number("regularization", 0.05, 0.0, 1e6)? as f32,
            alpha: opts.number("alpha", 1.0, 0.0, 1e6)? as f32,
            feedback,
            seed,
            cg_steps: opts.whole("cg_steps", 3, 1, 100)? as usize,
            solver,
        },
        holdout,
        k: opts.whole("k", 10, 1, 10_000)? as usize,
    })
}

/// `CREATE MODEL ... OPTIONS (model_type = 'matrix_factorization', ...)`.
pub async fn create(
    engine: &Engine,
    name: &str,
    options: &OptionList,
    query: Option<&str>,
    notices: &Notices,
) -> Result<(ModelMeta, Vec<ModelFile>, u64)> {
    let opts = ModelOptions::new(options, MODEL_TYPE, OPTIONS)?;
    let parsed = parse_options(&opts)?;
    let Some(query) = query else {
        return Err(sql_err(
            SqlState::SYNTAX_ERROR,
            "CREATE MODEL needs AS <query> returning the interactions (user, item[, weight])",
        ));
    };
    let merge = match parsed.als.feedback {
        Feedback::Implicit => Merge::Sum,
        Feedback::Explicit => Merge::Mean,
    };
    let data = interactions::collect(
        engine.session_context(),
        &format!("CREATE MODEL {name}"),
        query,
        &parsed.columns,
        merge,
    )
    .await?;
    if data.pairs.is_empty() {
        return Err(sql_err(
            SqlState::INVALID_PARAMETER_VALUE,
            "the training query returned no interactions (rows with a user and an item)",
        ));
    }
    // Memory proportional to (users + items) × factors, plus the matrix
    // twice (by user and by item) as CSR.
    let f = parsed.als.factors;
    engine_reserve(
        &data.reservation,
        (data.users.len() + data.items.len()) * f * 4 * 2 + data.pairs.len() * 16,
    )?;
    let mut pairs = data.pairs.clone();
    if parsed.als.feedback == Feedback::Implicit {
        let before = pairs.len();
        pairs.retain(|x| x.value > 0.0);
        if pairs.len() < before {
            notices.send(format!(
                "{} user-item pairs with a total weight of zero or less were dropped (implicit feedback needs positive weights)",
                before - pairs.len()
            ));
        }
        if pairs.is_empty() {
            return Err(sql_err(
                SqlState::INVALID_PARAMETER_VALUE,
                "no user-item pair has a positive weight",
            ));
        }
    }
    let (train, held) = interactions::split(&pairs, parsed.holdout);
    notices.send(format!(
        "training on {} interactions of {} users and {} items ({} rows read{}{})",
        train.len(),
        data.users.len(),
        data.items.len(),
        data.rows,
        if data.skipped_rows > 0 {
            format!(", {} with NULLs skipped", data.skipped_rows)
        } else {
            String::new()
        },
        if held.is_empty() {
            String::new()
        } else {
            format!(", {} held out for validation", held.len())
        }
    ));
    let (n_users, n_items) = (data.users.len(), data.items.len());
    let task_notices = notices.clone();
    let als_opts = parsed.als.clone();
    let train_pairs = train.clone();
    let (user_items, factors, losses) = tokio::task::spawn_blocking(move || {
        let user_items = Csr::from_sorted(n_users, &train_pairs);
        let item_users = user_items.transpose(n_items);
        let (factors, losses) = als::train(&user_items, &item_users, &als_opts, |it, loss| {
            task_notices.send(match loss.rmse {
                Some(rmse) => format!(
                    "iteration {it}/{}: loss {:.6}, rmse {rmse:.6}",
                    als_opts.iterations, loss.loss
                ),
                None => format!(
                    "iteration {it}/{}: loss {:.6}",
                    als_opts.iterations, loss.loss
                ),
            });
            !task_notices.cancelled()
        });
        (user_items, factors, losses)
    })
    .await
    .map_err(|e| {
        sql_err(
            SqlState::INTERNAL_ERROR,
            format!("training task failed: {e}"),
        )
    })?;

    let mut item_users = vec![0_u32; n_items];
    for &i in &user_items.indices {
        item_users[i as usize] += 1;
    }
    let model = MatrixFactorizationModel::new(
        parsed.als.feedback,
        data.users.clone(),
        data.items.clone(),
        factors,
        parsed.als.regularization,
        parsed.als.alpha,
        item_users,
        data.item_category.clone(),
        user_items,
    );

    let mut metrics: HashMap<String, f64> = HashMap::new();
    if let Some(last) = losses.last() {
        metrics.insert("train_loss".into(), last.loss);
        if let Some(rmse) = last.rmse {
            metrics.insert("train_rmse".into(), rmse);
        }
    }
    let headline = if held.is_empty() {
        "train_loss".to_string()
    } else {
        let relevant = interactions::relevant_by_user(n_users, &held);
        let users: Vec<u32> = (0..n_users as u32)
            .filter(|&u| !relevant[u as usize].is_empty())
            .collect();
        let k = parsed.k;
        let scored = evaluation::evaluate_known_users(&model, &users, &relevant, k);
        for (metric, value) in scored {
            metrics.insert(format!("validation_{metric}"), value);
        }
        if model.feedback == Feedback::Explicit {
            let (rmse, mae) =
                evaluation::rating_errors(&model, held.iter().map(|x| (x.user, x.item, x.value)));
            metrics.insert("validation_rmse".into(), rmse);
            metrics.insert("validation_mae".into(), mae);
        }
        format!("validation_recall_at_{k}")
    };
    notices.send(match metrics.get(&headline) {
        Some(v) => format!("{headline} = {v:.6}"),
        None => "trained".into(),
    });

    let mut model = model;
    if let Some(query) = opts.text("content_query") {
        let content = content::collect(
            engine.session_context(),
            &query,
            &parsed.columns.item,
            &model.items,
        )
        .await?;
        let with_text = (0..content.rows() as u32)
            .filter(|&r| content.has_content(r))
            .count();
        notices.send(format!(
            "content for {with_text} items, {} of them without interactions",
            content.rows() - content.model_items
        ));
        model.content = Some(content);
    }
    let mut files = storage::files(&model)?;
    if let Some(content) = &model.content {
        files.push(content.file()?);
    }
    let mut features = vec![
        FeatureMeta {
            name: parsed.columns.user.clone(),
            data_type: model.users.data_type().to_string(),
            kind: "user".into(),
        },
        FeatureMeta {
            name: parsed.columns.item.clone(),
            data_type: model.items.data_type().to_string(),
            kind: "item".into(),
        },
    ];
    if let Some(r) = &parsed.columns.rating {
        features.push(FeatureMeta {
            name: r.clone(),
            data_type: "Float32".into(),
            kind: "rating".into(),
        });
    }
    let meta = ModelMeta {
        format_version: MODEL_FORMAT_VERSION,
        name: name.to_string(),
        model_type: MODEL_TYPE.to_string(),
        version: 0,
        created_at: Utc::now(),
        training_rows: train.len() as u64,
        features,
        options: opts.as_map(),
        metrics: metrics.into_iter().collect(),
        headline_metric: Some(headline),
        label: None,
        classes: Vec::new(),
        training_seconds: 0.0,
    };
    Ok((meta, files, held.len() as u64))
}

fn engine_reserve(
    reservation: &datafusion::execution::memory_pool::MemoryReservation,
    bytes: usize,
) -> Result<()> {
    reservation.try_grow(bytes)
}
