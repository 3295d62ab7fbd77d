//! Rolling-origin backtests: for fold k = folds, …, 1 the series is cut
//! `k · horizon` steps before its end, refitted with the model's options
//! (order selection included) and forecast `horizon` steps; the forecasts
//! are compared with what happened.
//!
//! Per forecast point e = actual − forecast. MAE = mean |e|; RMSE =
//! √mean e²; MAPE = mean |e| / |actual| over non-zero actuals; sMAPE = mean
//! 2|e| / (|actual| + |forecast|) (0 when both are 0); MASE = MAE divided by
//! the in-sample MAE of the naive forecast (seasonal naive with the model's
//! seasonal period); coverage = share of actuals inside the interval.

use super::model::{ArOptions, Differencing, fit_series};
use super::series::Regular;

/// The metric names, in the order of [`Errors::values`].
pub const METRICS: [&str; 7] = ["mae", "rmse", "mape", "smape", "mase", "coverage", "points"];

/// Accumulated errors of one or more series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Errors {
    pub points: usize,
    sum_abs: f64,
    sum_sq: f64,
    sum_ape: f64,
    ape_points: usize,
    sum_sape: f64,
    covered: usize,
    /// Σ of each fold's MAE / naive scale, and how many folds had a scale.
    sum_mase: f64,
    mase_folds: usize,
}

impl Errors {
    pub fn add(&mut self, other: &Errors) {
        self.points += other.points;
        self.sum_abs += other.sum_abs;
        self.sum_sq += other.sum_sq;
        self.sum_ape += other.sum_ape;
        self.ape_points += other.ape_points;
        self.sum_sape += other.sum_sape;
        self.covered += other.covered;
        self.sum_mase += other.sum_mase;
        self.mase_folds += other.mase_folds;
    }

    /// The values of [`METRICS`], in order; NaN where a metric is
    /// undefined (MAPE with only zero actuals, MASE of a flat history).
    pub fn values(&self) -> [f64; 7] {
        let ratio = |a: f64, b: usize| if b > 0 { a / b as f64 } else { f64::NAN };
        [
            ratio(self.sum_abs, self.points),
            ratio(self.sum_sq, self.points).sqrt(),
            ratio(self.sum_ape, self.ape_points),
            ratio(self.sum_sape, self.points),
            ratio(self.sum_mase, self.mase_folds),
            ratio(self.covered as f64, self.points),
            self.points as f64,
        ]
    }

    /// (name, value) rows of [`METRICS`].
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        METRICS.iter().copied().zip(self.values()).collect()
    }
}

