#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need
# beyond cargo — the Python xxhash module (the independent bucketing check)
# and opentelemetry-proto (the OTLP receiver of the tracing test),
# the OpenFeature Node SDK (tests/interop), flagd's and Unleash's Node
# libraries (tests/bucketing: the bucketing modes' oracle) and the browser test's page and
# driver (tests/browser: the OpenFeature web SDK, esbuild, puppeteer-core,
# which drives Debian's Chromium and downloads no browser) — then runs every
# Rust test and doctest. Tests needing a program that is absent (the
# README's prerequisites list them: git, node, chromium, prometheus, etcd,
# python3, openssl, …) skip with a loud message, or fail when CI is set.
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
# The OTLP receiver of tests/otel/receiver.py decodes flagd's traces with
# the OpenTelemetry protobuf classes, at a pinned version.
if ! python3 -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null; then
  pip=(python3 -m pip install --quiet --disable-pip-version-check)
  otel=opentelemetry-proto==1.45.2
  "${pip[@]}" "$otel" 2>/dev/null \
    || "${pip[@]}" --user "$otel" 2>/dev/null \
    || "${pip[@]}" --user --break-system-packages "$otel"
fi
if command -v npm >/dev/null; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
  (cd tests/bucketing && npm ci --no-audit --no-fund --loglevel=error)
  (cd tests/unleash && npm ci --no-audit --no-fund --loglevel=error)
  (cd tests/browser && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# nextest shows nothing of a passing test, skip lines included: the tests
# also write them here, and they are repeated after the run.
TESTS_SKIPPED_FILE="$(mktemp)"
export TESTS_SKIPPED_FILE
trap 'rm -f "$TESTS_SKIPPED_FILE"' EXIT
status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --all-targets --no-fail-fast || status=$?
else
  cargo test --all-targets --no-fail-fast || status=$?
fi
if [ -s "$TESTS_SKIPPED_FILE" ]; then
  echo
  echo "!! $(wc -l <"$TESTS_SKIPPED_FILE") requirement(s) missing, tests skipped:"
  sed 's/^/!! /' "$TESTS_SKIPPED_FILE"
fi
[ "$status" = 0 ] || exit "$status"
cargo test --doc --quiet
