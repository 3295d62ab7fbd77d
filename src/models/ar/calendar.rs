//! Shopping-festival calendars (`calendar = 'retail_cn' | 'retail_us'`):
//! one regressor per festival, the number of festival days in each step
//! (0/1 for daily series; for weekly or monthly series, how many of the
//! period's days fall in the festival). They enter the AR regression as
//! exogenous columns, so a promotion spike gets its own coefficient instead
//! of inflating the lag coefficients and σ².
//!
//! `retail_cn`:
//! - `618_build_up`: June 1–17 (JD's anniversary sale ramps up all month);
//!   `618`: June 18, the peak day.
//! - `double_11_build_up`: November 1–10 (Tmall's pre-sales); `double_11`:
//!   November 11 (Singles' Day).
//! - `double_12`: December 12.
//! - `spring_festival_eve`: the 7 days before Chinese New Year's Day
//!   (couriers stop taking parcels); `spring_festival`: New Year's Day and
//!   the 6 days after (the public holiday: a lull). New Year's Days are
//!   known for 2010–2035; a series or forecast outside that range is an
//!   error rather than a silently missing festival.
//!
//! `retail_us`:
//! - `thanksgiving`: the fourth Thursday of November; `black_friday`: the
//!   day after; `cyber_monday`: the Monday after that.
//! - `christmas`: December 24 and 25 (shops shut, deliveries pause).
//!
//! `calendar = 'retail_cn,retail_us'` uses both (cross-border shops).

use chrono::{DateTime, Datelike, Days, NaiveDate, Weekday};

use super::series::Frequency;

/// Chinese New Year's Day, 2010–2035 (from the Chinese calendar).
pub const CHINESE_NEW_YEAR: [(i32, u32, u32); 26] = [
    (2010, 2, 14),
    (2011, 2, 3),
    (2012, 1, 23),
    (2013, 2, 10),
    (2014, 1, 31),
    (2015, 2, 19),
    (2016, 2, 8),
    (2017, 1, 28),
    (2018, 2, 16),
    (2019, 2, 5),
    (2020, 1, 25),
    (2021, 2, 12),
    (2022, 2, 1),
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
    (2031, 1, 23),
    (2032, 2, 11),
    (2033, 1, 31),
    (2034, 2, 19),
    (2035, 2, 8),
];

/// Chinese New Year's Day of `year`, if known.
pub fn chinese_new_year(year: i32) -> Option<NaiveDate> {
    CHINESE_NEW_YEAR
        .iter()
        .find(|(y, _, _)| *y == year)
        .and_then(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

/// Thanksgiving (the fourth Thursday of November) of `year`.
pub fn thanksgiving(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Thu, 4)
}

/// A festival calendar: `retail_cn`, `retail_us`, both, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Calendar {
    cn: bool,
    us: bool,
}

const RETAIL_CN: &[&str] = &[
    "618_build_up",
    "618",
    "double_11_build_up",
    "double_11",
    "double_12",
    "spring_festival_eve",
    "spring_festival",
];

const RETAIL_US: &[&str] = &["thanksgiving", "black_friday", "cyber_monday", "christmas"];

impl Calendar {
    pub const NONE: Self = Self {
        cn: false,
        us: false,
    };

    /// `none`, `retail_cn`, `retail_us`, or both joined by a comma (a shop
    /// selling in both markets).
    pub fn parse(text: &str) -> Option<Self> {
        let mut calendar = Self::NONE;
        for part in text.split([',', '+']) {
            match part.trim().to_lowercase().as_str() {
                "none" => {}
                "retail_cn" => calendar.cn = true,
                "retail_us" => calendar.us = true,
                _ => return None,
            }
        }
        Some(calendar)
    }

    pub fn name(self) -> String {
        match (self.cn, self.us) {
            (false, false) => "none".into(),
            (true, false) => "retail_cn".into(),
            (false, true) => "retail_us".into(),
            (true, true) => "retail_cn,retail_us".into(),
        }
    }

    /// The regressor names, in column order (retail_cn's first).
    pub fn festivals(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.cn {
            names.extend_from_slice(RETAIL_CN);
        }
        if self.us {
            names.extend_from_slice(RETAIL_US);
        }
        names
    }

    /// Which retail_cn festival (index into [`RETAIL_CN`]) `day` is in.
    fn cn_festival(day: NaiveDate) -> Result<Option<usize>, String> {
        let new_year = chinese_new_year(day.year()).ok_or_else(|| {
            format!(
                "calendar 'retail_cn' knows the Spring Festival for 2010–2035; {day} is outside"
            )
        })?;
        let offset = (day - new_year).num_days();
        Ok(match (day.month(), day.day()) {
            (6, 1..=17) => Some(0),
            (6, 18) => Some(1),
            (11, 1..=10) => Some(2),
            (11, 11) => Some(3),
            (12, 12) => Some(4),
            _ if (-7..0).contains(&offset) => Some(5),
            _ if (0..7).contains(&offset) => Some(6),
            _ => None,
        })
    }

    /// Which retail_us festival (index into [`RETAIL_US`]) `day` is in.
    fn us_festival(day: NaiveDate) -> Option<usize> {
        let tg = thanksgiving(day.year());
        let after = |n: u64| tg.and_then(|t| t.checked_add_days(Days::new(n)));
        if Some(day) == tg {
            Some(0)
        } else if Some(day) == after(1) {
            Some(1)
        } else if Some(day) == after(4) {
            Some(2)
        } else if day.month() == 12 && (day.day() == 24 || day.day() == 25) {
            Some(3)
        } else {
            None
        }
    }