/// Backtest one regular series; None when it is too short for one fold
/// (each fold keeps at least `2 · horizon` training points).
pub fn backtest(
    regular: &Regular,
    opts: &ArOptions,
    differencing: &Differencing,
    folds: usize,
    horizon: usize,
    level: f64,
) -> Option<Errors> {
    let n = regular.values.len();
    let mut total = Errors::default();
    for k in (1..=folds).rev() {
        let Some(origin) = n.checked_sub(k * horizon) else {
            continue;
        };
        let room = if opts.seasonal_auto {
            crate::models::ar::season::candidates(regular.frequency)
                .first()
                .copied()
                .unwrap_or(0)
        } else {
            differencing.seasonal_period
        };
        if origin < 2 * horizon.max(room + 1) {
            continue;
        }
        let train = Regular {
            values: regular.values[..origin].to_vec(),
            ..regular.clone()
        };
        // Calendar failures already stopped the full fit; a fold that
        // meets one is skipped.
        let Ok(model) = fit_series(None, &train, opts) else {
            continue;
        };
        let Ok(rows) = model.forecast(differencing, horizon, level) else {
            continue;
        };
        let actual = &regular.values[origin..(origin + horizon).min(n)];
        let mut fold = Errors::default();
        for (row, &a) in rows.iter().zip(actual) {
            let e = a - row.mean;
            fold.points += 1;
            fold.sum_abs += e.abs();
            fold.sum_sq += e * e;
            if a != 0.0 {
                fold.sum_ape += e.abs() / a.abs();
                fold.ape_points += 1;
            }
            let denominator = a.abs() + row.mean.abs();
            if denominator > 0.0 {
                fold.sum_sape += 2.0 * e.abs() / denominator;
            }
            if row.lower <= a && a <= row.upper {
                fold.covered += 1;
            }
        }
        let y = &train.values;
        let season = model.season.max(1);
        if y.len() > season && fold.points > 0 {
            let scale = (season..y.len())
                .map(|t| (y[t] - y[t - season]).abs())
                .sum::<f64>()
                / (y.len() - season) as f64;
            if scale > 0.0 {
                fold.sum_mase = fold.sum_abs / fold.points as f64 / scale;
                fold.mase_folds = 1;
            }
        }
        total.add(&fold);
    }
    (total.points > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::super::calendar::Calendar;
    use super::super::process::Criterion;
    use super::super::series::{Fill, Frequency};
    use super::*;

    fn opts() -> ArOptions {
        ArOptions {
            p: Some(1),
            max_p: 4,
            criterion: Criterion::Aic,
            difference: 0,
            seasonal_difference: 0,
            seasonal_period: 0,
            seasonal_auto: false,
            frequency: None,
            fill: Fill::Zero,
            sum_duplicates: true,
            calendar: Calendar::NONE,
        }
    }

    fn regular(values: Vec<f64>) -> Regular {
        Regular {
            start: 0,
            frequency: Frequency::Seconds(86_400),
            values,
            filled: 0,
            duplicates: 0,
        }
    }

    const NONE: Differencing = Differencing {
        difference: 0,
        seasonal_difference: 0,
        seasonal_period: 0,
        calendar: Calendar::NONE,
    };

    /// A series AR(1) predicts perfectly (y_t = 10 + 0.5·y_{t−1}, from a
    /// non-stationary start so the lag is informative) has zero errors.
    #[test]
    fn perfect_fit_has_no_error() {
        let mut y = vec![100.0];
        for _ in 0..59 {
            let last = y[y.len() - 1];
            y.push(10.0 + 0.5 * last);
        }
        let m = backtest(&regular(y[..12].to_vec()), &opts(), &NONE, 2, 3, 0.95).unwrap();
        let metrics: std::collections::HashMap<_, _> = m.metrics().into_iter().collect();
        assert!(metrics["mae"] < 1e-6, "{metrics:?}");
        assert_eq!(metrics["points"], 6.0);
    }

    /// Errors by hand: the mean model (AR(0)) of 0, 2, 0, 2, … forecasts 1
    /// everywhere, so every error is ±1: MAE = RMSE = 1, MAPE over the
    /// non-zero actuals (2) = 0.5, sMAPE = mean(2·1/1, 2·1/3) = 4/3.
    #[test]
    fn errors_by_hand() {
        let y: Vec<f64> = (0..20)
            .map(|t| if t % 2 == 0 { 0.0 } else { 2.0 })
            .collect();
        let mut o = opts();
        o.p = Some(0);
        let m = backtest(&regular(y), &o, &NONE, 1, 4, 0.95).unwrap();
        let metrics: std::collections::HashMap<_, _> = m.metrics().into_iter().collect();
        assert!((metrics["mae"] - 1.0).abs() < 1e-12);
        assert!((metrics["rmse"] - 1.0).abs() < 1e-12);
        assert!((metrics["mape"] - 0.5).abs() < 1e-12);
        assert!((metrics["smape"] - 4.0 / 3.0).abs() < 1e-12);
        // Naive in-sample MAE is 2, so MASE = 1 / 2.
        assert!((metrics["mase"] - 0.5).abs() < 1e-12);
        assert!(backtest(&regular(vec![1.0, 2.0, 3.0]), &o, &NONE, 1, 4, 0.95).is_none());
    }
}
