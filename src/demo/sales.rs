//! `daily_sales`: one series per category built from known parts, so
//! forecasting can be checked against the truth:
//!
//! units(t) = level · (1 + trend · t/365) + weekly[dow] + yearly · sin(2π(doy − peak)/365.25 + π/2)
//!            + promotion(t) + e(t),  e(t) = φ1·e(t−1) + φ2·e(t−2) + σ·ε(t)
//!
//! and revenue = units · average price · (1 − promotion discount) · (1 + 2 % noise).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use serde::Serialize;

use super::catalogue::CATEGORIES;
use super::sample::normal;
use crate::models::ar::calendar::{chinese_new_year, thanksgiving};

/// A shopping festival's effect on one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Promotion {
    pub name: &'static str,
    /// Multiplier on the day's base units (1.0 = no effect).
    pub lift: f64,
    /// Price discount on the day (0.15 = 15 % off).
    pub discount: f64,
}

/// A festival whose sales build up from the 1st of its month to a peak day.
struct RampFestival {
    name: &'static str,
    month: u32,
    peak_day: u32,
    peak_lift: f64,
    /// Extra lift per day of the build-up.
    daily_ramp: f64,
    discount: f64,
}

const RAMP_FESTIVALS: &[RampFestival] = &[
    RampFestival {
        name: "618",
        month: 6,
        peak_day: 18,
        peak_lift: 3.0,
        daily_ramp: 0.04,
        discount: 0.15,
    },
    RampFestival {
        name: "double_11",
        month: 11,
        peak_day: 11,
        peak_lift: 4.0,
        daily_ramp: 0.05,
        discount: 0.2,
    },
];

/// The festival affecting `day`, if any: 618 (June 1–18, peak on the
/// 18th), Double 11 (November 1–11, peak on the 11th), Black Friday (the
/// day after the fourth Thursday of November) and Cyber Monday (the Monday
/// after), and the Spring Festival lull (New Year's Day and the six days
/// after). The dates are those of `calendar = 'retail_cn' | 'retail_us'`.
pub fn promotion_on(day: NaiveDate) -> Option<Promotion> {
    let (month, dom) = (day.month(), day.day());
    for festival in RAMP_FESTIVALS {
        if month == festival.month && dom <= festival.peak_day {
            let lift = if dom == festival.peak_day {
                festival.peak_lift
            } else {
                1.0 + festival.daily_ramp * f64::from(dom)
            };
            return Some(Promotion {
                name: festival.name,
                lift,
                discount: festival.discount,
            });
        }
    }
    // Black Friday is the day after Thanksgiving (the fourth Thursday),
    // which is not always the fourth Friday.
    if let Some(black_friday) = thanksgiving(day.year()).and_then(|t| t.succ_opt()) {
        if day == black_friday {
            return Some(Promotion {
                name: "black_friday",
                lift: 2.2,
                discount: 0.25,
            });
        }
        if Some(day) == black_friday.checked_add_days(chrono::Days::new(3)) {
            return Some(Promotion {
                name: "cyber_monday",
                lift: 1.8,
                discount: 0.2,
            });
        }
    }
    // The lull: Chinese New Year's Day and the six days after.
    if let Some(new_year) = chinese_new_year(day.year()) {
        let offset = (day - new_year).num_days();
        if (0..7).contains(&offset) {
            return Some(Promotion {
                name: "spring_festival",
                lift: 0.55,
                discount: 0.0,
            });
        }
    }
    None
}

/// The true components of one category's series (written to ground_truth.json).
#[derive(Debug, Clone, Serialize)]
pub struct SeriesTruth {
    pub level: f64,
    pub trend_per_year: f64,
    /// Additive units, Monday first.
    pub weekly: [f64; 7],
    pub yearly_amplitude: f64,
    /// Day of year of the yearly peak.
    pub yearly_peak_day: f64,
    /// AR coefficients of the noise e(t): [φ1, φ2].
    pub ar: [f64; 2],
    pub noise_sd: f64,
    pub average_price: f64,
}

