//! AR(p) with intercept, fitted by ordinary least squares on the lagged
//! design (the same model and estimates as statsmodels
//! `AutoReg(y, p, trend='c')`), order selection by AIC/BIC on a common
//! sample, and forecasts with intervals from the ψ-weights.

use ndarray::{Array2, ShapeBuilder};

use super::least_squares::{GramRss, LeastSquares, lagged_fit};

/// A fitted AR(p) with intercept and optional exogenous regressors:
/// y_t = c + Σ βⱼ x_{j,t} + Σ φᵢ y_{t−i} + e_t.
#[derive(Debug, Clone, PartialEq)]
pub struct ArFit {
    pub intercept: f64,
    /// Coefficients of the exogenous columns, in the order given.
    pub beta: Vec<f64>,
    pub phi: Vec<f64>,
    /// Residual variance, RSS / nobs (maximum likelihood, as statsmodels).
    pub sigma2: f64,
    /// Observations used (series length − p).
    pub nobs: usize,
    pub aic: f64,
    pub bic: f64,
    /// Standard errors of [c, β…, φ₁, …, φ_p] (σ² (XᵀX)⁻¹ with σ² = RSS / nobs).
    pub std_errors: Vec<f64>,
}

/// The criterion that picks the order when `p = 'auto'`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Criterion {
    Aic,
    Bic,
}

/// Rows t = start..n of the design [1, x₁,t, …, x_k,t, y_{t−1}, …, y_{t−p}]
/// and the targets. The exogenous columns come before the lags so that
/// the leading blocks of columns are the nested AR orders.
/// Built column by column in column-major order: each column is a slice
/// of `y` or of an exogenous column, copied whole.
fn design(y: &[f64], exog: &[Vec<f64>], p: usize, start: usize) -> (Array2<f64>, Vec<f64>) {
    let n = y.len();
    let rows = n.saturating_sub(start);
    let k = exog.len();
    let mut data = Vec::with_capacity(rows * (1 + k + p));
    data.resize(rows, 1.0);
    for column in exog {
        data.extend_from_slice(&column[start..]);
    }
    for lag in 1..=p {
        data.extend_from_slice(&y[start - lag..n - lag]);
    }
    let x = Array2::from_shape_vec((rows, 1 + k + p).f(), data)
        .unwrap_or_else(|_| Array2::zeros((rows, 1 + k + p)));
    (x, y[start..].to_vec())
}

/// Gaussian log-likelihood at the ML variance, and the information
/// criteria with k estimated coefficients plus the variance.
fn criteria(rss: f64, nobs: usize, k: usize) -> (f64, f64, f64) {
    let n = nobs as f64;
    let sigma2 = rss / n;
    let llf = -n / 2.0 * ((2.0 * std::f64::consts::PI).ln() + sigma2.ln() + 1.0);
    let params = (k + 1) as f64;
    (
        sigma2,
        -2.0 * llf + 2.0 * params,
        -2.0 * llf + n.ln() * params,
    )
}

/// Whether every value is the same (no AR model is identified).
pub fn is_constant(y: &[f64]) -> bool {
    y.windows(2).all(|w| w[0] == w[1])
}

/// Fit AR(p) with intercept on the whole series (nobs = n − p).
pub fn fit(y: &[f64], p: usize) -> Result<ArFit, String> {
    fit_with(y, &[], p)
}

/// Fit AR(p) with intercept and exogenous columns (each as long as `y`,
/// linearly independent of the intercept and of each other on t ≥ p; see
/// [`independent_columns`]).
pub fn fit_with(y: &[f64], exog: &[Vec<f64>], p: usize) -> Result<ArFit, String> {
    if is_constant(y) {
        return Err("the series is constant".into());
    }
    let k = exog.len();
    if y.len() < 2 * p + 2 + k {
        return Err(format!(
            "{} points are too few for AR({p}): it needs at least {}",
            y.len(),
            2 * p + 2 + k
        ));
    }
    let m = 1 + k + p;
    // A pure AR from its normal equations (refined), the rest by QR.
    if k == 0
        && let Some(fit) = lagged_fit(y, p)
    {
        let nobs = y.len() - p;
        let (sigma2, aic, bic) = criteria(fit.rss, nobs, m);
        return Ok(ArFit {
            intercept: fit.coefficients[0],
            beta: Vec::new(),
            phi: fit.coefficients[1..].to_vec(),
            sigma2,
            nobs,
            aic,
            bic,
            std_errors: fit
                .inverse_diagonal
                .iter()
                .map(|d| (sigma2 * d).max(0.0).sqrt())
                .collect(),
        });
    }
    let (x, target) = design(y, exog, p, p);
    let ls = LeastSquares::new(x.view(), &target).ok_or("the AR design is empty")?;
    let coefficients = ls.coefficients(m).ok_or_else(|| {
        format!("the lags of AR({p}) are collinear (a constant or perfectly regular series)")
    })?;
    let nobs = target.len();
    let rss = ls.rss(m);
    let (sigma2, aic, bic) = criteria(rss, nobs, m);
    let std_errors = ls
        .inverse_gram(m)
        .map(|inv| {
            (0..m)
                .map(|i| (sigma2 * inv[[i, i]]).max(0.0).sqrt())
                .collect()
        })
        .unwrap_or_else(|| vec![f64::NAN; m]);
    Ok(ArFit {
        intercept: coefficients[0],
        beta: coefficients[1..=k].to_vec(),
        phi: coefficients[1 + k..].to_vec(),
        sigma2,
        nobs,
        aic,
        bic,
        std_errors,
    })
}

