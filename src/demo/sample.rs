//! Small samplers on top of `rand`, infallible for the parameters the
//! generator uses (rand_distr's constructors return Results for any input).

use rand::Rng;
use rand_distr::StandardNormal;

pub fn normal<R: Rng>(rng: &mut R, mean: f64, sd: f64) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    mean + sd * z
}

/// Log-normal with the given median and log-scale spread.
pub fn lognormal<R: Rng>(rng: &mut R, median: f64, sigma: f64) -> f64 {
    median * normal(rng, 0.0, sigma).exp()
}

/// Poisson by inversion for small means, normal approximation above 50.
pub fn poisson<R: Rng>(rng: &mut R, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 50.0 {
        return normal(rng, mean, mean.sqrt()).round().max(0.0) as u32;
    }
    let limit = (-mean).exp();
    let mut product = rng.random::<f64>();
    let mut count = 0;
    while product > limit {
        product *= rng.random::<f64>();
        count += 1;
    }
    count
}

/// Number of failures before the first success.
pub fn geometric<R: Rng>(rng: &mut R, success: f64) -> u32 {
    let mut count = 0;
    while count < 1000 && rng.random::<f64>() >= success {
        count += 1;
    }
    count
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
