//! Turning (time, value) rows into a regular series: the frequency (a fixed
//! step such as a day or a week, or calendar months, quarters and years),
//! duplicate timestamps, and gaps filled by a documented rule.
//!
//! Times are seconds since the Unix epoch (dates at midnight UTC).

use chrono::{DateTime, Datelike, Months};

/// The spacing of a regular series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// A fixed number of seconds (86,400 for daily, 604,800 for weekly).
    Seconds(i64),
    /// Calendar months: 1 monthly, 3 quarterly, 12 yearly.
    Months(u32),
}

const DAY: i64 = 86_400;

impl Frequency {
    /// From an option value: `hour`, `day`, `week`, `month`, `quarter`,
    /// `year` (or `hourly`, `daily`, ...).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_lowercase().as_str() {
            "hour" | "hourly" => Self::Seconds(3600),
            "day" | "daily" => Self::Seconds(DAY),
            "week" | "weekly" => Self::Seconds(7 * DAY),
            "month" | "monthly" => Self::Months(1),
            "quarter" | "quarterly" => Self::Months(3),
            "year" | "yearly" | "annual" => Self::Months(12),
            _ => return None,
        })
    }

    pub fn name(&self) -> String {
        match *self {
            Self::Seconds(3600) => "hour".into(),
            Self::Seconds(DAY) => "day".into(),
            Self::Seconds(s) if s == 7 * DAY => "week".into(),
            Self::Seconds(s) => format!("{s} seconds"),
            Self::Months(1) => "month".into(),
            Self::Months(3) => "quarter".into(),
            Self::Months(12) => "year".into(),
            Self::Months(m) => format!("{m} months"),
        }
    }

    /// The time `k` steps after `origin` (None past chrono's range).
    pub fn step(&self, origin: i64, k: i64) -> Option<i64> {
        match *self {
            Self::Seconds(s) => origin.checked_add(s.checked_mul(k)?),
            Self::Months(m) => {
                let start = DateTime::from_timestamp(origin, 0)?;
                let months = u32::try_from(k.checked_mul(i64::from(m))?.unsigned_abs()).ok()?;
                let moved = if k >= 0 {
                    start.checked_add_months(Months::new(months))?
                } else {
                    start.checked_sub_months(Months::new(months))?
                };
                Some(moved.timestamp())
            }
        }
    }

    /// How many steps `t` is after `origin`, if it lies on the grid.
    pub fn index(&self, origin: i64, t: i64) -> Option<i64> {
        let k = match *self {
            Self::Seconds(s) => {
                let d = t.checked_sub(origin)?;
                if s <= 0 || d % s != 0 {
                    return None;
                }
                d / s
            }
            Self::Months(m) => {
                let (a, b) = (
                    DateTime::from_timestamp(origin, 0)?,
                    DateTime::from_timestamp(t, 0)?,
                );
                let months = (i64::from(b.year()) - i64::from(a.year())) * 12
                    + i64::from(b.month())
                    - i64::from(a.month());
                if months % i64::from(m) != 0 {
                    return None;
                }
                months / i64::from(m)
            }
        };
        (self.step(origin, k)? == t).then_some(k)
    }

    /// The frequency of sorted, distinct times: calendar months (or
    /// quarters, years) when the gaps are about a month or more and every
    /// time lies on that grid, else the smallest gap, which every other gap
    /// must be a multiple of.
    pub fn infer(times: &[i64]) -> Result<Self, String> {
        let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let Some(&smallest) = gaps.iter().min() else {
            return Err("one point gives no frequency; give OPTIONS (frequency = 'day' | 'week' | 'month' | ...)".into());
        };
        if smallest <= 0 {
            return Err("times must be distinct and increasing".into());
        }
        if smallest >= 28 * DAY {
            for months in [12, 3, 1] {
                let f = Self::Months(months);
                if smallest >= 28 * DAY * i64::from(months)
                    && times.iter().all(|&t| f.index(times[0], t).is_some())
                {
                    return Ok(f);
                }
            }
        }
        if gaps.iter().all(|g| g % smallest == 0) {
            Ok(Self::Seconds(smallest))
        } else {
            Err(format!(
                "the times are irregular (gaps of {smallest} s and {} s); give OPTIONS (frequency = ...)",
                gaps.iter()
                    .find(|g| *g % smallest != 0)
                    .copied()
                    .unwrap_or(smallest)
            ))
        }
    }
}

/// How missing steps are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// No sales recorded means no sales.
    Zero,
    /// Carry the last value forward.
    Previous,
    /// Straight line between the neighbours.
    Linear,
}

impl Fill {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_lowercase().as_str() {
            "zero" => Self::Zero,
            "previous" => Self::Previous,
            "linear" => Self::Linear,
            _ => return None,
        })
    }
}

/// A regular series and what it took to make it.
#[derive(Debug, Clone, PartialEq)]
pub struct Regular {
    /// Time of the first value.
    pub start: i64,
    pub frequency: Frequency,
    pub values: Vec<f64>,
    /// Steps that had no row and were filled.
    pub filled: usize,
    /// Rows that shared a timestamp with another and were summed.
    pub duplicates: usize,
}

