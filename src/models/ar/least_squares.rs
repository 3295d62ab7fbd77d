//! Least squares by Householder QR of the augmented matrix [X | y]: the
//! coefficients of every leading block of columns, and their residual sums
//! of squares, from one factorisation. AR order selection uses this: with
//! the lag columns in order, the model with the first m columns is AR(m − 1)
//! on the same sample, so every candidate order costs one back-substitution
//! instead of a refit.

use ndarray::{Array2, ArrayView2};

/// A factorised least-squares problem.
#[derive(Debug, Clone)]
pub struct LeastSquares {
    /// R (k × k, upper triangular).
    r: Array2<f64>,
    /// Qᵀy (one entry per row of X).
    z: Vec<f64>,
    /// Largest |Rᵢᵢ|, to judge rank.
    scale: f64,
}

impl LeastSquares {
    /// Factorise X (n × k, n ≥ k) with right-hand side y.
    pub fn new(x: ArrayView2<'_, f64>, y: &[f64]) -> Option<Self> {
        let (n, k) = x.dim();
        if n < k || y.len() != n || k == 0 {
            return None;
        }
        // Column-major copy: every step below walks whole columns, so they
        // must be contiguous for the loops to vectorise (a series fit is
        // dominated by this factorisation).
        let mut a: Vec<f64> = Vec::with_capacity(n * k);
        for j in 0..k {
            a.extend(x.column(j).iter());
        }
        let mut z = y.to_vec();
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, the one feature the function
            // is compiled for.
            unsafe { householder_avx2(&mut a, &mut z, n, k) };
        } else {
            householder(&mut a, &mut z, n, k);
        }
        #[cfg(not(target_arch = "x86_64"))]
        householder(&mut a, &mut z, n, k);
        let r = Array2::from_shape_fn((k, k), |(i, j)| if j >= i { a[j * n + i] } else { 0.0 });
        let scale = (0..k).map(|i| r[[i, i]].abs()).fold(0.0, f64::max);
        Some(Self { r, z, scale })
    }

    pub fn columns(&self) -> usize {
        self.r.nrows()
    }

    /// Residual sum of squares of the model with the first `m` columns.
    pub fn rss(&self, m: usize) -> f64 {
        self.z[m.min(self.z.len())..].iter().map(|v| v * v).sum()
    }

    /// Coefficients of the model with the first `m` columns, or None when
    /// those columns are (numerically) linearly dependent.
    pub fn coefficients(&self, m: usize) -> Option<Vec<f64>> {
        if m > self.columns() {
            return None;
        }
        let tol = self.scale * 1e-10 * self.z.len().max(1) as f64;
        let mut beta = vec![0.0; m];
        for i in (0..m).rev() {
            let d = self.r[[i, i]];
            if d.abs() <= tol || !d.is_finite() {
                return None;
            }
            let s: f64 = (i + 1..m).map(|j| self.r[[i, j]] * beta[j]).sum();
            beta[i] = (self.z[i] - s) / d;
        }
        Some(beta)
    }

    /// (XᵀX)⁻¹ of the first `m` columns, for standard errors: R⁻¹R⁻ᵀ.
    pub fn inverse_gram(&self, m: usize) -> Option<Array2<f64>> {
        // R⁻¹ column by column (upper triangular).
        let mut inv = Array2::<f64>::zeros((m, m));
        for c in 0..m {
            for i in (0..=c).rev() {
                let d = self.r[[i, i]];
                if d == 0.0 {
                    return None;
                }
                let target = if i == c { 1.0 } else { 0.0 };
                let s: f64 = (i + 1..=c).map(|j| self.r[[i, j]] * inv[[j, c]]).sum();
                inv[[i, c]] = (target - s) / d;
            }
        }
        Some(inv.dot(&inv.t()))
    }
}

/// [`householder`] compiled for AVX2 (4 f64 lanes instead of SSE's 2):
/// portable builds cannot assume it, so it is chosen at run time. Without
/// FMA, so both paths round identically.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn householder_avx2(a: &mut [f64], z: &mut [f64], n: usize, k: usize) {
    householder(a, z, n, k);
}

