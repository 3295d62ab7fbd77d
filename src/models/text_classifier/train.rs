//! The fit: L2-regularised (multinomial) logistic regression on sparse rows
//! by L-BFGS. The objective is (Σᵢ aᵢ·(−log pᵢ,yᵢ) + l2/2·‖W‖²) / Σᵢ aᵢ, the
//! intercepts unpenalised; aᵢ is 1, or n/(k·n_class) with balanced weights.

use super::Corpus;
use super::model::{TextClassifier, softmax};
use crate::engine::Notices;
use crate::models::lbfgs::{self, minimize};
use crate::models::parallel;

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub l2: f64,
    pub max_iter: usize,
    pub balanced: bool,
}

pub struct Fit {
    pub weights: Vec<f32>,
    pub biases: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
    pub objective: f64,
}

/// The fit's data and constants.
struct Problem<'a> {
    corpus: &'a Corpus,
    rows: &'a [usize],
    /// Per class.
    row_weights: &'a [f64],
    k: usize,
    dim: usize,
    l2: f64,
}

/// Objective and gradient at `x` (weights row-major, then intercepts).
fn objective(problem: &Problem<'_>, x: &[f64], gradient: &mut [f64]) -> f64 {
    let Problem {
        corpus,
        rows,
        row_weights,
        k,
        dim,
        l2,
    } = *problem;
    let free = TextClassifier::free_rows(k);
    let first = k - free;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = parallel::map_ranges(rows.len(), rows.len().div_ceil(threads), |range| {
        let mut g = vec![0.0; x.len()];
        let mut loss = 0.0;
        let mut z = vec![0.0; k];
        for &i in &rows[range] {
            let (idx, val) = corpus.row(i);
            z[..first].iter_mut().for_each(|v| *v = 0.0);
            for r in 0..free {
                let w = &x[r * dim..(r + 1) * dim];
                z[first + r] = x[free * dim + r]
                    + idx
                        .iter()
                        .zip(val)
                        .map(|(&j, &v)| w[j as usize] * f64::from(v))
                        .sum::<f64>();
            }
            let y = corpus.labels[i] as usize;
            let a = row_weights[y];
            let max = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
            let lse = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            loss += a * (lse - z[y]);
            softmax(&mut z);
            for r in 0..free {
                let c = first + r;
                let d = a * (z[c] - if c == y { 1.0 } else { 0.0 });
                g[free * dim + r] += d;
                let gw = &mut g[r * dim..(r + 1) * dim];
                for (&j, &v) in idx.iter().zip(val) {
                    gw[j as usize] += d * f64::from(v);
                }
            }
        }
        (loss, g)
    });
    let total: f64 = rows
        .iter()
        .map(|&i| row_weights[corpus.labels[i] as usize])
        .sum();
    gradient.iter_mut().for_each(|g| *g = 0.0);
    let mut value = 0.0;
    for (loss, g) in parts {
        value += loss;
        gradient.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
    }
    for (g, w) in gradient[..free * dim].iter_mut().zip(&x[..free * dim]) {
        value += 0.5 * l2 * w * w;
        *g += l2 * w;
    }
    gradient.iter_mut().for_each(|g| *g /= total);
    value / total
}

pub(super) fn fit(
    corpus: &Corpus,
    rows: &[usize],
    k: usize,
    dim: usize,
    settings: Settings,
    notices: &Notices,
) -> Fit {
    let free = TextClassifier::free_rows(k);
    let mut counts = vec![0_usize; k];
    for &i in rows {
        counts[corpus.labels[i] as usize] += 1;
    }
    let row_weights: Vec<f64> = counts
        .iter()
        .map(|&c| {
            if settings.balanced && c > 0 {
                rows.len() as f64 / (k as f64 * c as f64)
            } else {
                1.0
            }
        })
        .collect();
    // Start from the class frequencies (intercepts = log priors), so the
    // first iterations are spent on the words.
    let mut x = vec![0.0; free * dim + free];
    let prior = |c: usize| ((counts[c] as f64 + 0.5) / (rows.len() as f64 + 0.5 * k as f64)).ln();
    for r in 0..free {
        let c = k - free + r;
        x[free * dim + r] = if free == k {
            prior(c)
        } else {
            prior(c) - prior(0)
        };
    }
    let minimum = minimize(
        x,
        lbfgs::Settings {
            max_iter: settings.max_iter,
            ..lbfgs::Settings::default()
        },
        |x, g| {
            let problem = Problem {
                corpus,
                rows,
                row_weights: &row_weights,
                k,
                dim,
                l2: settings.l2,
            };
            objective(&problem, x, g)
        },
        |iteration, value| {
            if iteration == 1 || iteration % 10 == 0 {
                notices.send(format!("iteration {iteration}: objective {value:.6}"));
            }
            !notices.cancelled()
        },
    );
    Fit {
        weights: minimum.x[..free * dim].iter().map(|&w| w as f32).collect(),
        biases: minimum.x[free * dim..].to_vec(),
        iterations: minimum.iterations,
        converged: minimum.converged,
        objective: minimum.value,
    }
}

