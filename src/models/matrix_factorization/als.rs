//! Alternating least squares.
//!
//! Implicit feedback (Hu, Koren & Volinsky 2008): every user–item cell has
//! preference p = 1 if the pair interacted, else 0, with confidence
//! c = 1 + alpha·weight; minimise Σ c(p − xᵤ·yᵢ)² + λ(Σ‖xᵤ‖² + Σ‖yᵢ‖²).
//! Each half step solves (YᵀY + Yᵀ(Cᵤ − I)Y + λI)xᵤ = YᵀCᵤpᵤ per user, either
//! by a few conjugate-gradient steps warm-started from the current factors
//! (Takács, Pilászy & Tikk 2011; the fast default) or exactly by Cholesky.
//!
//! Explicit ratings: r ≈ μ + bᵤ + bᵢ + xᵤ·yᵢ over the observed cells only,
//! minimising Σ (r − r̂)² + λ(Σ nᵤ(‖xᵤ‖² + bᵤ²) + Σ nᵢ(‖yᵢ‖² + bᵢ²)), the
//! regularisation weighted by each row's number of ratings (ALS-WR, Zhou et
//! al. 2008) so it means the same for light and heavy users. Each half step
//! is an exact ridge regression per row, so the loss never goes up.

use std::borrow::Cow;

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::interactions::Csr;
use crate::linalg::{cholesky, cholesky_solve};
use crate::models::parallel;

/// Rows per unit of parallel work.
const CHUNK: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feedback {
    Implicit,
    Explicit,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Solver {
    ConjugateGradient,
    Cholesky,
}

#[derive(Debug, Clone)]
pub struct AlsOptions {
    pub factors: usize,
    pub iterations: usize,
    pub regularization: f32,
    pub alpha: f32,
    pub feedback: Feedback,
    pub seed: u64,
    pub cg_steps: usize,
    pub solver: Solver,
}

/// The learned factors (biases are zero for implicit feedback).
#[derive(Debug, Clone)]
pub struct Factors {
    pub users: Array2<f32>,
    pub items: Array2<f32>,
    pub user_bias: Vec<f32>,
    pub item_bias: Vec<f32>,
    pub global_mean: f32,
}

/// The loss after one iteration.
#[derive(Debug, Clone, Copy)]
pub struct Loss {
    /// The objective, divided by the number of weighted cells (implicit) or
    /// ratings (explicit).
    pub loss: f64,
    /// Root-mean-square error on the training ratings (explicit only).
    pub rmse: Option<f64>,
}

/// Train from the user×item matrix and its transpose.
pub fn train(
    user_items: &Csr,
    item_users: &Csr,
    opts: &AlsOptions,
    mut progress: impl FnMut(usize, Loss) -> bool,
) -> (Factors, Vec<Loss>) {
    let (n_users, n_items, f) = (user_items.rows(), item_users.rows(), opts.factors);
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut users = Array2::<f32>::zeros((n_users, f));
    let mut items = Array2::<f32>::zeros((n_items, f));
    let mut user_bias = vec![0.0_f32; n_users];
    let mut item_bias = vec![0.0_f32; n_items];
    let mut global_mean = 0.0_f32;
    match opts.feedback {
        Feedback::Implicit => {
            // Small positive starting factors, as the CG warm start expects.
            users.mapv_inplace(|_| rng.random::<f32>() * 0.01);
            items.mapv_inplace(|_| rng.random::<f32>() * 0.01);
        }
        Feedback::Explicit => {
            let scale = 0.1 / (f as f32).sqrt().max(1.0);
            items.mapv_inplace(|_| {
                let z: f32 = rng.sample(StandardNormal);
                z * scale
            });
            let nnz = user_items.nnz().max(1);
            global_mean =
                (user_items.values.iter().map(|&v| f64::from(v)).sum::<f64>() / nnz as f64) as f32;
        }
    }
    let mut losses = Vec::with_capacity(opts.iterations);
    for iteration in 1..=opts.iterations {
        match opts.feedback {
            Feedback::Implicit => {
                implicit_step(&mut users, items.view(), user_items, opts);
                implicit_step(&mut items, users.view(), item_users, opts);
            }
            Feedback::Explicit => {
                explicit_step(
                    &mut users,
                    &mut user_bias,
                    items.view(),
                    &item_bias,
                    user_items,
                    opts.regularization,
                    global_mean,
                );
                explicit_step(
                    &mut items,
                    &mut item_bias,
                    users.view(),
                    &user_bias,
                    item_users,
                    opts.regularization,
                    global_mean,
                );
            }
        }
        let factors = FactorsView {
            users: users.view(),
            items: items.view(),
            user_bias: &user_bias,
            item_bias: &item_bias,
            global_mean,
        };
        let loss = match opts.feedback {
            Feedback::Implicit => implicit_loss(&factors, user_items, opts),
            Feedback::Explicit => explicit_loss(&factors, user_items, item_users, opts),
        };
        losses.push(loss);
        // False: the statement was cancelled; its result will be dropped.
        if !progress(iteration, loss) {
            break;
        }
    }
    (
        Factors {
            users,
            items,
            user_bias,
            item_bias,
            global_mean,
        },
        losses,
    )
}

struct FactorsView<'a> {
    users: ArrayView2<'a, f32>,
    items: ArrayView2<'a, f32>,
    user_bias: &'a [f32],
    item_bias: &'a [f32],
    global_mean: f32,
}

