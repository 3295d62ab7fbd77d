//! The demo data generator behind `ecomsql demo-data`: a deterministic
//! e-commerce shop whose hidden truths (purchase-model coefficients, latent
//! tastes, sales-series components) are written to `ground_truth.json` so
//! tests can check that models recover them.

mod behaviour;
mod catalogue;
mod reviews;
mod sales;
mod sample;
mod writer;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use datafusion::arrow::array::{Date32Builder, Decimal128Builder, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use behaviour::{FEATURES, LABEL_COEFFICIENTS, LABEL_INTERCEPT};
pub use sales::{Promotion, SeriesTruth, promotion_on};

use behaviour::{Chunk, Counters, World, simulate_user};
use catalogue::{CATEGORIES, FACTORS, Item};
use writer::{TableWriter, finish_batch};

/// The first day of the simulated period.
pub const START_DATE: (i32, u32, u32) = (2025, 1, 1);

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub users: u64,
    pub items: u64,
    pub days: u32,
    pub seed: u64,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Users simulated per record batch (and per unit of parallel work);
    /// the output does not depend on it.
    pub chunk_users: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            users: 5000,
            items: 1000,
            days: 365,
            seed: 42,
            progress: false,
            chunk_users: 20_000,
        }
    }
}

#[derive(Debug)]
pub enum DemoError {
    InvalidConfig(String),
    Io(String),
    Parquet(String),
}

impl DemoError {
    fn io(path: &Path, e: std::io::Error) -> Self {
        Self::Io(format!("{}: {e}", path.display()))
    }

    fn parquet(e: impl fmt::Display) -> Self {
        Self::Parquet(e.to_string())
    }
}

impl From<ArrowError> for DemoError {
    fn from(e: ArrowError) -> Self {
        Self::Parquet(e.to_string())
    }
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(m) => write!(f, "invalid demo-data options: {m}"),
            Self::Io(m) | Self::Parquet(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DemoError {}

/// Rows written per table.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub rows: BTreeMap<&'static str, u64>,
    pub seconds: f64,
    pub positive_rate: f64,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "generated in {:.1} s:", self.seconds)?;
        for (table, rows) in &self.rows {
            writeln!(f, "  {table:<14} {rows:>12} rows")?;
        }
        write!(
            f,
            "  purchased_next_7d positive rate {:.3}",
            self.positive_rate
        )
    }
}

/// The hidden truths of a generated data set (`ground_truth.json`).
#[derive(Debug, Clone, Serialize)]
pub struct GroundTruth {
    pub generator: String,
    pub seed: u64,
    pub users: u64,
    pub items: u64,
    pub days: u32,
    pub start_date: String,
    pub purchase_model: PurchaseTruth,
    pub latent_tastes: TasteTruth,
    pub reviews: ReviewTruth,
    pub daily_sales: BTreeMap<String, SeriesTruth>,
}

