#!/usr/bin/env bash
# HTTP load test of flagd serving a copy of flags-example (production):
# single-flag GET, OFREP single and bulk at full speed, single-flag GET paced
# at half the measured rate (for latency), idle memory, and propagation over
# 50 edits. Needs wrk (Debian package) and python3.
#
#   scripts/load.sh [DURATION]      # default 10s per scenario
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
command -v wrk >/dev/null || { echo "load.sh needs wrk (apt-get install wrk)"; exit 2; }

cargo build --release --quiet --bin flagd
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cp -r flags-example "$work/repo"
./target/release/flagd --repo "$work/repo" --env production --listen 127.0.0.1:0 \
  --state-dir "$work/state" --log-format json >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.05; done
base=$(sed -n 's/^flagd listening on //p' "$work/out")
for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.05; done
sleep 1
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "idle RSS: $((rss_kb / 1024)) MiB ($rss_kb kB)"

get="$base/api/v1/flags/new-checkout-flow/evaluate?userId=user-42&country=DE&email=a%40elsewhere.org"
run() { echo; echo "== $1"; shift; wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"; }
run "single-flag GET (seed API)" "$get"
rate=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "$get" | awk '/Requests\/sec/ {printf "%d", $2}')
run "OFREP single" -s scripts/wrk/ofrep-single.lua "$base/ofrep/v1/evaluate/flags/new-checkout-flow"
run "OFREP bulk ($(curl -s -XPOST "$base/ofrep/v1/evaluate/flags" -d '{}' | grep -o '"key"' | wc -l) flags per request)" \
  -s scripts/wrk/ofrep-bulk.lua "$base/ofrep/v1/evaluate/flags"
half=$((rate / 2))
# Each paced connection sends one request per (1 ms + latency): calibrate the
# number of connections with a short run, then measure.
paced=$(( (half + 999) / 1000 ))
trial=$(wrk -t1 -c"$paced" -d3s -s scripts/wrk/paced.lua "$get" | awk '/Requests\/sec/ {printf "%d", $2}')
paced=$(( (paced * half + trial - 1) / trial ))
echo; echo "== single-flag GET paced at ~$half req/s (half of $rate): $paced connections, 1 ms apart"
wrk -t1 -c"$paced" -d"$DURATION" --latency -s scripts/wrk/paced.lua "$get" \
  | grep -E "Requests/sec|Latency|50%|90%|99%"

echo
python3 scripts/propagation.py "$base" "$work/repo" 50
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "RSS after load: $((rss_kb / 1024)) MiB"