/// a·b, in eight lanes so the compiler vectorises it.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0_f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// y += a·x
#[inline(always)]
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// out = M·v for a row-major square matrix M.
#[inline(always)]
fn matvec(m: &[f32], v: &[f32], out: &mut [f32]) {
    let f = v.len();
    for (j, o) in out.iter_mut().enumerate() {
        *o = dot(&m[j * f..(j + 1) * f], v);
    }
}

/// FᵀF (+ λI), row-major.
fn gram(fixed: ArrayView2<'_, f32>, reg: f32) -> Vec<f32> {
    let mut g = fixed.t().dot(&fixed);
    for j in 0..g.nrows() {
        g[[j, j]] += reg;
    }
    g.iter().copied().collect()
}

/// Contiguous rows of a factor matrix (copied only if the view is strided).
fn rows_of<'a>(m: &'a ArrayView2<'_, f32>) -> Cow<'a, [f32]> {
    match m.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(m.iter().copied().collect()),
    }
}

/// One implicit half step: solve every row of `target` against `fixed`.
fn implicit_step(target: &mut Array2<f32>, fixed: ArrayView2<'_, f32>, m: &Csr, opts: &AlsOptions) {
    let yty = gram(fixed, opts.regularization);
    let y = &*rows_of(&fixed);
    let chunks: Vec<_> = target
        .axis_chunks_iter_mut(Axis(0), CHUNK)
        .enumerate()
        .collect();
    let yty = &yty;
    parallel::for_each(chunks, |(c, rows)| {
        let rows = (c * CHUNK, rows);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, the one feature the function
            // is compiled for.
            unsafe { implicit_rows_avx2(rows, yty, y, m, opts) };
            return;
        }
        implicit_rows(rows, yty, y, m, opts);
    });
}

/// [`implicit_rows`] compiled for AVX2 (8 f32 lanes instead of SSE's 4):
/// portable builds cannot assume it, so it is chosen at run time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn implicit_rows_avx2(
    rows: (usize, ArrayViewMut2<'_, f32>),
    yty: &[f32],
    y: &[f32],
    m: &Csr,
    opts: &AlsOptions,
) {
    implicit_rows(rows, yty, y, m, opts);
}