/// One row of daily_sales.
pub struct SalesRow {
    pub day: NaiveDate,
    pub category: &'static str,
    pub units: i64,
    pub revenue_cents: i64,
}

/// Generate every category's series over `days` days from `start`.
pub fn generate<R: Rng>(
    rng: &mut R,
    start: NaiveDate,
    days: u32,
    users: u64,
) -> (Vec<SalesRow>, BTreeMap<String, SeriesTruth>) {
    let mut rows = Vec::with_capacity(days as usize * CATEGORIES.len());
    let mut truths = BTreeMap::new();
    // The shop's overall volume grows with its user base.
    let scale = (users as f64 / 5000.0).max(0.02);
    for category in CATEGORIES {
        let level = 400.0 * category.weight / 0.1 * scale;
        let truth = SeriesTruth {
            level,
            trend_per_year: rng.random_range(0.05..0.35),
            weekly: std::array::from_fn(|d| {
                // Weekends sell more.
                let weekend = if d >= 5 { 0.18 } else { -0.05 };
                level * (weekend + normal(rng, 0.0, 0.03))
            }),
            yearly_amplitude: level * rng.random_range(0.05..0.25),
            yearly_peak_day: rng.random_range(0.0..365.0),
            ar: [rng.random_range(0.35..0.65), rng.random_range(0.0..0.25)],
            noise_sd: level * 0.06,
            average_price: category.median_price * 1.1,
        };
        let mut e = [0.0_f64; 2];
        for t in 0..days {
            let Some(day) = start.checked_add_days(chrono::Days::new(u64::from(t))) else {
                break;
            };
            let noise = truth.ar[0] * e[0] + truth.ar[1] * e[1] + normal(rng, 0.0, truth.noise_sd);
            e = [noise, e[0]];
            let doy = f64::from(day.ordinal0());
            let base = truth.level * (1.0 + truth.trend_per_year * f64::from(t) / 365.0)
                + truth.weekly[day.weekday().num_days_from_monday() as usize]
                + truth.yearly_amplitude
                    * (2.0 * std::f64::consts::PI * (doy - truth.yearly_peak_day) / 365.25
                        + std::f64::consts::FRAC_PI_2)
                        .sin();
            let promotion = promotion_on(day);
            let lift = promotion.map_or(1.0, |p| p.lift);
            let discount = promotion.map_or(0.0, |p| p.discount);
            let units = (base * lift + noise).round().max(0.0) as i64;
            let price = truth.average_price * (1.0 - discount) * (1.0 + normal(rng, 0.0, 0.02));
            rows.push(SalesRow {
                day,
                category: category.name,
                units,
                revenue_cents: (units as f64 * price * 100.0).round() as i64,
            });
        }
        truths.insert(category.name.to_string(), truth);
    }
    (rows, truths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn festival_calendar() {
        assert_eq!(promotion_on(date(2025, 11, 11)).unwrap().name, "double_11");
        assert_eq!(promotion_on(date(2025, 6, 18)).unwrap().lift, 3.0);
        // 1 November 2024 was a Friday: Thanksgiving fell on the 28th and
        // Black Friday on the 29th, the fifth Friday.
        assert_eq!(
            promotion_on(date(2024, 11, 29)).unwrap().name,
            "black_friday"
        );
        assert_eq!(promotion_on(date(2024, 11, 22)), None);
        // Black Friday 2025 is 28 November; Cyber Monday 1 December.
        assert_eq!(
            promotion_on(date(2025, 11, 28)).unwrap().name,
            "black_friday"
        );
        assert_eq!(
            promotion_on(date(2025, 12, 1)).unwrap().name,
            "cyber_monday"
        );
        assert_eq!(
            promotion_on(date(2025, 1, 30)).unwrap().name,
            "spring_festival"
        );
        assert_eq!(promotion_on(date(2025, 3, 3)), None);
    }
}