/// Householder QR in place of the column-major n × k matrix `a` (R ends up
/// in its upper triangle), applying the same reflections to `z`.
#[inline(always)]
fn householder(a: &mut [f64], z: &mut [f64], n: usize, k: usize) {
    let mut v = vec![0.0; n];
    for j in 0..k {
        let column = &a[j * n + j..(j + 1) * n];
        // The Householder vector that zeroes column j below the diagonal.
        let norm = dot(column, column).sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if column[0] > 0.0 { -norm } else { norm };
        let v = &mut v[j..];
        v.copy_from_slice(column);
        v[0] -= alpha;
        let vv = dot(v, v);
        if vv == 0.0 {
            continue;
        }
        for c in j..k {
            let target = &mut a[c * n + j..(c + 1) * n];
            let d = dot(v, target) * 2.0 / vv;
            target
                .iter_mut()
                .zip(v.iter())
                .for_each(|(t, vi)| *t -= d * vi);
        }
        let target = &mut z[j..];
        let d = dot(v, target) * 2.0 / vv;
        target
            .iter_mut()
            .zip(v.iter())
            .for_each(|(t, vi)| *t -= d * vi);
    }
}

/// Residual sums of squares of every leading block of columns (the first
/// column being the intercept), from the Cholesky factor of the Gram matrix
/// of the centred columns: n·k²/2 multiply-adds instead of QR's 2·n·k².
/// Order selection only compares RSS values, so the precision lost by
/// squaring the (centred, hence modest) condition number is affordable;
/// where it is not (nearly dependent columns, a nearly exact fit) `new`
/// returns None and the caller uses [`LeastSquares`].
#[derive(Debug, Clone)]
pub struct GramRss {
    /// rss[m − 1]: the model with the first m columns.
    rss: Vec<f64>,
}

impl GramRss {
    pub fn new(x: ArrayView2<'_, f64>, y: &[f64]) -> Option<Self> {
        let (n, k) = x.dim();
        if n < k || y.len() != n || k == 0 || n == 0 {
            return None;
        }
        let centred = |v: &mut Vec<f64>| {
            let mean = v.iter().sum::<f64>() / n as f64;
            v.iter_mut().for_each(|x| *x -= mean);
        };
        let mut yc = y.to_vec();
        centred(&mut yc);
        let columns: Vec<Vec<f64>> = (1..k)
            .map(|j| {
                let mut c = x.column(j).to_vec();
                centred(&mut c);
                c
            })
            .collect();
        let q = k - 1;
        let mut gram = vec![0.0; q * q];
        let mut xy = vec![0.0; q];
        for i in 0..q {
            for j in 0..=i {
                gram[i * q + j] = dot(&columns[i], &columns[j]);
            }
            xy[i] = dot(&columns[i], &yc);
        }
        Self::from_centred(&gram, &xy, dot(&yc, &yc), q)
    }

    /// The RSS of AR(0..=p) with intercept on rows t = start..n of `y`
    /// (start ≥ p), without building the lagged design: its Gram matrix is
    /// nearly Toeplitz, Σ y_{t−i}·y_{t−j} over the sample, so each entry
    /// follows from its upper-left neighbour by one term in and one out.
    /// p + 1 dot products and O(p²) updates instead of p²/2 dot products.
    pub fn lagged(y: &[f64], p: usize, start: usize) -> Option<Self> {
        let n = y.len();
        if start < p || n <= start + p + 1 {
            return None;
        }
        let (g, sums, rows) = lagged_moments(y, p, start);
        let w = p + 1;
        let centred = |i: usize, j: usize| {
            let (a, b) = (i.min(j), i.max(j));
            g[a * w + b] - sums[a] * sums[b] / rows
        };
        let mut gram = vec![0.0; p * p];
        let mut xy = vec![0.0; p];
        for i in 0..p {
            for j in 0..=i {
                gram[i * p + j] = centred(i + 1, j + 1);
            }
            xy[i] = centred(i + 1, 0);
        }
        Self::from_centred(&gram, &xy, centred(0, 0), p)
    }

    /// Cholesky of the centred Gram matrix (lower triangle of `gram`, q × q,
    /// row-major), with Xᵀy `xy` and yᵀy `yy`: the RSS of every leading
    /// block, or None when a pivot or the residual is too small to trust.
    fn from_centred(gram: &[f64], xy: &[f64], yy: f64, q: usize) -> Option<Self> {
        let mut rss = Vec::with_capacity(q + 1);
        rss.push(yy);
        // L row by row (lower triangular, q × q) and L⁻¹Xᵀy as b.
        let mut l = vec![0.0; q * q];
        let mut b = vec![0.0; q];
        let mut remaining = yy;
        for i in 0..q {
            let gii = gram[i * q + i];
            for j in 0..i {
                let s: f64 = (0..j).map(|c| l[i * q + c] * l[j * q + c]).sum();
                l[i * q + j] = (gram[i * q + j] - s) / l[j * q + j];
            }
            let d = gii - (0..i).map(|c| l[i * q + c].powi(2)).sum::<f64>();
            if d.is_nan() || d <= 1e-9 * gii {
                return None;
            }
            let lii = d.sqrt();
            l[i * q + i] = lii;
            let s: f64 = (0..i).map(|c| l[i * q + c] * b[c]).sum();
            b[i] = (xy[i] - s) / lii;
            remaining -= b[i] * b[i];
            if remaining.is_nan() || remaining <= 1e-9 * yy {
                return None;
            }
            rss.push(remaining);
        }
        Some(Self { rss })
    }