/// Solve the rows `first..` of a chunk of factors.
#[inline(always)]
fn implicit_rows(
    (first, mut rows): (usize, ArrayViewMut2<'_, f32>),
    yty: &[f32],
    y: &[f32],
    m: &Csr,
    opts: &AlsOptions,
) {
    let f = opts.factors;
    let (mut r, mut p, mut ap) = (vec![0.0; f], vec![0.0; f], vec![0.0; f]);
    for (k, mut row) in rows.axis_iter_mut(Axis(0)).enumerate() {
        let (cols, vals) = m.row(first + k);
        let Some(x) = row.as_slice_mut() else {
            continue;
        };
        if cols.is_empty() {
            x.fill(0.0);
            continue;
        }
        match opts.solver {
            Solver::ConjugateGradient => conjugate_gradient(
                x,
                yty,
                y,
                cols,
                vals,
                opts.alpha,
                opts.cg_steps,
                &mut r,
                &mut p,
                &mut ap,
            ),
            Solver::Cholesky => {
                let solved = implicit_exact(yty, y, f, cols, vals, opts.alpha);
                for (xi, si) in x.iter_mut().zip(solved.iter()) {
                    *xi = *si as f32;
                }
            }
        }
    }
}

/// A few CG steps on one row's normal equations, from its current value.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn conjugate_gradient(
    x: &mut [f32],
    yty: &[f32],
    y: &[f32],
    cols: &[u32],
    vals: &[f32],
    alpha: f32,
    steps: usize,
    r: &mut [f32],
    p: &mut [f32],
    ap: &mut [f32],
) {
    let f = x.len();
    // r = b − A·x with A = YᵀY + λI + Σ (c − 1)·y·yᵀ and b = Σ c·y.
    matvec(yty, x, r);
    r.iter_mut().for_each(|v| *v = -*v);
    for (&i, &w) in cols.iter().zip(vals) {
        let yi = &y[i as usize * f..(i as usize + 1) * f];
        let c = 1.0 + alpha * w;
        axpy(c - (c - 1.0) * dot(yi, x), yi, r);
    }
    p.copy_from_slice(r);
    let mut rs_old = dot(r, r);
    for _ in 0..steps {
        if rs_old < 1e-20 {
            break;
        }
        matvec(yty, p, ap);
        for (&i, &w) in cols.iter().zip(vals) {
            let yi = &y[i as usize * f..(i as usize + 1) * f];
            axpy(alpha * w * dot(yi, p), yi, ap);
        }
        let pap = dot(p, ap);
        if pap <= 0.0 || !pap.is_finite() {
            break;
        }
        let a = rs_old / pap;
        axpy(a, p, x);
        axpy(-a, ap, r);
        let rs_new = dot(r, r);
        let beta = rs_new / rs_old;
        for (pi, ri) in p.iter_mut().zip(r.iter()) {
            *pi = ri + beta * *pi;
        }
        rs_old = rs_new;
    }
}

/// The exact solution of one row's implicit normal equations, in f64.
pub fn implicit_exact(
    yty: &[f32],
    y: &[f32],
    f: usize,
    cols: &[u32],
    vals: &[f32],
    alpha: f32,
) -> Array1<f64> {
    let (a, b) = implicit_system(yty, y, f, cols, vals, alpha);
    match cholesky(&a) {
        Some(l) => cholesky_solve(&l, &b),
        None => Array1::zeros(f),
    }
}

/// One row's implicit normal equations A·x = b (A includes λI via `yty`).
pub fn implicit_system(
    yty: &[f32],
    y: &[f32],
    f: usize,
    cols: &[u32],
    vals: &[f32],
    alpha: f32,
) -> (Array2<f64>, Array1<f64>) {
    let mut a = Array2::<f64>::from_shape_fn((f, f), |(j, k)| f64::from(yty[j * f + k]));
    let mut b = Array1::<f64>::zeros(f);
    for (&i, &w) in cols.iter().zip(vals) {
        let yi = &y[i as usize * f..(i as usize + 1) * f];
        let c = 1.0 + f64::from(alpha) * f64::from(w);
        for j in 0..f {
            let yj = f64::from(yi[j]);
            b[j] += c * yj;
            for k in 0..f {
                a[[j, k]] += (c - 1.0) * yj * f64::from(yi[k]);
            }
        }
    }
    (a, b)
}

