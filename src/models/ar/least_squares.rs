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
        let yy = dot(&yc, &yc);
        let mut rss = Vec::with_capacity(k);
        rss.push(yy);
        let q = k - 1;
        // L row by row (lower triangular, q × q) and L⁻¹Xᵀy as b.
        let mut l = vec![0.0; q * q];
        let mut b = vec![0.0; q];
        let mut remaining = yy;
        for i in 0..q {
            let gii = dot(&columns[i], &columns[i]);
            for j in 0..i {
                let gij = dot(&columns[i], &columns[j]);
                let s: f64 = (0..j).map(|c| l[i * q + c] * l[j * q + c]).sum();
                l[i * q + j] = (gij - s) / l[j * q + j];
            }
            let d = gii - (0..i).map(|c| l[i * q + c].powi(2)).sum::<f64>();
            if d.is_nan() || d <= 1e-9 * gii {
                return None;
            }
            let lii = d.sqrt();
            l[i * q + i] = lii;
            let s: f64 = (0..i).map(|c| l[i * q + c] * b[c]).sum();
            b[i] = (dot(&columns[i], &yc) - s) / lii;
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
    fn dependent_columns_have_no_coefficients() {
        let x = array![[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]];
        let ls = LeastSquares::new(x.view(), &[1.0, 2.0, 3.0]).unwrap();
        assert!(ls.coefficients(2).is_none());
        assert!(ls.coefficients(1).is_some());
    }
}
