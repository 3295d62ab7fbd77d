#!/usr/bin/env bash
# sentiment side by side with VADER (the Python vaderSentiment package):
# ROWS generated reviews (half English, half Chinese, wording of their own,
# not the demo generator's) in one Parquet file. ecomsql: the median of RUNS
# runs of `SELECT avg(sentiment(review_text)) FROM reviews_big` through
# `ecomsql sql --timing` (statement time, the Parquet scan included), and the
# same for a plain scan (`avg(length(review_text))`) to show what the scan
# alone costs. VADER: polarity_scores over SAMPLE English reviews in one
# Python loop, as rows per second (VADER has no Chinese).
# Usage: benches/sentiment.sh   (ROWS, SAMPLE, RUNS to change sizes;
# CARGO_TARGET_DIR is honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=target/bench/venv-sentiment
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet vaderSentiment pyarrow numpy
fi
export ECOMSQL_BIN="${CARGO_TARGET_DIR:-target}/release/ecomsql"
exec "$venv/bin/python" benches/sentiment.py "$@"