/// One explicit half step: per row, ridge regression of (rating − μ −
/// other side's bias) on [other side's factors, 1].
fn explicit_step(
    target: &mut Array2<f32>,
    target_bias: &mut [f32],
    fixed: ArrayView2<'_, f32>,
    fixed_bias: &[f32],
    m: &Csr,
    reg: f32,
    mu: f32,
) {
    let f = target.ncols();
    let y = &*rows_of(&fixed);
    let chunks: Vec<_> = target
        .axis_chunks_iter_mut(Axis(0), CHUNK)
        .zip(target_bias.chunks_mut(CHUNK))
        .enumerate()
        .collect();
    parallel::for_each(chunks, |(c, (mut rows, biases))| {
        for (k, (mut row, bias)) in rows.axis_iter_mut(Axis(0)).zip(biases).enumerate() {
            let (cols, vals) = m.row(c * CHUNK + k);
            let Some(x) = row.as_slice_mut() else {
                continue;
            };
            if cols.is_empty() {
                x.fill(0.0);
                *bias = 0.0;
                continue;
            }
            let solved = explicit_exact(y, fixed_bias, f, cols, vals, reg, mu);
            for (xi, si) in x.iter_mut().zip(solved.iter()) {
                *xi = *si as f32;
            }
            *bias = solved[f] as f32;
        }
    });
}

/// One row's explicit ridge solution [x; b].
pub fn explicit_exact(
    y: &[f32],
    fixed_bias: &[f32],
    f: usize,
    cols: &[u32],
    vals: &[f32],
    reg: f32,
    mu: f32,
) -> Array1<f64> {
    let d = f + 1;
    let mut a = Array2::<f64>::zeros((d, d));
    let mut b = Array1::<f64>::zeros(d);
    let mut z = vec![1.0_f64; d];
    for (&i, &r) in cols.iter().zip(vals) {
        let yi = &y[i as usize * f..(i as usize + 1) * f];
        for (zj, yj) in z.iter_mut().zip(yi) {
            *zj = f64::from(*yj);
        }
        let t = f64::from(r) - f64::from(mu) - f64::from(fixed_bias[i as usize]);
        for j in 0..d {
            b[j] += z[j] * t;
            for k in 0..d {
                a[[j, k]] += z[j] * z[k];
            }
        }
    }
    let lambda = f64::from(reg) * cols.len() as f64;
    for j in 0..d {
        a[[j, j]] += lambda.max(1e-9);
    }
    match cholesky(&a) {
        Some(l) => cholesky_solve(&l, &b),
        None => Array1::zeros(d),
    }
}

/// The implicit objective over every cell, computed from the observed ones:
/// Σᵤ xᵤᵀ(YᵀY)xᵤ + Σ_observed [c(1 − s)² − s²] + λ(‖X‖² + ‖Y‖²), s = xᵤ·yᵢ.
fn implicit_loss(v: &FactorsView<'_>, m: &Csr, opts: &AlsOptions) -> Loss {
    let f = opts.factors;
    // Σᵤ xᵤᵀGxᵤ = Σ G ∘ XᵀX: two matrix products instead of a product per user.
    let g = v.items.t().dot(&v.items);
    let xtx = v.users.t().dot(&v.users);
    let mut loss: f64 = g
        .iter()
        .zip(xtx.iter())
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    let y = &*rows_of(&v.items);
    let x_all = &*rows_of(&v.users);
    let alpha = opts.alpha;
    let parts = parallel::map_ranges(m.rows(), CHUNK * 4, |range| {
        let (mut loss, mut extra) = (0.0_f64, 0.0_f64);
        for u in range {
            let x = &x_all[u * f..(u + 1) * f];
            let (cols, vals) = m.row(u);
            for (&i, &w) in cols.iter().zip(vals) {
                let s = f64::from(dot(x, &y[i as usize * f..(i as usize + 1) * f]));
                let c = 1.0 + f64::from(alpha) * f64::from(w);
                loss += c * (1.0 - s) * (1.0 - s) - s * s;
                extra += c - 1.0;
            }
        }
        (loss, extra)
    });
    let (observed, extra) = parts
        .into_iter()
        .fold((0.0, 0.0), |(a, b), (c, d)| (a + c, b + d));
    loss += observed;
    loss += f64::from(opts.regularization) * (f64::from(dot(x_all, x_all)) + f64::from(dot(y, y)));
    let cells = m.rows() as f64 * v.items.nrows() as f64 + extra;
    Loss {
        loss: loss / cells.max(1.0),
        rmse: None,
    }
}