    /// RSS of the model with the first `m` columns (1 ≤ m ≤ k).
    pub fn rss(&self, m: usize) -> Option<f64> {
        m.checked_sub(1).and_then(|i| self.rss.get(i)).copied()
    }
}

/// Moments of the lagged design of `y` on rows start..n, with every value
/// shifted by the series mean (which leaves models with an intercept
/// unchanged and keeps the products small): g[i·(p+1) + j] =
/// Σ z_{t−i}·z_{t−j} for lags 0 ≤ i ≤ j ≤ p (lag 0 is the target), the
/// column sums, and the number of rows. Each entry of g follows from its
/// upper-left neighbour by one term in and one out.
fn lagged_moments(y: &[f64], p: usize, start: usize) -> (Vec<f64>, Vec<f64>, f64) {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let z: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let w = p + 1;
    let mut g = vec![0.0; w * w];
    for j in 0..w {
        g[j] = dot(&z[start..], &z[start - j..n - j]);
    }
    for i in 0..p {
        for j in i..p {
            g[(i + 1) * w + j + 1] =
                g[i * w + j] + z[start - 1 - i] * z[start - 1 - j] - z[n - 1 - i] * z[n - 1 - j];
        }
    }
    let mut sums = vec![0.0; w];
    sums[0] = z[start..].iter().sum::<f64>();
    for i in 0..p {
        sums[i + 1] = sums[i] + z[start - 1 - i] - z[n - 1 - i];
    }
    (g, sums, (n - start) as f64)
}

/// An AR(p) with intercept fitted on rows p..n of `y`.
#[derive(Debug, Clone)]
pub struct LaggedFit {
    /// [c, φ₁, …, φ_p].
    pub coefficients: Vec<f64>,
    pub rss: f64,
    /// The diagonal of (XᵀX)⁻¹ of the design [1, y_{t−1}, …, y_{t−p}].
    pub inverse_diagonal: Vec<f64>,
}