/// A regular series from (time, value) rows in any order. Rows with the
/// same time are summed, or refused when `sum_duplicates` is false; a time
/// off the frequency's grid is an error.
pub fn regularize(
    mut points: Vec<(i64, f64)>,
    frequency: Option<Frequency>,
    fill: Fill,
    sum_duplicates: bool,
) -> Result<Regular, String> {
    if points.is_empty() {
        return Err("the series has no values".into());
    }
    points.sort_by_key(|p| p.0);
    let mut merged: Vec<(i64, f64)> = Vec::with_capacity(points.len());
    let mut duplicates = 0;
    for (t, v) in points {
        match merged.last_mut() {
            Some(last) if last.0 == t => {
                if !sum_duplicates {
                    return Err(format!("two rows for the same time ({})", display_time(t)));
                }
                last.1 += v;
                duplicates += 1;
            }
            _ => merged.push((t, v)),
        }
    }
    let times: Vec<i64> = merged.iter().map(|p| p.0).collect();
    let frequency = match frequency {
        Some(f) => f,
        None if merged.len() == 1 => Frequency::Seconds(DAY),
        None => Frequency::infer(&times)?,
    };
    let start = merged[0].0;
    let mut slots: Vec<Option<f64>> = Vec::new();
    for (t, v) in &merged {
        let k = frequency.index(start, *t).ok_or_else(|| {
            format!(
                "{} is not on the series' {} grid starting {}",
                display_time(*t),
                frequency.name(),
                display_time(start)
            )
        })?;
        let k = usize::try_from(k).map_err(|_| "times out of range".to_string())?;
        if k > 10_000_000 {
            return Err("the series would have more than 10 million steps".into());
        }
        if slots.len() <= k {
            slots.resize(k + 1, None);
        }
        slots[k] = Some(*v);
    }
    let filled = slots.iter().filter(|s| s.is_none()).count();
    let mut values = Vec::with_capacity(slots.len());
    for (k, slot) in slots.iter().enumerate() {
        values.push(match (slot, fill) {
            (Some(v), _) => *v,
            (None, Fill::Zero) => 0.0,
            (None, Fill::Previous) => values.last().copied().unwrap_or(0.0),
            (None, Fill::Linear) => {
                // The last known value before and the first after.
                let (i, a) = (0..k)
                    .rev()
                    .find_map(|i| slots[i].map(|v| (i, v)))
                    .unwrap_or((0, 0.0));
                let (j, b) = (k + 1..slots.len())
                    .find_map(|j| slots[j].map(|v| (j, v)))
                    .unwrap_or((i, a));
                if j == i {
                    a
                } else {
                    a + (b - a) * (k - i) as f64 / (j - i) as f64
                }
            }
        });
    }
    Ok(Regular {
        start,
        frequency,
        values,
        filled,
        duplicates,
    })
}

fn display_time(t: i64) -> String {
    DateTime::from_timestamp(t, 0).map_or_else(|| t.to_string(), |d| d.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
    }

    #[test]
    fn infers_days_weeks_months_quarters_years() {
        let days = [day(2026, 1, 1), day(2026, 1, 2), day(2026, 1, 4)];
        assert_eq!(Frequency::infer(&days), Ok(Frequency::Seconds(DAY)));
        let weeks = [day(2026, 1, 5), day(2026, 1, 12), day(2026, 1, 26)];
        assert_eq!(Frequency::infer(&weeks), Ok(Frequency::Seconds(7 * DAY)));
        let months = [
            day(2026, 1, 31),
            day(2026, 2, 28),
            day(2026, 3, 31),
            day(2026, 5, 31),
        ];
        assert_eq!(Frequency::infer(&months), Ok(Frequency::Months(1)));
        let quarters = [day(2025, 1, 1), day(2025, 4, 1), day(2025, 7, 1)];
        assert_eq!(Frequency::infer(&quarters), Ok(Frequency::Months(3)));
        let years = [day(2020, 1, 1), day(2021, 1, 1), day(2023, 1, 1)];
        assert_eq!(Frequency::infer(&years), Ok(Frequency::Months(12)));
        assert!(Frequency::infer(&[day(2026, 1, 1), day(2026, 1, 3), day(2026, 1, 6)]).is_err());
        assert!(Frequency::infer(&[day(2026, 1, 1)]).is_err());
    }

    #[test]
    fn fills_gaps_and_sums_duplicates() {
        let rows = vec![
            (day(2026, 1, 4), 40.0),
            (day(2026, 1, 1), 10.0),
            (day(2026, 1, 1), 5.0),
            (day(2026, 1, 2), 20.0),
        ];
        let zero = regularize(rows.clone(), None, Fill::Zero, true).unwrap();
        assert_eq!(zero.values, vec![15.0, 20.0, 0.0, 40.0]);
        assert_eq!((zero.filled, zero.duplicates), (1, 1));
        let previous = regularize(rows.clone(), None, Fill::Previous, true).unwrap();
        assert_eq!(previous.values, vec![15.0, 20.0, 20.0, 40.0]);
        let linear = regularize(rows.clone(), None, Fill::Linear, true).unwrap();
        assert_eq!(linear.values, vec![15.0, 20.0, 30.0, 40.0]);
        assert!(
            regularize(rows, None, Fill::Zero, false)
                .unwrap_err()
                .contains("same time")
        );
    }

    #[test]
    fn off_grid_times_are_errors() {
        let rows = vec![
            (day(2026, 1, 1), 1.0),
            (day(2026, 1, 8), 1.0),
            (day(2026, 1, 10), 1.0),
        ];
        let weekly = Some(Frequency::Seconds(7 * DAY));
        assert!(
            regularize(rows, weekly, Fill::Zero, true)
                .unwrap_err()
                .contains("grid")
        );
        assert!(regularize(Vec::new(), None, Fill::Zero, true).is_err());
    }
}
