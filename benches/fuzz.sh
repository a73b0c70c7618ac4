#!/usr/bin/env bash
# A long fuzz run: the property tests of tests/it/fuzz.rs (request bodies, tokens, covenant files, the log-record
# encoding) with many more cases than the test suite's short run.
#
#   benches/fuzz.sh [CASES]      (default 20000 per target)
set -euo pipefail
cd "$(dirname "$0")/.."
PROPTEST_CASES="${1:-20000}" cargo test --release --test it fuzz:: -- --nocapture