/// The order in 0..=max_p with the smallest criterion, every order fitted
/// on the same sample (t ≥ max_p), all from one QR factorisation. Orders
/// whose lags are collinear are skipped.
pub fn select_order(y: &[f64], max_p: usize, criterion: Criterion) -> Result<usize, String> {
    select_order_with(y, &[], max_p, criterion)
}

/// [`select_order`] with exogenous columns in every candidate model.
pub fn select_order_with(
    y: &[f64],
    exog: &[Vec<f64>],
    max_p: usize,
    criterion: Criterion,
) -> Result<usize, String> {
    if is_constant(y) {
        return Err("the series is constant".into());
    }
    let k = exog.len();
    if y.len() < max_p + 2 + k {
        return Err(format!(
            "{} points are too few to compare orders up to {max_p}",
            y.len()
        ));
    }
    let nobs = y.len() - max_p;
    // The RSS of every nested order: from the Gram matrix when it is well
    // conditioned (for a pure AR straight from the series, else from the
    // design: 4× fewer operations than QR), else from one QR factorisation.
    let gram = if k == 0 {
        GramRss::lagged(y, max_p, max_p)
    } else {
        None
    };
    let rss: Vec<Option<f64>> = match gram {
        Some(gram) => (1..=1 + max_p).map(|m| gram.rss(m)).collect(),
        None => {
            let (x, target) = design(y, exog, max_p, max_p);
            match GramRss::new(x.view(), &target) {
                Some(gram) => (1..=1 + k + max_p).map(|m| gram.rss(m)).collect(),
                None => {
                    let ls =
                        LeastSquares::new(x.view(), &target).ok_or("the AR design is empty")?;
                    (1..=1 + k + max_p)
                        .map(|m| ls.coefficients(m).map(|_| ls.rss(m)))
                        .collect()
                }
            }
        }
    };
    let mut best: Option<(f64, usize)> = None;
    for p in 0..=max_p {
        let m = 1 + k + p;
        let Some(rss) = rss[m - 1].filter(|_| nobs > m) else {
            continue;
        };
        let (_, aic, bic) = criteria(rss, nobs, m);
        let value = match criterion {
            Criterion::Aic => aic,
            Criterion::Bic => bic,
        };
        if value.is_finite() && best.is_none_or(|(b, _)| value < b) {
            best = Some((value, p));
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| "no order could be fitted (a constant series?)".to_string())
}

/// Indices of the columns that, on rows `start..`, add something beyond
/// the intercept and the columns kept before them (Gram–Schmidt with a
/// relative tolerance): a festival absent from the sample, or one that
/// always coincides with another, is dropped rather than making the
/// design singular.
pub fn independent_columns(columns: &[Vec<f64>], start: usize) -> Vec<usize> {
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let Some(n) = columns.first().map(|c| c.len().saturating_sub(start)) else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    basis.push(vec![1.0 / (n as f64).sqrt(); n]);
    let mut kept = Vec::new();
    for (j, column) in columns.iter().enumerate() {
        let mut v: Vec<f64> = column[start..].to_vec();
        let norm0 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm0 == 0.0 {
            continue;
        }
        for b in &basis {
            let d: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 1e-8 * norm0 {
            v.iter_mut().for_each(|x| *x /= norm);
            basis.push(v);
            kept.push(j);
        }
    }
    kept
}

/// Coefficients aᵢ of y_t = c + Σ aᵢ y_{t−i} for the original series when
/// the AR(p) was fitted after `d` regular and `seasonal_d` seasonal
/// differences of period `period`: the polynomial φ(B)(1 − B)^d(1 − B^s)^D.
pub fn integrated_coefficients(
    phi: &[f64],
    d: usize,
    period: usize,
    seasonal_d: usize,
) -> Vec<f64> {
    // Polynomials in B as coefficient vectors, B⁰ first.
    let mut poly: Vec<f64> = std::iter::once(1.0).chain(phi.iter().map(|p| -p)).collect();
    let multiply = |a: &[f64], b: &[f64]| {
        let mut out = vec![0.0; a.len() + b.len() - 1];
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                out[i + j] += x * y;
            }
        }
        out
    };
    for _ in 0..d {
        poly = multiply(&poly, &[1.0, -1.0]);
    }
    if period > 0 {
        let mut seasonal = vec![0.0; period + 1];
        seasonal[0] = 1.0;
        seasonal[period] = -1.0;
        for _ in 0..seasonal_d {
            poly = multiply(&poly, &seasonal);
        }
    }
    poly[1..].iter().map(|c| -c).collect()
}