/// Least squares for a pure AR from the normal equations of the centred
/// lags (their Gram matrix from [`lagged_moments`], O(n·p) instead of QR's
/// O(n·p²)), with two steps of iterative refinement against the actual
/// residuals, which brings the coefficients to QR's accuracy for any
/// reasonably conditioned design. None when the Cholesky factorisation
/// meets a small pivot: the caller then uses QR.
pub fn lagged_fit(y: &[f64], p: usize) -> Option<LaggedFit> {
    let n = y.len();
    if n <= 2 * p + 1 {
        return None;
    }
    let start = p;
    let (g, sums, rows) = lagged_moments(y, p, start);
    let w = p + 1;
    let mean = y.iter().sum::<f64>() / n as f64;
    let z: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let m: Vec<f64> = sums.iter().map(|s| s / rows).collect();
    // Cholesky of the centred Gram matrix of the lags, C = L·Lᵀ.
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        let gii = g[(i + 1) * w + i + 1] - sums[i + 1] * sums[i + 1] / rows;
        for j in 0..i {
            let cij = g[(j + 1) * w + i + 1] - sums[i + 1] * sums[j + 1] / rows;
            let s: f64 = (0..j).map(|c| l[i * p + c] * l[j * p + c]).sum();
            l[i * p + j] = (cij - s) / l[j * p + j];
        }
        let d = gii - (0..i).map(|c| l[i * p + c].powi(2)).sum::<f64>();
        if d.is_nan() || d <= 1e-9 * gii {
            return None;
        }
        l[i * p + i] = d.sqrt();
    }
    let solve = |rhs: &[f64]| -> Vec<f64> {
        let mut v = rhs.to_vec();
        for i in 0..p {
            let s: f64 = (0..i).map(|c| l[i * p + c] * v[c]).sum();
            v[i] = (v[i] - s) / l[i * p + i];
        }
        for i in (0..p).rev() {
            let s: f64 = (i + 1..p).map(|r| l[r * p + i] * v[r]).sum();
            v[i] = (v[i] - s) / l[i * p + i];
        }
        v
    };
    let xy: Vec<f64> = (0..p)
        .map(|i| g[i + 1] - sums[0] * sums[i + 1] / rows)
        .collect();
    let mut phi = solve(&xy);
    let mut c = m[0] - (0..p).map(|j| phi[j] * m[j + 1]).sum::<f64>();
    let residuals = |phi: &[f64], c: f64| -> Vec<f64> {
        let mut r: Vec<f64> = z[start..].iter().map(|v| v - c).collect();
        for (j, f) in phi.iter().enumerate() {
            let lag = &z[start - 1 - j..n - 1 - j];
            r.iter_mut().zip(lag).for_each(|(r, x)| *r -= f * x);
        }
        r
    };
    for _ in 0..2 {
        let r = residuals(&phi, c);
        let total: f64 = r.iter().sum();
        let h: Vec<f64> = (0..p)
            .map(|j| dot(&z[start - 1 - j..n - 1 - j], &r) - m[j + 1] * total)
            .collect();
        let delta = solve(&h);
        phi.iter_mut().zip(&delta).for_each(|(f, d)| *f += d);
        c += total / rows - (0..p).map(|j| delta[j] * m[j + 1]).sum::<f64>();
    }
    let r = residuals(&phi, c);
    let rss = dot(&r, &r);
    // (XᵀX)⁻¹ of [1, lags] in y units: the lags' block is C⁻¹ (centring
    // does not change it) and the intercept's entry 1/N + Mᵀ C⁻¹ M, with M
    // the lag columns' means.
    let mut linv = vec![0.0; p * p];
    for col in 0..p {
        for i in col..p {
            let target = if i == col { 1.0 } else { 0.0 };
            let s: f64 = (col..i).map(|c| l[i * p + c] * linv[c * p + col]).sum();
            linv[i * p + col] = (target - s) / l[i * p + i];
        }
    }
    let means: Vec<f64> = (0..p).map(|j| m[j + 1] + mean).collect();
    let mut lm = vec![0.0; p];
    for i in 0..p {
        lm[i] = (0..=i).map(|c| linv[i * p + c] * means[c]).sum();
    }
    let mut inverse_diagonal = Vec::with_capacity(w);
    inverse_diagonal.push(1.0 / rows + dot(&lm, &lm));
    for j in 0..p {
        inverse_diagonal.push((j..p).map(|k| linv[k * p + j].powi(2)).sum());
    }
    let mut coefficients = Vec::with_capacity(w);
    coefficients.push(c + mean * (1.0 - phi.iter().sum::<f64>()));
    coefficients.extend(phi);
    Some(LaggedFit {
        coefficients,
        rss,
        inverse_diagonal,
    })
}

