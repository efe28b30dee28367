#!/usr/bin/env bash
# A tour of flagctl on flags-example/: validate both environments, then
# evaluate a few flags and explain the answers.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin flagctl
flagctl() { ./target/debug/flagctl "$@"; }
run() { printf '\n$ flagctl %s\n' "$*"; flagctl "$@"; }

run validate --repo flags-example
run eval new-checkout-flow --repo flags-example --env production --ctx email=ana@example.com
run eval new-checkout-flow --repo flags-example --env production --ctx targetingKey=user-42 --ctx country=DE
run eval new-checkout-flow --repo flags-example --env production --ctx targetingKey=user-42 --percentage 50
run eval black-friday-banner --repo flags-example --env production --at 2026-11-27T09:00[America/New_York]
run eval checkout-config --repo flags-example --env production --ctx targetingKey=user-7 --ctx platform=ios --ctx appVersion=v5.4.1 --format json