/// The explicit objective and training RMSE.
fn explicit_loss(v: &FactorsView<'_>, m: &Csr, items: &Csr, opts: &AlsOptions) -> Loss {
    let f = opts.factors;
    let y = &*rows_of(&v.items);
    let x_all = &*rows_of(&v.users);
    let reg = f64::from(opts.regularization);
    let parts = parallel::map_ranges(m.rows(), CHUNK * 4, |range| {
        let (mut sse, mut penalty) = (0.0_f64, 0.0_f64);
        for u in range {
            let x = &x_all[u * f..(u + 1) * f];
            let (cols, vals) = m.row(u);
            for (&i, &r) in cols.iter().zip(vals) {
                let pred = v.global_mean
                    + v.user_bias[u]
                    + v.item_bias[i as usize]
                    + dot(x, &y[i as usize * f..(i as usize + 1) * f]);
                sse += f64::from(r - pred).powi(2);
            }
            penalty +=
                reg * cols.len() as f64 * f64::from(dot(x, x) + v.user_bias[u] * v.user_bias[u]);
        }
        (sse, penalty)
    });
    let (sse, mut penalty) = parts
        .into_iter()
        .fold((0.0, 0.0), |(a, b), (c, d)| (a + c, b + d));
    for i in 0..items.rows() {
        let yi = &y[i * f..(i + 1) * f];
        let n = (items.indptr[i + 1] - items.indptr[i]) as f64;
        penalty += reg * n * f64::from(dot(yi, yi) + v.item_bias[i] * v.item_bias[i]);
    }
    let n = m.nnz().max(1) as f64;
    Loss {
        loss: (sse + penalty) / n,
        rmse: Some((sse / n).sqrt()),
    }
}

/// YᵀY + λI of item factors, for solving a new user's row (fold-in).
pub fn item_gram(items: ArrayView2<'_, f32>, reg: f32) -> Vec<f32> {
    gram(items, reg)
}

#[cfg(test)]
mod tests {
    use super::super::interactions::{Csr, Interaction};
    use super::*;

    fn matrix(cells: &[(u32, u32, f32)], users: usize) -> Csr {
        let pairs: Vec<Interaction> = cells
            .iter()
            .map(|&(user, item, value)| Interaction {
                user,
                item,
                value,
                time: 0,
            })
            .collect();
        Csr::from_sorted(users, &pairs)
    }

    fn opts(feedback: Feedback, solver: Solver) -> AlsOptions {
        AlsOptions {
            factors: 3,
            iterations: 8,
            regularization: 0.1,
            alpha: 5.0,
            feedback,
            seed: 7,
            cg_steps: 3,
            solver,
        }
    }