    /// The columns (of [`Self::festivals`]) that `day` counts in.
    fn festivals_of(self, day: NaiveDate) -> Result<Vec<usize>, String> {
        let mut hits = Vec::new();
        if self.cn
            && let Some(j) = Self::cn_festival(day)?
        {
            hits.push(j);
        }
        if self.us
            && let Some(j) = Self::us_festival(day)
        {
            hits.push(j + if self.cn { RETAIL_CN.len() } else { 0 });
        }
        Ok(hits)
    }

    /// The regressor columns for `n` steps of `frequency` from `start`
    /// (seconds since the epoch): column j holds, per step, how many days
    /// of festival j the step covers (a step shorter than a day counts its
    /// day).
    pub fn columns(
        self,
        frequency: Frequency,
        start: i64,
        n: usize,
    ) -> Result<Vec<Vec<f64>>, String> {
        let k = self.festivals().len();
        let mut columns = vec![vec![0.0; n]; k];
        if k == 0 {
            return Ok(columns);
        }
        let date = |t: i64| {
            DateTime::from_timestamp(t, 0)
                .map(|d| d.date_naive())
                .ok_or_else(|| format!("time {t} is out of range"))
        };
        for (i, row) in (0..n).enumerate() {
            let step = |k: i64| {
                frequency
                    .step(start, k)
                    .ok_or_else(|| "a time is out of range".to_string())
            };
            let from = date(step(i as i64)?)?;
            let to = date(step(i as i64 + 1)?)?;
            let days = (to - from).num_days().max(1);
            for offset in 0..days {
                let day = from
                    .checked_add_days(Days::new(offset as u64))
                    .ok_or("a time is out of range")?;
                for j in self.festivals_of(day)? {
                    columns[j][row] += 1.0;
                }
            }
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn seconds(d: NaiveDate) -> i64 {
        d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
    }

    #[test]
    fn us_dates_follow_thanksgiving() {
        // 1 November 2024 was a Friday: Thanksgiving is the 28th, so Black
        // Friday is the 29th (the fifth Friday, not the fourth).
        let us = Calendar::parse("retail_us").unwrap();
        assert_eq!(us.festivals_of(day(2024, 11, 28)), Ok(vec![0]));
        assert_eq!(us.festivals_of(day(2024, 11, 29)), Ok(vec![1]));
        assert_eq!(us.festivals_of(day(2024, 11, 22)), Ok(vec![]));
        assert_eq!(us.festivals_of(day(2024, 12, 2)), Ok(vec![2]));
        assert_eq!(us.festivals_of(day(2025, 11, 28)), Ok(vec![1]));
        assert_eq!(us.festivals_of(day(2025, 12, 1)), Ok(vec![2]));
        assert_eq!(us.festivals_of(day(2025, 12, 25)), Ok(vec![3]));
        // Far-off years are fine for the US calendar.
        assert_eq!(us.festivals_of(day(2050, 12, 24)), Ok(vec![3]));
    }

    #[test]
    fn cn_dates() {
        let cn = Calendar::parse("retail_cn").unwrap();
        assert_eq!(cn.festivals_of(day(2025, 6, 1)), Ok(vec![0]));
        assert_eq!(cn.festivals_of(day(2025, 6, 18)), Ok(vec![1]));
        assert_eq!(cn.festivals_of(day(2025, 6, 19)), Ok(vec![]));
        assert_eq!(cn.festivals_of(day(2025, 11, 11)), Ok(vec![3]));
        assert_eq!(cn.festivals_of(day(2025, 12, 12)), Ok(vec![4]));
        // New Year's Day 2025: 29 January.
        assert_eq!(cn.festivals_of(day(2025, 1, 22)), Ok(vec![5]));
        assert_eq!(cn.festivals_of(day(2025, 1, 28)), Ok(vec![5]));
        assert_eq!(cn.festivals_of(day(2025, 1, 29)), Ok(vec![6]));
        assert_eq!(cn.festivals_of(day(2025, 2, 4)), Ok(vec![6]));
        assert_eq!(cn.festivals_of(day(2025, 2, 5)), Ok(vec![]));
        assert!(cn.festivals_of(day(2036, 3, 1)).is_err());
        let both = Calendar::parse("retail_cn, retail_us").unwrap();
        assert_eq!(both.name(), "retail_cn,retail_us");
        assert_eq!(both.festivals().len(), 11);
        assert_eq!(both.festivals_of(day(2025, 11, 28)), Ok(vec![8]));
        assert_eq!(both.festivals_of(day(2025, 11, 11)), Ok(vec![3]));
        assert_eq!(Calendar::parse("retail_xx"), None);
    }

    #[test]
    fn columns_count_days_per_step() {
        let cn = Calendar::parse("retail_cn").unwrap();
        let daily = cn
            .columns(Frequency::Seconds(86_400), seconds(day(2025, 11, 10)), 3)
            .unwrap();
        assert_eq!(daily[2], vec![1.0, 0.0, 0.0]);
        assert_eq!(daily[3], vec![0.0, 1.0, 0.0]);
        let monthly = cn
            .columns(Frequency::Months(1), seconds(day(2025, 5, 1)), 2)
            .unwrap();
        assert_eq!(monthly[0], vec![0.0, 17.0]);
        assert_eq!(monthly[1], vec![0.0, 1.0]);
        let weekly = Calendar::parse("retail_us")
            .unwrap()
            .columns(
                Frequency::Seconds(7 * 86_400),
                seconds(day(2025, 11, 24)),
                1,
            )
            .unwrap();
        assert_eq!(weekly[0], vec![1.0]);
        assert_eq!(weekly[1], vec![1.0]);
        assert_eq!(weekly[2], vec![0.0]);
    }
}
