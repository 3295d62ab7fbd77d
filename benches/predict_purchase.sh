#!/usr/bin/env bash
# predict_purchase and logistic-regression training, side by side with
# their peers on the same generated Parquet files:
#   scoring ROWS rows: predict_purchase vs the same formula inline in SQL
#   (both in ecomsql/DataFusion) vs DuckDB running the inline formula;
#   training TRAIN_ROWS × 10 features: CREATE MODEL vs scikit-learn
#   LogisticRegression (lbfgs, same L2), with the log loss each reaches.
# Usage: benches/predict_purchase.sh   (ROWS, TRAIN_ROWS, RUNS to change sizes)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=target/bench/venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb scikit-learn numpy pyarrow
fi
export ECOMSQL_BIN="${CARGO_TARGET_DIR:-target}/release/ecomsql"
exec "$venv/bin/python" benches/predict_purchase.py "$@"
