#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need
# beyond cargo (the Python xxhash module for the independent bucketing check),
# then runs every Rust test and doctest.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import xxhash' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check xxhash \
    || python3 -m pip install --quiet --disable-pip-version-check --user xxhash
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast
else
  cargo test --all-targets --no-fail-fast
fi
cargo test --doc --quiet