/// ψ-weights ψ₀ … ψ_{h−1} of the MA(∞) form of y_t = c + Σ aᵢ y_{t−i} + e_t:
/// ψ₀ = 1, ψ_j = Σ_{i=1}^{min(j, p)} aᵢ ψ_{j−i}.
pub fn psi_weights(a: &[f64], h: usize) -> Vec<f64> {
    let mut psi = Vec::with_capacity(h);
    for j in 0..h {
        if j == 0 {
            psi.push(1.0);
            continue;
        }
        let v: f64 = (1..=j.min(a.len())).map(|i| a[i - 1] * psi[j - i]).sum();
        psi.push(v);
    }
    psi
}

/// One forecast step: the mean and the interval half-width's standard
/// deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub mean: f64,
    pub std_error: f64,
}

/// h-step forecasts of y_t = c + Σ aᵢ y_{t−i} + e_t from the end of
/// `history`, with standard errors σ √(Σ_{j<h} ψ_j²).
pub fn forecast(c: f64, a: &[f64], sigma2: f64, history: &[f64], h: usize) -> Vec<Step> {
    forecast_with(c, a, &[], sigma2, history, h)
}

/// [`forecast`] with a known extra term per step (the exogenous
/// regressors' contribution β·x at that step; missing entries count 0).
/// Known regressors do not widen the intervals.
pub fn forecast_with(
    c: f64,
    a: &[f64],
    offsets: &[f64],
    sigma2: f64,
    history: &[f64],
    h: usize,
) -> Vec<Step> {
    let mut values: Vec<f64> = history.to_vec();
    let psi = psi_weights(a, h);
    let mut cumulative = 0.0;
    let mut out = Vec::with_capacity(h);
    for weight in psi {
        let t = values.len();
        let mean = c
            + offsets.get(out.len()).copied().unwrap_or(0.0)
            + a.iter()
                .enumerate()
                .map(|(i, ai)| ai * t.checked_sub(i + 1).map_or(0.0, |k| values[k]))
                .sum::<f64>();
        values.push(mean);
        cumulative += weight * weight;
        out.push(Step {
            mean,
            std_error: (sigma2 * cumulative).sqrt(),
        });
    }
    out
}

