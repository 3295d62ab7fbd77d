//! Users and what they do: sessions of views, carts and purchases driven by
//! latent tastes, the orders and reviews that follow, and the 30-day
//! behaviour features with a label drawn from a known logistic model.
//!
//! Every user is simulated from an RNG seeded by (seed, user id), so the
//! output does not depend on how users are chunked.

use std::sync::Arc;

use datafusion::arrow::array::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::catalogue::{CATEGORIES, FACTORS, Item, pick_weighted};
use super::reviews;
use super::sales::promotion_on;
use super::sample::{geometric, lognormal, normal, poisson, sigmoid};
use super::writer::finish_batch;

const SECONDS_PER_DAY: i64 = 86_400;
const MICROS: i64 = 1_000_000;

/// The behaviour features of `user_features`, in column order.
pub const FEATURES: [&str; 5] = [
    "views_30d",
    "purchases_30d",
    "reviews_30d",
    "browse_minutes_30d",
    "purchase_minutes_30d",
];

/// The logistic model the `purchased_next_7d` label is drawn from.
pub const LABEL_INTERCEPT: f64 = -2.0;
pub const LABEL_COEFFICIENTS: [f64; 5] = [0.04, 0.5, 0.35, 0.05, 0.3];

/// Items shown per session before the user picks what to look at.
pub const CANDIDATES_PER_SESSION: usize = 30;
/// How sharply users prefer items close to their taste (softmax scale).
pub const CHOICE_SHARPNESS: f64 = 1.5;
/// Funnel: P(cart | view) = sigmoid(CART_INTERCEPT + affinity − price penalty),
/// P(purchase | cart) = sigmoid(PURCHASE_INTERCEPT + 0.8·affinity).
pub const CART_INTERCEPT: f64 = -4.0;
pub const PURCHASE_INTERCEPT: f64 = -1.6;
/// rating = clamp(round(RATING_CENTRE + 0.9·affinity + N(0, 1.1²)), 1, 5)
pub const RATING_CENTRE: f64 = 2.0;
/// Share of reviewed orders that went wrong and get 1 or 2 stars regardless.
pub const BAD_EXPERIENCE_PROBABILITY: f64 = 0.07;
/// Probability that a purchase is reviewed.
pub const REVIEW_PROBABILITY: f64 = 0.25;

const COUNTRIES: &[(&str, f64)] = &[
    ("CN", 0.35),
    ("US", 0.22),
    ("GB", 0.08),
    ("DE", 0.08),
    ("FR", 0.06),
    ("JP", 0.06),
    ("CA", 0.06),
    ("AU", 0.05),
    ("SG", 0.04),
];
const CITY_TIERS: &[f64] = &[0.25, 0.35, 0.25, 0.15];
const AGE_BANDS: &[(&str, f64)] = &[
    ("18-24", 0.18),
    ("25-34", 0.34),
    ("35-44", 0.24),
    ("45-54", 0.14),
    ("55+", 0.10),
];
/// Share of sessions starting in each hour of the day (evening peak).
const HOUR_WEIGHTS: [f64; 24] = [
    1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.2, 2.6, 2.8, 3.0, 3.4, 3.0, 2.8, 2.8, 3.0, 3.4, 4.0,
    4.8, 5.4, 5.6, 4.4, 2.4,
];

/// What every user's simulation shares.
pub struct World<'a> {
    pub seed: u64,
    pub items: &'a [Item],
    pub centres: &'a [[f64; FACTORS]],
    /// Cumulative display weights of items (exp of log popularity).
    pub cumulative_popularity: Vec<f64>,
    pub first_day: i32,
    pub end_day: i32,
}

impl<'a> World<'a> {
    pub fn new(
        seed: u64,
        items: &'a [Item],
        centres: &'a [[f64; FACTORS]],
        first_day: i32,
        days: u32,
    ) -> Self {
        let mut total = 0.0;
        let cumulative_popularity = items
            .iter()
            .map(|item| {
                total += item.log_popularity.exp();
                total
            })
            .collect();
        Self {
            seed,
            items,
            centres,
            cumulative_popularity,
            first_day,
            end_day: first_day + days as i32,
        }
    }

