#!/usr/bin/env bash
# forecast_ar side by side with statsmodels: SERIES daily series of POINTS
# points, AR order chosen by AIC up to 28 lags, 30-day forecasts. ecomsql:
# one CREATE MODEL (all series, in parallel) and one forecast_ar query, timed
# end to end through `ecomsql sql` (process start, Parquet read, fit,
# forecast, CSV out). statsmodels: ar_select_order + AutoReg + predict in a
# Python loop over SAMPLE series, scaled to SERIES (SAMPLE=SERIES runs all).
# The forecasts of the sampled series are compared.
# Usage: benches/forecast_ar.sh   (SERIES, POINTS, SAMPLE, RUNS to change
# sizes; CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=target/bench/venv-forecast
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet statsmodels numpy pandas pyarrow
fi
export ECOMSQL_BIN="${CARGO_TARGET_DIR:-target}/release/ecomsql"
exec "$venv/bin/python" benches/forecast_ar.py "$@"
