//! `seasonal_period = 'auto'`: per series, the seasonal period (if any)
//! from the autocorrelation of the first differences at the periods that
//! make sense for the series' frequency (24 and 168 for hourly, 7 and 365
//! for daily, 52 for weekly, 12 for monthly, 4 for quarterly). A period is
//! taken when the series holds at least three cycles and its
//! autocorrelation is above both 0.3 and the 99% band 2.58/√n of white
//! noise; of several, the one with the largest autocorrelation wins.
//! Differencing first removes level and trend, which would otherwise make
//! every lag look seasonal.

use super::series::Frequency;

/// The candidate periods of a frequency, shortest first.
pub fn candidates(frequency: Frequency) -> &'static [usize] {
    match frequency {
        Frequency::Seconds(3600) => &[24, 168],
        Frequency::Seconds(86_400) => &[7, 365],
        Frequency::Seconds(604_800) => &[52],
        Frequency::Months(1) => &[12],
        Frequency::Months(3) => &[4],
        _ => &[],
    }
}

/// Autocorrelation of `x` at lag `k` (the usual estimator: centred, over
/// the full-sample variance).
fn autocorrelation(x: &[f64], k: usize) -> f64 {
    let n = x.len();
    if k >= n {
        return f64::NAN;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let variance: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
    if variance == 0.0 {
        return f64::NAN;
    }
    let covariance: f64 = (k..n).map(|t| (x[t] - mean) * (x[t - k] - mean)).sum();
    covariance / variance
}

/// The detected seasonal period of `y`, or None.
pub fn detect(y: &[f64], frequency: Frequency) -> Option<usize> {
    let d: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    let band = (2.58 / (d.len().max(1) as f64).sqrt()).max(0.3);
    candidates(frequency)
        .iter()
        .copied()
        .filter(|&s| y.len() >= 3 * s)
        .map(|s| (s, autocorrelation(&d, s)))
        .filter(|(_, r)| r.is_finite() && *r > band)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Frequency = Frequency::Seconds(86_400);

    /// A deterministic noise in [-1, 1).
    fn noise(t: usize) -> f64 {
        ((t * t * 7919 + 13) % 101) as f64 / 50.5 - 1.0
    }

    #[test]
    fn weekly_pattern_is_found() {
        let week = [0.0, -3.0, -2.0, -1.0, 1.0, 6.0, 8.0];
        let y: Vec<f64> = (0..120)
            .map(|t| 100.0 + 0.2 * t as f64 + week[t % 7] + noise(t))
            .collect();
        assert_eq!(detect(&y, DAY), Some(7));
    }

    #[test]
    fn no_season_in_trend_and_noise() {
        let y: Vec<f64> = (0..200)
            .map(|t| 50.0 + 0.5 * t as f64 + 3.0 * noise(t))
            .collect();
        assert_eq!(detect(&y, DAY), None);
    }

    #[test]
    fn needs_three_cycles_and_a_known_frequency() {
        let week = [0.0, -3.0, -2.0, -1.0, 1.0, 6.0, 8.0];
        let short: Vec<f64> = (0..20).map(|t| week[t % 7]).collect();
        assert_eq!(detect(&short, DAY), None);
        let monthly: Vec<f64> = (0..48)
            .map(|t| ((t % 12) as f64).powi(2) + noise(t))
            .collect();
        assert_eq!(detect(&monthly, Frequency::Months(1)), Some(12));
        assert_eq!(detect(&monthly, Frequency::Seconds(17)), None);
    }
}
