#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need
# beyond cargo — the Python xxhash module (the independent bucketing check)
# and the OpenFeature Node SDK (tests/interop) — then runs every Rust test and
# doctest. Tests needing a program that is absent (node, prometheus) skip
# with a loud message, or fail when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."

# A Debian system Python refuses pip (PEP 668) unless told; the module is
# a test dependency of this run only, so the last attempt says so.
if ! python3 -c 'import xxhash' 2>/dev/null; then
  pip=(python3 -m pip install --quiet --disable-pip-version-check)
  "${pip[@]}" xxhash 2>/dev/null \
    || "${pip[@]}" --user xxhash 2>/dev/null \
    || "${pip[@]}" --user --break-system-packages xxhash
fi
if command -v npm >/dev/null; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast
else
  cargo test --all-targets --no-fail-fast
fi
cargo test --doc --quiet
