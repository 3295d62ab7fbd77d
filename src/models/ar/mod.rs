//! `model_type = 'ar'`: autoregressive forecasting (issue 5, in progress).
//! So far the numerical core: least squares by QR with every nested order
//! from one factorisation, AR(p) fits matching statsmodels `AutoReg`, order
//! selection, differencing polynomials, ψ-weight forecast intervals, and
//! regular series from (time, value) rows (frequency, duplicates, gaps). The
//! model type, `forecast_ar` and the backtests build on these.

pub mod least_squares;
pub mod process;
pub mod series;