    fn candidate<R: Rng>(&self, rng: &mut R) -> usize {
        let total = self.cumulative_popularity.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.cumulative_popularity
            .partition_point(|&c| c <= x)
            .min(self.items.len().saturating_sub(1))
    }
}

pub fn users_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, false),
        Field::new("signup_date", DataType::Date32, false),
        Field::new("country", DataType::Utf8, false),
        Field::new("city_tier", DataType::Int32, false),
        Field::new("age_band", DataType::Utf8, false),
        Field::new("segment", DataType::Utf8, false),
    ]))
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

pub fn money(precision: u8) -> DataType {
    DataType::Decimal128(precision, 2)
}

pub fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, false),
        Field::new("item_id", DataType::Int64, false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new("event_time", timestamp(), false),
        Field::new("session_id", DataType::Int64, false),
        Field::new("dwell_seconds", DataType::Int32, false),
    ]))
}

pub fn orders_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("item_id", DataType::Int64, false),
        Field::new("order_time", timestamp(), false),
        Field::new("quantity", DataType::Int32, false),
        Field::new("unit_price", money(12), false),
        Field::new("revenue", money(12), false),
    ]))
}

pub fn reviews_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("review_id", DataType::Int64, false),
        Field::new("user_id", DataType::Int64, false),
        Field::new("item_id", DataType::Int64, false),
        Field::new("rating", DataType::Int32, false),
        Field::new("review_text", DataType::Utf8, false),
        Field::new("language", DataType::Utf8, false),
        Field::new("review_time", timestamp(), false),
    ]))
}

pub fn user_features_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user_id", DataType::Int64, false),
        Field::new(FEATURES[0], DataType::Int64, false),
        Field::new(FEATURES[1], DataType::Int64, false),
        Field::new(FEATURES[2], DataType::Int64, false),
        Field::new(FEATURES[3], DataType::Float64, false),
        Field::new(FEATURES[4], DataType::Float64, false),
        Field::new("purchased_next_7d", DataType::Boolean, false),
    ]))
}

/// Global counters that make ids unique across chunks.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub session: i64,
    pub order: i64,
    pub review: i64,
    pub positives: u64,
}

/// Column builders for one chunk of users.
pub struct Chunk {
    users: (
        Int64Builder,
        Date32Builder,
        StringBuilder,
        Int32Builder,
        StringBuilder,
        StringBuilder,
    ),
    events: (
        Int64Builder,
        Int64Builder,
        StringBuilder,
        TimestampMicrosecondBuilder,
        Int64Builder,
        Int32Builder,
    ),
    orders: (
        Int64Builder,
        Int64Builder,
        Int64Builder,
        TimestampMicrosecondBuilder,
        Int32Builder,
        Decimal128Builder,
        Decimal128Builder,
    ),
    reviews: (
        Int64Builder,
        Int64Builder,
        Int64Builder,
        Int32Builder,
        StringBuilder,
        StringBuilder,
        TimestampMicrosecondBuilder,
    ),
    features: (
        Int64Builder,
        Int64Builder,
        Int64Builder,
        Int64Builder,
        Float64Builder,
        Float64Builder,
        BooleanBuilder,
    ),
}

fn ts_builder() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

fn money_builder() -> Result<Decimal128Builder, ArrowError> {
    Decimal128Builder::new().with_precision_and_scale(12, 2)
}

/// The record batches of one chunk, one per table.
pub struct ChunkBatches {
    pub users: RecordBatch,
    pub events: RecordBatch,
    pub orders: RecordBatch,
    pub reviews: RecordBatch,
    pub features: RecordBatch,
}

