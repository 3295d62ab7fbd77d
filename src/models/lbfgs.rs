//! Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, alg. 7.4
//! and 7.5) with a backtracking Armijo line search: for smooth convex
//! objectives with too many parameters for Newton's method (the hashed
//! text model has hundreds of thousands).

use std::collections::VecDeque;

/// Stopping rules.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Curvature pairs kept.
    pub memory: usize,
    pub max_iter: usize,
    /// Stop when the largest gradient entry is at most this.
    pub gradient_tolerance: f64,
    /// Stop when an iteration lowers the objective by less than this,
    /// relative to its size.
    pub relative_decrease: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            memory: 10,
            max_iter: 200,
            gradient_tolerance: 1e-6,
            relative_decrease: 1e-9,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    pub converged: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimise `objective` from `x`. `objective(x, gradient)` returns f(x) and
/// writes ∇f(x). `progress(iteration, value)` is called after each
/// iteration; returning false stops early (cancellation).
pub fn minimize(
    mut x: Vec<f64>,
    settings: Settings,
    mut objective: impl FnMut(&[f64], &mut [f64]) -> f64,
    mut progress: impl FnMut(usize, f64) -> bool,
) -> Minimum {
    let n = x.len();
    let mut gradient = vec![0.0; n];
    let mut value = objective(&x, &mut gradient);
    let mut pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let mut direction = vec![0.0; n];
    let mut alphas = Vec::with_capacity(settings.memory);
    let (mut trial, mut trial_gradient) = (vec![0.0; n], vec![0.0; n]);
    let largest = |g: &[f64]| g.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    for iteration in 1..=settings.max_iter {
        if !value.is_finite() {
            break;
        }
        if largest(&gradient) <= settings.gradient_tolerance {
            return Minimum {
                x,
                value,
                iterations: iteration - 1,
                converged: true,
            };
        }
        // Two-loop recursion: direction = −H·∇f.
        direction
            .iter_mut()
            .zip(&gradient)
            .for_each(|(d, g)| *d = -g);
        alphas.clear();
        for (s, y, rho) in pairs.iter().rev() {
            let a = rho * dot(s, &direction);
            direction.iter_mut().zip(y).for_each(|(d, y)| *d -= a * y);
            alphas.push(a);
        }
        let gamma = pairs.back().map_or_else(
            || 1.0 / largest(&gradient).max(1e-12),
            |(s, y, _)| dot(s, y) / dot(y, y),
        );
        direction.iter_mut().for_each(|d| *d *= gamma);
        for ((s, y, rho), a) in pairs.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &direction);
            direction
                .iter_mut()
                .zip(s)
                .for_each(|(d, s)| *d += (a - b) * s);
        }
        let mut slope = dot(&gradient, &direction);
        if slope >= 0.0 {
            // Lost descent (rounding): restart from steepest descent.
            pairs.clear();
            let scale = 1.0 / largest(&gradient).max(1e-12);
            direction
                .iter_mut()
                .zip(&gradient)
                .for_each(|(d, g)| *d = -g * scale);
            slope = dot(&gradient, &direction);
        }

        // Backtracking until the Armijo condition holds.
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            trial
                .iter_mut()
                .zip(&x)
                .zip(&direction)
                .for_each(|((t, x), d)| *t = x + step * d);
            let v = objective(&trial, &mut trial_gradient);
            if v.is_finite() && v <= value + 1e-4 * step * slope {
                accepted = Some(v);
                break;
            }
            step *= 0.5;
        }
        let Some(new_value) = accepted else {
            // No step lowers f: x is as good as rounding allows.
            return Minimum {
                x,
                value,
                iterations: iteration,
                converged: true,
            };
        };
        let s: Vec<f64> = trial.iter().zip(&x).map(|(t, x)| t - x).collect();
        let y: Vec<f64> = trial_gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 * dot(&y, &y).max(1e-300) {
            if pairs.len() == settings.memory {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / sy));
        }
        std::mem::swap(&mut x, &mut trial);
        std::mem::swap(&mut gradient, &mut trial_gradient);
        let decrease = value - new_value;
        value = new_value;
        if !progress(iteration, value) {
            return Minimum {
                x,
                value,
                iterations: iteration,
                converged: false,
            };
        }
        if decrease <= settings.relative_decrease * value.abs().max(1e-12) {
            return Minimum {
                x,
                value,
                iterations: iteration,
                converged: true,
            };
        }
    }
    let converged = largest(&gradient) <= settings.gradient_tolerance;
    Minimum {
        x,
        value,
        iterations: settings.max_iter,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_a_quadratic_exactly() {
        // f = ½ xᵀAx − bᵀx with A = [[4,1],[1,3]], b = [1,2]:
        // the minimum is A⁻¹b = [1/11, 7/11].
        let result = minimize(
            vec![0.0, 0.0],
            Settings::default(),
            |x, g| {
                g[0] = 4.0 * x[0] + x[1] - 1.0;
                g[1] = x[0] + 3.0 * x[1] - 2.0;
                0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1])
                    - x[0]
                    - 2.0 * x[1]
            },
            |_, _| true,
        );
        assert!(result.converged);
        assert!((result.x[0] - 1.0 / 11.0).abs() < 1e-6, "{:?}", result.x);
        assert!((result.x[1] - 7.0 / 11.0).abs() < 1e-6, "{:?}", result.x);
    }

    #[test]
    fn minimises_rosenbrock() {
        // The classic banana valley; minimum (1, 1).
        let result = minimize(
            vec![-1.2, 1.0],
            Settings {
                max_iter: 500,
                gradient_tolerance: 1e-9,
                relative_decrease: 0.0,
                ..Settings::default()
            },
            |x, g| {
                let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
                g[0] = -2.0 * a - 400.0 * x[0] * b;
                g[1] = 200.0 * b;
                a * a + 100.0 * b * b
            },
            |_, _| true,
        );
        assert!((result.x[0] - 1.0).abs() < 1e-5, "{result:?}");
        assert!((result.x[1] - 1.0).abs() < 1e-5, "{result:?}");
    }

    #[test]
    fn progress_can_stop_it() {
        let result = minimize(
            vec![5.0],
            Settings::default(),
            |x, g| {
                g[0] = 4.0 * x[0].powi(3);
                x[0].powi(4)
            },
            |i, _| i < 3,
        );
        assert_eq!(result.iterations, 3);
        assert!(!result.converged);
    }
}