/// [`fit`] in the space of the features the training rows use, then the
/// weights put back at their hashed indices. Any other feature's gradient
/// is l2·w, zero from zero, so its weight stays 0 either way; fitting
/// without them makes an iteration cost O(features used) instead of
/// O(2^hash_bits) per class.
pub(super) fn fit_used(
    corpus: &Corpus,
    rows: &[usize],
    k: usize,
    dim: usize,
    settings: Settings,
    notices: &Notices,
) -> Fit {
    let mut slot = vec![u32::MAX; dim];
    let mut used: Vec<u32> = Vec::new();
    let mut compact = Corpus {
        indptr: vec![0],
        ..Corpus::default()
    };
    for &i in rows {
        let (indices, values) = corpus.row(i);
        for (&j, &v) in indices.iter().zip(values) {
            let s = &mut slot[j as usize];
            if *s == u32::MAX {
                *s = used.len() as u32;
                used.push(j);
            }
            compact.indices.push(*s);
            compact.values.push(v);
        }
        compact.indptr.push(compact.indices.len());
        compact.labels.push(corpus.labels[i]);
    }
    let local: Vec<usize> = (0..rows.len()).collect();
    let fit = fit(&compact, &local, k, used.len(), settings, notices);
    let free = TextClassifier::free_rows(k);
    let mut weights = vec![0.0_f32; free * dim];
    for r in 0..free {
        for (c, &j) in used.iter().enumerate() {
            weights[r * dim + j as usize] = fit.weights[r * used.len() + c];
        }
    }
    Fit { weights, ..fit }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with one feature each: feature 1 on 3 of 4 positive rows and 1 of
    /// 4 negative ones.
    fn corpus() -> Corpus {
        let mut c = Corpus {
            indptr: vec![0],
            ..Corpus::default()
        };
        for (feature, label) in [
            (1, 1),
            (1, 1),
            (1, 1),
            (2, 1),
            (1, 0),
            (2, 0),
            (2, 0),
            (2, 0),
        ] {
            c.indices.push(feature);
            c.values.push(1.0);
            c.indptr.push(c.indices.len());
            c.labels.push(label);
            c.builtin.push(0.0);
            c.hashes.push(0);
        }
        c
    }

    #[test]
    fn unregularised_fit_matches_the_closed_form() {
        // With one-hot rows and no penalty the fitted probabilities are the
        // class frequencies per feature: P(1 | f1) = 3/4, P(1 | f2) = 1/4.
        let c = corpus();
        let rows: Vec<usize> = (0..8).collect();
        let fit = fit(
            &c,
            &rows,
            2,
            4,
            Settings {
                l2: 0.0,
                max_iter: 500,
                balanced: false,
            },
            &Notices::none(),
        );
        let p = |f: usize| 1.0 / (1.0 + (-(fit.biases[0] + f64::from(fit.weights[f]))).exp());
        assert!((p(1) - 0.75).abs() < 1e-4, "{}", p(1));
        assert!((p(2) - 0.25).abs() < 1e-4, "{}", p(2));
    }

    #[test]
    fn fitting_only_used_features_gives_the_same_model() {
        let c = corpus();
        let rows: Vec<usize> = (0..8).collect();
        let settings = Settings {
            l2: 0.5,
            max_iter: 500,
            balanced: true,
        };
        let full = fit(&c, &rows, 2, 16, settings, &Notices::none());
        let used = fit_used(&c, &rows, 2, 16, settings, &Notices::none());
        assert_eq!(used.weights.len(), 16);
        for (a, b) in full.weights.iter().zip(&used.weights) {
            assert!(
                (a - b).abs() < 1e-5,
                "{:?} vs {:?}",
                full.weights,
                used.weights
            );
        }
        assert!((full.biases[0] - used.biases[0]).abs() < 1e-5);
        // Features no row has keep weight 0.
        assert_eq!(used.weights[5], 0.0);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let c = corpus();
        let rows: Vec<usize> = (0..8).collect();
        // Three classes: relabel two rows as class 2.
        let mut c3 = corpus();
        c3.labels[0] = 2;
        c3.labels[5] = 2;
        for (corpus, k) in [(&c, 2), (&c3, 3)] {
            let free = TextClassifier::free_rows(k);
            let n = free * 4 + free;
            let x: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 - 0.3).collect();
            let weights = vec![1.0, 2.0, 0.5];
            let mut g = vec![0.0; n];
            let problem = Problem {
                corpus,
                rows: &rows,
                row_weights: &weights,
                k,
                dim: 4,
                l2: 0.7,
            };
            objective(&problem, &x, &mut g);
            for i in 0..n {
                let (mut up, mut down) = (x.clone(), x.clone());
                up[i] += 1e-6;
                down[i] -= 1e-6;
                let mut scratch = vec![0.0; n];
                let numeric = (objective(&problem, &up, &mut scratch)
                    - objective(&problem, &down, &mut scratch))
                    / 2e-6;
                assert!(
                    (numeric - g[i]).abs() < 1e-6,
                    "k={k} i={i}: {numeric} vs {}",
                    g[i]
                );
            }
        }
    }
}