impl Chunk {
    pub fn new() -> Result<Self, ArrowError> {
        Ok(Self {
            users: Default::default(),
            events: (
                Int64Builder::new(),
                Int64Builder::new(),
                StringBuilder::new(),
                ts_builder(),
                Int64Builder::new(),
                Int32Builder::new(),
            ),
            orders: (
                Int64Builder::new(),
                Int64Builder::new(),
                Int64Builder::new(),
                ts_builder(),
                Int32Builder::new(),
                money_builder()?,
                money_builder()?,
            ),
            reviews: (
                Int64Builder::new(),
                Int64Builder::new(),
                Int64Builder::new(),
                Int32Builder::new(),
                StringBuilder::new(),
                StringBuilder::new(),
                ts_builder(),
            ),
            features: Default::default(),
        })
    }

    pub fn finish(&mut self) -> Result<ChunkBatches, ArrowError> {
        let u = &mut self.users;
        let users = finish_batch(
            users_schema(),
            &mut [&mut u.0, &mut u.1, &mut u.2, &mut u.3, &mut u.4, &mut u.5],
        )?;
        let e = &mut self.events;
        let events = finish_batch(
            events_schema(),
            &mut [&mut e.0, &mut e.1, &mut e.2, &mut e.3, &mut e.4, &mut e.5],
        )?;
        let o = &mut self.orders;
        let orders = finish_batch(
            orders_schema(),
            &mut [
                &mut o.0, &mut o.1, &mut o.2, &mut o.3, &mut o.4, &mut o.5, &mut o.6,
            ],
        )?;
        let r = &mut self.reviews;
        let reviews = finish_batch(
            reviews_schema(),
            &mut [
                &mut r.0, &mut r.1, &mut r.2, &mut r.3, &mut r.4, &mut r.5, &mut r.6,
            ],
        )?;
        let f = &mut self.features;
        let features = finish_batch(
            user_features_schema(),
            &mut [
                &mut f.0, &mut f.1, &mut f.2, &mut f.3, &mut f.4, &mut f.5, &mut f.6,
            ],
        )?;
        Ok(ChunkBatches {
            users,
            events,
            orders,
            reviews,
            features,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EventType {
    View,
    Cart,
    Purchase,
}

impl EventType {
    fn name(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Cart => "cart",
            Self::Purchase => "purchase",
        }
    }
}

struct Event {
    item: usize,
    kind: EventType,
    time_s: i64,
    session: i64,
    dwell_s: i32,
}

/// Simulate one user and append their rows to `chunk`.
pub fn simulate_user(world: &World<'_>, user_id: i64, counters: &mut Counters, chunk: &mut Chunk) {
    let mut rng = ChaCha8Rng::seed_from_u64(world.seed);
    rng.set_stream(user_id as u64);

    let country =
        COUNTRIES[pick_weighted(&mut rng, &COUNTRIES.iter().map(|c| c.1).collect::<Vec<_>>())].0;
    let city_tier = pick_weighted(&mut rng, CITY_TIERS) as i32 + 1;
    let age_band =
        AGE_BANDS[pick_weighted(&mut rng, &AGE_BANDS.iter().map(|a| a.1).collect::<Vec<_>>())].0;
    let signup_day =
        world.first_day - 730 + rng.random_range(0..(730 + world.end_day - world.first_day));
    let price_sensitivity = normal(&mut rng, 0.0, 1.0);

    // Taste: near one or two favourite categories' centres.
    let weights: Vec<f64> = CATEGORIES.iter().map(|c| c.weight).collect();
    let favourite = pick_weighted(&mut rng, &weights);
    let second = pick_weighted(&mut rng, &weights);
    let taste: [f64; FACTORS] = std::array::from_fn(|k| {
        0.6 * world.centres[favourite][k]
            + 0.3 * world.centres[second][k]
            + normal(&mut rng, 0.0, 0.6)
    });

    let sessions_per_30d = lognormal(&mut rng, 1.4, 0.8);
    let active_from = signup_day.max(world.first_day);
    let active_days = (world.end_day - active_from).max(0);
    let n_sessions = poisson(&mut rng, sessions_per_30d * f64::from(active_days) / 30.0);

    let mut starts: Vec<i64> = (0..n_sessions)
        .map(|_| {
            let day = i64::from(active_from + rng.random_range(0..active_days.max(1)));
            let hour = pick_weighted(&mut rng, &HOUR_WEIGHTS) as i64;
            day * SECONDS_PER_DAY + hour * 3600 + rng.random_range(0..3600)
        })
        .collect();
    starts.sort_unstable();

    let scale = 1.0 / (FACTORS as f64).sqrt();
    let affinity = |item: &Item| -> f64 {
        item.factors
            .iter()
            .zip(&taste)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            * scale
    };

    let mut events: Vec<Event> = Vec::new();
    let mut candidates = Vec::with_capacity(CANDIDATES_PER_SESSION);
    let mut choice = Vec::with_capacity(CANDIDATES_PER_SESSION);
    for start in starts {
        counters.session += 1;
        let session = counters.session;
        candidates.clear();
        choice.clear();
        for _ in 0..CANDIDATES_PER_SESSION {
            let idx = world.candidate(&mut rng);
            candidates.push(idx);
            choice.push((CHOICE_SHARPNESS * affinity(&world.items[idx])).exp());
        }
        let views = 1 + geometric(&mut rng, 0.45);
        let mut t = start;
        for _ in 0..views {
            let idx = candidates[pick_weighted(&mut rng, &choice)];
            let item = &world.items[idx];
            let aff = affinity(item);
            let dwell =
                lognormal(&mut rng, 35.0 * (0.3 * aff).exp(), 0.6).clamp(2.0, 1800.0) as i32;
            events.push(Event {
                item: idx,
                kind: EventType::View,
                time_s: t,
                session,
                dwell_s: dwell,
            });
            t += i64::from(dwell) + rng.random_range(3..40);
            let price_penalty =
                0.3 * price_sensitivity * (item.price_cents as f64 / 5000.0).ln_1p();
            if rng.random_bool(sigmoid(CART_INTERCEPT + 1.0 * aff - price_penalty)) {
                let dwell = lognormal(&mut rng, 15.0, 0.5).clamp(2.0, 600.0) as i32;
                events.push(Event {
                    item: idx,
                    kind: EventType::Cart,
                    time_s: t,
                    session,
                    dwell_s: dwell,
                });
                t += i64::from(dwell) + rng.random_range(3..40);
                if rng.random_bool(sigmoid(PURCHASE_INTERCEPT + 0.8 * aff)) {
                    let dwell = lognormal(&mut rng, 90.0, 0.5).clamp(10.0, 1800.0) as i32;
                    events.push(Event {
                        item: idx,
                        kind: EventType::Purchase,
                        time_s: t,
                        session,
                        dwell_s: dwell,
                    });
                    t += i64::from(dwell) + rng.random_range(3..40);
                }
            }
        }
    }
    events.sort_by_key(|e| e.time_s);

    let window_start = i64::from(world.end_day - 30) * SECONDS_PER_DAY;
    let end = i64::from(world.end_day) * SECONDS_PER_DAY;
    let (mut views_30d, mut purchases_30d, mut reviews_30d) = (0_i64, 0_i64, 0_i64);
    let (mut browse_s, mut purchase_s) = (0_i64, 0_i64);
    let mut total_purchases = 0;

    let e = &mut chunk.events;
    for ev in &events {
        e.0.append_value(user_id);
        e.1.append_value(world.items[ev.item].id);
        e.2.append_value(ev.kind.name());
        e.3.append_value(ev.time_s * MICROS);
        e.4.append_value(ev.session);
        e.5.append_value(ev.dwell_s);
        let recent = ev.time_s >= window_start;
        match ev.kind {
            EventType::View if recent => {
                views_30d += 1;
                browse_s += i64::from(ev.dwell_s);
            }
            EventType::Cart if recent => purchase_s += i64::from(ev.dwell_s),
            EventType::Purchase => {
                total_purchases += 1;
                if recent {
                    purchases_30d += 1;
                    purchase_s += i64::from(ev.dwell_s);
                }
            }
            _ => {}
        }
    }

    let zh_share = if country == "CN" {
        0.9
    } else if country == "SG" {
        0.4
    } else {
        0.03
    };
    for ev in events.iter().filter(|e| e.kind == EventType::Purchase) {
        let item = &world.items[ev.item];
        counters.order += 1;
        let quantity = 1 + geometric(&mut rng, 0.75) as i32;
        let day = chrono::DateTime::from_timestamp(ev.time_s, 0).map(|d| d.date_naive());
        let discount = day.and_then(promotion_on).map_or(0.0, |p| p.discount);
        let unit_price = (item.price_cents as f64 * (1.0 - discount)).round() as i128;
        let o = &mut chunk.orders;
        o.0.append_value(counters.order);
        o.1.append_value(user_id);
        o.2.append_value(item.id);
        o.3.append_value(ev.time_s * MICROS);
        o.4.append_value(quantity);
        o.5.append_value(unit_price);
        o.6.append_value(unit_price * i128::from(quantity));

        if rng.random_bool(REVIEW_PROBABILITY) {
            let review_time = ev.time_s
                + rng.random_range(2..20) * SECONDS_PER_DAY
                + rng.random_range(0..SECONDS_PER_DAY);
            if review_time >= end {
                continue;
            }
            // Real rating histograms are J-shaped: a few orders go wrong
            // (defects, lost parcels) whatever the user's taste.
            let rating = if rng.random_bool(BAD_EXPERIENCE_PROBABILITY) {
                if rng.random_bool(0.7) { 1 } else { 2 }
            } else {
                (RATING_CENTRE + 0.9 * affinity(item) + normal(&mut rng, 0.0, 1.1))
                    .round()
                    .clamp(1.0, 5.0) as i32
            };
            let zh = rng.random_bool(zh_share);
            counters.review += 1;
            if review_time >= window_start {
                reviews_30d += 1;
            }
            let r = &mut chunk.reviews;
            r.0.append_value(counters.review);
            r.1.append_value(user_id);
            r.2.append_value(item.id);
            r.3.append_value(rating);
            r.4.append_value(reviews::compose(&mut rng, rating, zh));
            r.5.append_value(if zh { "zh" } else { "en" });
            r.6.append_value(review_time * MICROS);
        }
    }

    let segment = if signup_day >= world.end_day - 90 {
        "new"
    } else if total_purchases >= 20 {
        "vip"
    } else if price_sensitivity > 1.0 {
        "bargain_hunter"
    } else {
        "regular"
    };
    let u = &mut chunk.users;
    u.0.append_value(user_id);
    u.1.append_value(signup_day);
    u.2.append_value(country);
    u.3.append_value(city_tier);
    u.4.append_value(age_band);
    u.5.append_value(segment);

    // Minutes to one decimal, as a tracking system would report them.
    let browse_minutes = (browse_s as f64 / 6.0).round() / 10.0;
    let purchase_minutes = (purchase_s as f64 / 6.0).round() / 10.0;
    let x = [
        views_30d as f64,
        purchases_30d as f64,
        reviews_30d as f64,
        browse_minutes,
        purchase_minutes,
    ];
    let logit = LABEL_INTERCEPT
        + x.iter()
            .zip(LABEL_COEFFICIENTS)
            .map(|(x, b)| x * b)
            .sum::<f64>();
    let label = rng.random_bool(sigmoid(logit));
    counters.positives += u64::from(label);
    let f = &mut chunk.features;
    f.0.append_value(user_id);
    f.1.append_value(views_30d);
    f.2.append_value(purchases_30d);
    f.3.append_value(reviews_30d);
    f.4.append_value(browse_minutes);
    f.5.append_value(purchase_minutes);
    f.6.append_value(label);
}