/// The standard normal quantile Φ⁻¹(p), 0 < p < 1 (Acklam's rational
/// approximation refined by one Halley step: about 1e-15 relative).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let low = 0.02425;
    let x = if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step on Φ(x) − p, with Φ from erfc.
    let e = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    /// The article's example, done right: φ0 = 500, φ = (0.8, 0.6, 0.4) and
    /// last values 800, 900, 1000 (newest last) give 500 + 0.8·1000 +
    /// 0.6·900 + 0.4·800 = 2160 (the article prints 1160).
    #[test]
    fn the_articles_example() {
        let next = forecast(500.0, &[0.8, 0.6, 0.4], 1.0, &[800.0, 900.0, 1000.0], 1);
        assert_eq!(next[0].mean, 2160.0);
        assert_eq!(next[0].std_error, 1.0);
    }

    fn simulate(c: f64, phi: &[f64], n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let burn = 500;
        let mut y = vec![0.0; phi.len()];
        for _ in 0..n + burn {
            let t = y.len();
            let e: f64 = StandardNormal.sample(&mut rng);
            let v = c
                + phi
                    .iter()
                    .enumerate()
                    .map(|(i, p)| p * y[t - 1 - i])
                    .sum::<f64>()
                + e;
            y.push(v);
        }
        y.split_off(y.len() - n)
    }

    #[test]
    fn recovers_known_coefficients_and_order() {
        let y = simulate(2.0, &[0.5, -0.3, 0.2], 5000, 11);
        let fit = fit(&y, 3).unwrap();
        for (got, want) in fit.phi.iter().zip([0.5, -0.3, 0.2]) {
            assert!((got - want).abs() < 0.04, "{:?}", fit.phi);
        }
        assert!((fit.sigma2 - 1.0).abs() < 0.06, "{}", fit.sigma2);
        // Mean of the process c / (1 − Σφ) = 2 / 0.6.
        let mean = fit.intercept / (1.0 - fit.phi.iter().sum::<f64>());
        assert!((mean - 2.0 / 0.6).abs() < 0.15, "{mean}");
        assert_eq!(select_order(&y, 10, Criterion::Bic).unwrap(), 3);
    }

    #[test]
    fn differencing_polynomials() {
        // (1 − 0.5B)(1 − B) = 1 − 1.5B + 0.5B²  →  a = [1.5, −0.5].
        assert_eq!(integrated_coefficients(&[0.5], 1, 0, 0), vec![1.5, -0.5]);
        // (1 − B⁷) alone: y_t = y_{t−7}.
        let a = integrated_coefficients(&[], 0, 7, 1);
        assert_eq!(a, vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        // A random walk's ψ-weights are all 1: variance grows as h σ².
        assert_eq!(psi_weights(&[1.0], 4), vec![1.0, 1.0, 1.0, 1.0]);
        let steps = forecast(0.0, &[1.0], 4.0, &[10.0], 3);
        assert_eq!(steps[2].mean, 10.0);
        assert!((steps[2].std_error - (3.0_f64 * 4.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn normal_quantiles() {
        for (p, z) in [
            (0.975, 1.959_963_984_540_054),
            (0.5, 0.0),
            (0.05, -1.644_853_626_951_472_2),
            (1e-6, -4.753_424_308_822_899),
        ] {
            assert!(
                (normal_quantile(p) - z).abs() < 1e-12,
                "{p}: {}",
                normal_quantile(p)
            );
        }
    }

    #[test]
    fn short_and_constant_series_fail_clearly() {
        assert!(fit(&[1.0, 2.0, 3.0], 2).unwrap_err().contains("too few"));
        assert!(fit(&[5.0; 50], 2).unwrap_err().contains("constant"));
        // Perfectly periodic: the lags are collinear.
        let periodic: Vec<f64> = (0..40).map(|t| f64::from(t % 2)).collect();
        assert!(fit(&periodic, 2).unwrap_err().contains("collinear"));
        assert!(select_order(&[5.0; 50], 4, Criterion::Aic).is_err());
    }

    /// statsmodels 0.15.0 `AutoReg(y, 3, trend='c')` on this series
    /// (tests/reference/ar_statsmodels.py prints every value used here):
    /// coefficients, σ², AIC/BIC, standard errors and the 5-step forecasts
    /// agree to 1e-8 relative; `ar_select_order(maxlag=6)` picks lags 1, 2
    /// by both criteria.
    #[test]
    fn matches_statsmodels_autoreg() {
        let y = [
            112.0, 118.0, 132.0, 129.0, 121.0, 135.0, 148.0, 148.0, 136.0, 119.0, 104.0, 118.0,
            115.0, 126.0, 141.0, 135.0, 125.0, 149.0, 170.0, 170.0, 158.0, 133.0, 114.0, 140.0,
        ];
        let close = |got: f64, want: f64, what: &str| {
            assert!(
                (got - want).abs() <= 1e-8 * want.abs(),
                "{what}: {got} vs {want}"
            );
        };
        let f = fit(&y, 3).unwrap();
        close(f.intercept, 53.46990532332041, "c");
        for (got, want) in
            f.phi
                .iter()
                .zip([1.1416043864548493, -0.8387724626885514, 0.30569030313188683])
        {
            close(*got, want, "phi");
        }
        close(f.sigma2, 130.3158165518099, "sigma2");
        close(f.aic, 171.8645965055538, "aic");
        close(f.bic, 177.08720869417093, "bic");
        assert_eq!(f.nobs, 21);
        for (got, want) in f.std_errors.iter().zip([
            25.976904042992643,
            0.23975290181722492,
            0.3380755372383043,
            0.24480086988773253,
        ]) {
            close(*got, want, "std error");
        }
        let steps = forecast(f.intercept, &f.phi, f.sigma2, &y, 5);
        for (got, want) in steps.iter().zip([
            158.33126899704538,
            151.64212630394798,
            136.5779559044566,
            130.59499276455733,
            134.35542104684663,
        ]) {
            close(got.mean, want, "forecast");
        }
        assert_eq!(select_order(&y, 6, Criterion::Aic).unwrap(), 2);
        assert_eq!(select_order(&y, 6, Criterion::Bic).unwrap(), 2);
    }
}