/// `user_features.purchased_next_7d` ~ Bernoulli(sigmoid(intercept + Σ coef·feature)).
#[derive(Debug, Clone, Serialize)]
pub struct PurchaseTruth {
    pub label: String,
    pub features: Vec<String>,
    pub intercept: f64,
    pub coefficients: BTreeMap<String, f64>,
    pub positive_rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TasteTruth {
    pub factors: usize,
    pub description: String,
    pub candidates_per_session: usize,
    pub choice_sharpness: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewTruth {
    pub review_probability: f64,
    pub rating_model: String,
}

/// Generate every table into `out` (created if missing).
pub fn generate(config: &DemoConfig, out: &Path) -> Result<DemoSummary, DemoError> {
    if config.users == 0 || config.items == 0 || config.days < 31 || config.chunk_users == 0 {
        return Err(DemoError::InvalidConfig(
            "users and items must be positive and days at least 31 (the features look back 30 days)".into(),
        ));
    }
    let started = Instant::now();
    std::fs::create_dir_all(out).map_err(|e| DemoError::io(out, e))?;
    let start = NaiveDate::from_ymd_opt(START_DATE.0, START_DATE.1, START_DATE.2)
        .ok_or_else(|| DemoError::InvalidConfig("bad start date".into()))?;
    let first_day = days_since_epoch(start);

    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let centres = catalogue::category_centres(&mut rng);
    let items = catalogue::generate_items(&mut rng, config.items, &centres, first_day);
    let mut summary = DemoSummary::default();

    let mut w = TableWriter::create(out, "items", items_schema())?;
    w.write(&items_batch(&items)?)?;
    summary.rows.insert("items", w.finish()?);

    // The sales series draw from their own stream so that changing the
    // number of items or users' RNG use does not change them.
    let mut sales_rng = ChaCha8Rng::seed_from_u64(config.seed);
    sales_rng.set_stream(u64::MAX);
    let (sales_rows, sales_truth) =
        sales::generate(&mut sales_rng, start, config.days, config.users);
    let mut w = TableWriter::create(out, "daily_sales", daily_sales_schema())?;
    w.write(&daily_sales_batch(&sales_rows)?)?;
    summary.rows.insert("daily_sales", w.finish()?);

    let world = World::new(config.seed, &items, &centres, first_day, config.days);
    let mut users_w = TableWriter::create(out, "users", behaviour::users_schema())?;
    let mut events_w = TableWriter::create(out, "events", behaviour::events_schema())?;
    let mut orders_w = TableWriter::create(out, "orders", behaviour::orders_schema())?;
    let mut reviews_w = TableWriter::create(out, "reviews", behaviour::reviews_schema())?;
    let mut features_w =
        TableWriter::create(out, "user_features", behaviour::user_features_schema())?;

    let progress = progress_bar(config);
    let mut counters = Counters::default();
    let chunks = config.users.div_ceil(config.chunk_users);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next_chunk = std::sync::atomic::AtomicU64::new(0);
    let (sender, receiver) = std::sync::mpsc::channel::<Result<SimulatedChunk, ArrowError>>();
    // Workers simulate chunks of users in parallel (each user has its own
    // RNG stream); this thread writes them in order, numbering sessions,
    // orders and reviews consecutively across chunks.
    std::thread::scope(|scope| -> Result<(), DemoError> {
        for _ in 0..workers {
            let sender = sender.clone();
            let (world, next_chunk) = (&world, &next_chunk);
            scope.spawn(move || {
                loop {
                    let index = next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if index >= chunks {
                        break;
                    }
                    let simulated = simulate_chunk(world, index, config);
                    if sender.send(simulated).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut pending = BTreeMap::new();
        let mut next_to_write = 0;
        for simulated in receiver {
            let simulated = simulated?;
            pending.insert(simulated.index, simulated);
            while let Some(chunk) = pending.remove(&next_to_write) {
                let b = chunk.batches;
                users_w.write(&b.users)?;
                events_w.write(&offset_ids(&b.events, "session_id", counters.session)?)?;
                orders_w.write(&offset_ids(&b.orders, "order_id", counters.order)?)?;
                reviews_w.write(&offset_ids(&b.reviews, "review_id", counters.review)?)?;
                features_w.write(&b.features)?;
                counters.session += chunk.counters.session;
                counters.order += chunk.counters.order;
                counters.review += chunk.counters.review;
                counters.positives += chunk.counters.positives;
                progress.inc(chunk.users);
                next_to_write += 1;
            }
        }
        if next_to_write == chunks {
            Ok(())
        } else {
            Err(DemoError::Io(format!(
                "only {next_to_write} of {chunks} user chunks were simulated"
            )))
        }
    })?;
    progress.finish_and_clear();
    summary.rows.insert("users", users_w.finish()?);
    summary.rows.insert("events", events_w.finish()?);
    summary.rows.insert("orders", orders_w.finish()?);
    summary.rows.insert("reviews", reviews_w.finish()?);
    summary.rows.insert("user_features", features_w.finish()?);
    summary.positive_rate = counters.positives as f64 / config.users as f64;

    let truth = ground_truth(config, start, summary.positive_rate, sales_truth);
    write_json_atomically(&out.join("ground_truth.json"), &truth)?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// One chunk of users, simulated with ids counted from 0 within the chunk.
struct SimulatedChunk {
    index: u64,
    users: u64,
    batches: behaviour::ChunkBatches,
    counters: Counters,
}

fn simulate_chunk(
    world: &World<'_>,
    index: u64,
    config: &DemoConfig,
) -> Result<SimulatedChunk, ArrowError> {
    let first = index * config.chunk_users + 1;
    let last = (first + config.chunk_users - 1).min(config.users);
    let mut counters = Counters::default();
    let mut chunk = Chunk::new()?;
    for user_id in first..=last {
        simulate_user(world, user_id as i64, &mut counters, &mut chunk);
    }
    Ok(SimulatedChunk {
        index,
        users: last - first + 1,
        batches: chunk.finish()?,
        counters,
    })
}

/// Add `offset` to an id column (ids are numbered per chunk while simulating).
fn offset_ids(batch: &RecordBatch, column: &str, offset: i64) -> Result<RecordBatch, ArrowError> {
    if offset == 0 {
        return Ok(batch.clone());
    }
    let index = batch.schema().index_of(column)?;
    let ids = datafusion::arrow::compute::kernels::numeric::add(
        batch.column(index),
        &datafusion::arrow::array::Int64Array::new_scalar(offset),
    )?;
    let mut columns = batch.columns().to_vec();
    columns[index] = ids;
    RecordBatch::try_new(batch.schema(), columns)
}

fn ground_truth(
    config: &DemoConfig,
    start: NaiveDate,
    positive_rate: f64,
    daily_sales: BTreeMap<String, SeriesTruth>,
) -> GroundTruth {
    GroundTruth {
        generator: format!("ecomsql demo-data {}", env!("CARGO_PKG_VERSION")),
        seed: config.seed,
        users: config.users,
        items: config.items,
        days: config.days,
        start_date: start.to_string(),
        purchase_model: PurchaseTruth {
            label: "purchased_next_7d".into(),
            features: FEATURES.iter().map(|f| f.to_string()).collect(),
            intercept: LABEL_INTERCEPT,
            coefficients: FEATURES
                .iter()
                .zip(LABEL_COEFFICIENTS)
                .map(|(f, c)| (f.to_string(), c))
                .collect(),
            positive_rate,
        },
        latent_tastes: TasteTruth {
            factors: FACTORS,
            description: "Each category has a centre c in an 8-dimensional taste space. Item factors are \
                0.8·c(category) + N(0, 0.6²); user tastes are 0.6·c(favourite) + 0.3·c(second) + N(0, 0.6²). \
                Affinity = item·user/√8. Each session shows candidates drawn by item popularity and views \
                them with probability ∝ exp(sharpness · affinity); cart and purchase probabilities rise \
                with affinity."
                .into(),
            candidates_per_session: behaviour::CANDIDATES_PER_SESSION,
            choice_sharpness: behaviour::CHOICE_SHARPNESS,
        },
        reviews: ReviewTruth {
            review_probability: behaviour::REVIEW_PROBABILITY,
            rating_model: format!(
                "with probability {} a bad experience: 1 star (70%) or 2; otherwise \
                 rating = clamp(round({} + 0.9·affinity + N(0, 1.1²)), 1, 5). Reviews are in Chinese \
                 for 90% of CN users, 40% of SG users, 3% of others",
                behaviour::BAD_EXPERIENCE_PROBABILITY,
                behaviour::RATING_CENTRE
            ),
        },
        daily_sales,
    }
}

fn write_json_atomically(path: &Path, value: &impl Serialize) -> Result<(), DemoError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| DemoError::Io(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(|e| DemoError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| DemoError::io(path, e))
}

fn progress_bar(config: &DemoConfig) -> ProgressBar {
    if !config.progress {
        return ProgressBar::with_draw_target(Some(config.users), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(config.users);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} users  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn days_since_epoch(day: NaiveDate) -> i32 {
    (day - NaiveDate::default()).num_days() as i32
}

pub fn items_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("item_id", DataType::Int64, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("title_zh", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("category_zh", DataType::Utf8, false),
        Field::new("brand", DataType::Utf8, false),
        Field::new("price", behaviour::money(12), false),
        Field::new("launch_date", DataType::Date32, false),
    ]))
}

fn items_batch(items: &[Item]) -> Result<RecordBatch, ArrowError> {
    let mut id = Int64Builder::new();
    let mut title = StringBuilder::new();
    let mut title_zh = StringBuilder::new();
    let mut category = StringBuilder::new();
    let mut category_zh = StringBuilder::new();
    let mut brand = StringBuilder::new();
    let mut price = Decimal128Builder::new().with_precision_and_scale(12, 2)?;
    let mut launch = Date32Builder::new();
    for item in items {
        id.append_value(item.id);
        title.append_value(&item.title);
        title_zh.append_value(&item.title_zh);
        category.append_value(CATEGORIES[item.category].name);
        category_zh.append_value(CATEGORIES[item.category].name_zh);
        brand.append_value(item.brand);
        price.append_value(i128::from(item.price_cents));
        launch.append_value(item.launch_day);
    }
    finish_batch(
        items_schema(),
        &mut [
            &mut id,
            &mut title,
            &mut title_zh,
            &mut category,
            &mut category_zh,
            &mut brand,
            &mut price,
            &mut launch,
        ],
    )
}

pub fn daily_sales_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("day", DataType::Date32, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("units", DataType::Int64, false),
        Field::new("revenue", behaviour::money(14), false),
    ]))
}

fn daily_sales_batch(rows: &[sales::SalesRow]) -> Result<RecordBatch, ArrowError> {
    let mut day = Date32Builder::new();
    let mut category = StringBuilder::new();
    let mut units = Int64Builder::new();
    let mut revenue = Decimal128Builder::new().with_precision_and_scale(14, 2)?;
    for row in rows {
        day.append_value(days_since_epoch(row.day));
        category.append_value(row.category);
        units.append_value(row.units);
        revenue.append_value(i128::from(row.revenue_cents));
    }
    finish_batch(
        daily_sales_schema(),
        &mut [&mut day, &mut category, &mut units, &mut revenue],
    )
}