/// Σ aᵢbᵢ in sixteen independent lanes, so the compiler can use SIMD
/// registers and keep several additions in flight (a single running sum
/// must keep its order and cannot). Inlined so it takes its caller's
/// target features.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 16;
    let mut lanes = [0.0; LANES];
    let (a16, b16) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = a16
        .remainder()
        .iter()
        .zip(b16.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a16.zip(b16) {
        for l in 0..LANES {
            lanes[l] += x[l] * y[l];
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            lanes[l] += lanes[l + width];
        }
    }
    lanes[0] + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn fits_a_line_exactly_and_reports_nested_rss() {
        // y = 1 + 2x exactly, plus an irrelevant third column.
        let x = array![
            [1.0, 0.0, 5.0],
            [1.0, 1.0, -1.0],
            [1.0, 2.0, 0.5],
            [1.0, 3.0, 2.0]
        ];
        let y = [1.0, 3.0, 5.0, 7.0];
        let ls = LeastSquares::new(x.view(), &y).unwrap();
        let b = ls.coefficients(2).unwrap();
        assert!(
            (b[0] - 1.0).abs() < 1e-12 && (b[1] - 2.0).abs() < 1e-12,
            "{b:?}"
        );
        assert!(ls.rss(2) < 1e-20);
        // Intercept only: the mean 4, residuals -3, -1, 1, 3.
        assert!((ls.coefficients(1).unwrap()[0] - 4.0).abs() < 1e-12);
        assert!((ls.rss(1) - 20.0).abs() < 1e-9);
        assert!(ls.rss(3) <= ls.rss(2) + 1e-20);
    }

    #[test]
    fn inverse_gram_matches_the_normal_equations() {
        let x = array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]];
        let ls = LeastSquares::new(x.view(), &[0.0, 0.0, 0.0]).unwrap();
        // XᵀX = [[3, 3], [3, 5]], inverse = [[5, -3], [-3, 3]] / 6.
        let inv = ls.inverse_gram(2).unwrap();
        let expected = array![[5.0, -3.0], [-3.0, 3.0]] / 6.0;
        assert!((&inv - &expected).iter().all(|d| d.abs() < 1e-12), "{inv}");
    }

    #[test]
    fn gram_rss_agrees_with_qr() {
        let x = Array2::from_shape_fn((40, 4), |(i, j)| match j {
            0 => 1.0,
            _ => ((i * 7 + j * 13) % 17) as f64 + 0.1 * (i * j) as f64,
        });
        let y: Vec<f64> = (0..40).map(|i| 3.0 + ((i * i) % 11) as f64).collect();
        let qr = LeastSquares::new(x.view(), &y).unwrap();
        let gram = GramRss::new(x.view(), &y).unwrap();
        for m in 1..=4 {
            let (a, b) = (qr.rss(m), gram.rss(m).unwrap());
            assert!((a - b).abs() < 1e-9 * a, "m = {m}: {a} vs {b}");
        }
        // An exact fit is left to QR.
        let exact: Vec<f64> = (0..40).map(|i| 2.0 * x[[i, 1]] + 1.0).collect();
        assert!(GramRss::new(x.view(), &exact).is_none());
    }

    #[test]
    fn lagged_gram_agrees_with_the_design() {
        // An irregular series; AR(0..=5) on rows 7.. (start > p too).
        let y: Vec<f64> = (0..200)
            .map(|i| 1000.0 + ((i * 37 + i * i * 11) % 101) as f64 + 0.01 * i as f64)
            .collect();
        for (p, start) in [(5, 5), (5, 7), (1, 1)] {
            let rows = y.len() - start;
            let x =
                Array2::from_shape_fn(
                    (rows, p + 1),
                    |(r, j)| {
                        if j == 0 { 1.0 } else { y[start + r - j] }
                    },
                );
            let qr = LeastSquares::new(x.view(), &y[start..]).unwrap();
            let lagged = GramRss::lagged(&y, p, start).unwrap();
            for m in 1..=p + 1 {
                let (a, b) = (qr.rss(m), lagged.rss(m).unwrap());
                assert!(
                    (a - b).abs() < 1e-8 * a,
                    "p {p} start {start} m {m}: {a} vs {b}"
                );
            }
        }
        assert!(GramRss::lagged(&y[..5], 4, 4).is_none());
    }

    #[test]
    fn lagged_fit_matches_qr() {
        // A noisy AR(2) around a level of 5000 (the scale of sales data).
        let mut y = vec![5000.0, 5010.0];
        for t in 2..400 {
            let e = (((t * 7919) % 1009) as f64 / 1009.0 - 0.5) * 80.0;
            let v = 1500.0 + 0.5 * y[t - 1] + 0.2 * y[t - 2] + e;
            y.push(v);
        }
        for p in [0, 1, 2, 7, 15] {
            let rows = y.len() - p;
            let x = Array2::from_shape_fn(
                (rows, p + 1),
                |(r, j)| {
                    if j == 0 { 1.0 } else { y[p + r - j] }
                },
            );
            let qr = LeastSquares::new(x.view(), &y[p..]).unwrap();
            let fit = lagged_fit(&y, p).unwrap();
            let beta = qr.coefficients(p + 1).unwrap();
            for (a, b) in beta.iter().zip(&fit.coefficients) {
                assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(1e-3),
                    "p {p}: {beta:?} vs {:?}",
                    fit.coefficients
                );
            }
            assert!((qr.rss(p + 1) - fit.rss).abs() < 1e-10 * fit.rss);
            let inv = qr.inverse_gram(p + 1).unwrap();
            for (j, d) in fit.inverse_diagonal.iter().enumerate() {
                assert!(
                    (inv[[j, j]] - d).abs() < 1e-7 * d,
                    "p {p} j {j}: {} vs {d}",
                    inv[[j, j]]
                );
            }
        }
        assert!(lagged_fit(&y[..5], 2).is_none());
    }

    #[test]
    fn dependent_columns_have_no_coefficients() {
        let x = array![[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]];
        let ls = LeastSquares::new(x.view(), &[1.0, 2.0, 3.0]).unwrap();
        assert!(ls.coefficients(2).is_none());
        assert!(ls.coefficients(1).is_some());
    }
}