    #[test]
    fn dot_matches_naive_for_every_length() {
        for n in 0..20 {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
            let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-4, "n = {n}");
        }
    }

    #[test]
    fn implicit_loss_goes_down_and_is_deterministic() {
        let cells = [
            (0, 0, 1.0),
            (0, 1, 2.0),
            (1, 0, 1.0),
            (1, 1, 1.0),
            (2, 2, 3.0),
            (2, 3, 1.0),
            (3, 2, 1.0),
            (3, 3, 1.0),
        ];
        let m = matrix(&cells, 4);
        let t = m.transpose(4);
        for solver in [Solver::ConjugateGradient, Solver::Cholesky] {
            let (a, losses) = train(&m, &t, &opts(Feedback::Implicit, solver), |_, _| true);
            for w in losses.windows(2) {
                assert!(w[1].loss <= w[0].loss + 1e-6, "{solver:?}: {losses:?}");
            }
            let (b, _) = train(&m, &t, &opts(Feedback::Implicit, solver), |_, _| true);
            assert_eq!(a.users, b.users);
        }
    }

    #[test]
    fn explicit_fits_a_rank_one_matrix() {
        // r = 3 + u·i for u in 1..4, i in 1..4, all observed.
        let mut cells = Vec::new();
        for u in 0..4 {
            for i in 0..4 {
                cells.push((u, i, 3.0 + ((u + 1) * (i + 1)) as f32 / 4.0));
            }
        }
        let m = matrix(&cells, 4);
        let t = m.transpose(4);
        let mut o = opts(Feedback::Explicit, Solver::Cholesky);
        o.regularization = 1e-4;
        o.iterations = 30;
        let (_, losses) = train(&m, &t, &o, |_, _| true);
        for w in losses.windows(2) {
            assert!(w[1].loss <= w[0].loss + 1e-9, "{losses:?}");
        }
        let rmse = losses.last().and_then(|l| l.rmse).unwrap();
        assert!(rmse < 0.02, "rmse {rmse}");
    }

    /// Interactions of 80 users with 50 items drawn from a fixed seed.
    fn random_matrix() -> (Csr, Csr) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut cells = Vec::new();
        for u in 0..80_u32 {
            for i in 0..50_u32 {
                if rng.random::<f32>() < 0.15 {
                    cells.push((u, i, 1.0 + (rng.random::<f32>() * 4.0).floor()));
                }
            }
        }
        let m = matrix(&cells, 80);
        let t = m.transpose(50);
        (m, t)
    }

    /// The last half step of exact training solves each item's normal
    /// equations (YᵀY + Yᵀ(Cᵢ − I)Y + λI)yᵢ = YᵀCᵢpᵢ given the user factors.
    /// Re-solving them independently in f64 from the stored user factors
    /// gives the stored item factors to 1e-6 (relative; f32 storage
    /// rounds at about 6e-8).
    #[test]
    fn exact_implicit_solution_satisfies_the_normal_equations() {
        let (m, t) = random_matrix();
        let mut o = opts(Feedback::Implicit, Solver::Cholesky);
        o.factors = 6;
        o.iterations = 4;
        let (factors, _) = train(&m, &t, &o, |_, _| true);
        let f = o.factors;
        let users = factors.users.as_standard_layout();
        let y = users.as_slice().unwrap();
        let gram64 = factors
            .users
            .t()
            .mapv(f64::from)
            .dot(&factors.users.mapv(f64::from));
        // YᵀY + λI.
        let yty: Vec<f32> = (0..f * f)
            .map(|jk| {
                let (j, k) = (jk / f, jk % f);
                let reg = if j == k {
                    f64::from(o.regularization)
                } else {
                    0.0
                };
                (gram64[[j, k]] + reg) as f32
            })
            .collect();
        let mut worst = 0.0_f64;
        for i in 0..t.rows() {
            let (cols, vals) = t.row(i);
            let (a, b) = implicit_system(&yty, y, f, cols, vals, o.alpha);
            let exact = cholesky_solve(&cholesky(&a).unwrap(), &b);
            let stored: Vec<f64> = factors.items.row(i).iter().map(|&v| f64::from(v)).collect();
            let norm = exact.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-3);
            let diff = exact
                .iter()
                .zip(&stored)
                .map(|(e, s)| (e - s).powi(2))
                .sum::<f64>()
                .sqrt();
            worst = worst.max(diff / norm);
        }
        assert!(worst < 1e-6, "worst relative difference {worst:e}");
    }

    /// Conjugate gradient with as many steps as factors reaches the exact
    /// solution's loss (to f32 precision).
    #[test]
    fn conjugate_gradient_reaches_the_exact_loss() {
        let (m, t) = random_matrix();
        let mut exact = opts(Feedback::Implicit, Solver::Cholesky);
        exact.factors = 4;
        exact.iterations = 15;
        let mut cg = exact.clone();
        cg.solver = Solver::ConjugateGradient;
        cg.cg_steps = 4;
        let (_, a) = train(&m, &t, &exact, |_, _| true);
        let (_, b) = train(&m, &t, &cg, |_, _| true);
        let (la, lb) = (a.last().unwrap().loss, b.last().unwrap().loss);
        assert!((la - lb).abs() <= 1e-3 * la, "exact {la}, cg {lb}");
    }
}
