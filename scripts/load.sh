#!/usr/bin/env bash
# HTTP load test of flagd serving a copy of flags-example (production):
# single-flag GET, OFREP single and bulk at full speed, single-flag GET paced
# at half the measured rate (for latency), idle memory, and propagation over
# 50 edits. Then a 10,000-flag ruleset: first load, RSS while serving, and
# p99 latency of paced single-flag GETs while the ruleset is swapped 100
# times, against the same load without swaps. Needs wrk (Debian package)
# and python3.
#
#   scripts/load.sh [DURATION]      # default 10s per scenario
#   ONLY=large scripts/load.sh      # the 10,000-flag part only
#   ONLY=tracing scripts/load.sh    # tracing's cost: off, on at 1 %, on at 100 %
#   ONLY=paced RATE=10000 scripts/load.sh   # p50/p99 of single-flag GETs paced at RATE req/s
#   ROUNDS=3                        # interleaved rounds of the tracing runs (medians)
#   SWAPS=100                       # swaps of the 10,000-flag ruleset
#   FLAGD=path/to/flagd             # measure that binary (e.g. a base build) instead
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
command -v wrk >/dev/null || { echo "load.sh needs wrk (apt-get install wrk)"; exit 2; }

if [ -n "${FLAGD:-}" ]; then
  flagd=$FLAGD
else
  cargo build --release --quiet --bin flagd
  flagd="${CARGO_TARGET_DIR:-target}/release/flagd"
fi
work=$(mktemp -d)
pid=
sink_pid=
trap 'kill "$pid" $sink_pid 2>/dev/null || true; rm -rf "$work"' EXIT

# start_flagd NAME ARGS…: runs flagd in the background, sets pid and base
# (its URL) once it answers /readyz.
start_flagd() {
  local name=$1; shift
  "$flagd" "$@" --listen 127.0.0.1:0 --state-dir "$work/state-$name" --log-format json \
    >"$work/out-$name" 2>"$work/log-$name" &
  pid=$!
  for _ in $(seq 600); do grep -q listening "$work/out-$name" 2>/dev/null && break; sleep 0.05; done
  base=$(sed -n 's/^flagd listening on //p' "$work/out-$name")
  for _ in $(seq 600); do curl -kfs "$base/readyz" >/dev/null && break; sleep 0.05; done
}
rss() { awk '/VmRSS/ {printf "%d MiB", $2 / 1024}' "/proc/$pid/status"; }

# The 10,000-flag ruleset: a swap compiles the whole repository again.
large() {
  local repo="$work/large" t0 t1 url conns d p99_quiet p99_swaps swaps=${SWAPS:-100}
  python3 scripts/swaps.py make "$repo" 10000
  t0=$(date +%s%N)
  start_flagd large --repo "$repo" --env production
  t1=$(date +%s%N)
  echo; echo "== 10,000 flags"
  echo "start → ready (read, compile, serve): $(( (t1 - t0) / 1000000 )) ms; RSS $(rss)"
  url="$base/api/v1/flags/flag-7777/evaluate?userId=user-42&appVersion=2.9000.1"
  conns=${LARGE_CONNECTIONS:-16}
  # How long the swaps take, from 5 without load, so wrk outlasts them.
  python3 scripts/swaps.py swap "$base" "$repo" 5
  d=$(python3 scripts/swaps.py swap "$base" "$repo" 5 | awk -v n="$swaps" '{printf "%d", $(NF-1) / 5 * n * 1.5 + 5}')
  paced() { wrk -t1 -c"$conns" -d"${d}s" --latency -s scripts/wrk/paced.lua "$url"; }
  echo; echo "-- paced GETs ($conns connections, 1 ms apart), ${d}s, no swaps"
  paced > "$work/quiet"
  grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors" "$work/quiet"
  echo "RSS while serving (after that run): $(rss)"
  echo; echo "-- the same while the ruleset is swapped $swaps times"
  paced > "$work/swaps" &
  local wrk_pid=$!
  sleep 1
  t0=$(date +%s)
  python3 scripts/swaps.py swap "$base" "$repo" "$swaps"
  t1=$(date +%s)
  wait "$wrk_pid"
  [ $(( t1 - t0 + 1 )) -le "$d" ] || echo "WARNING: the swaps outlasted wrk's ${d}s"
  grep -E "Requests/sec|Latency|50%|99%|Non-2xx|Socket errors" "$work/swaps"
  p99_quiet=$(awk '$1 == "99%" {print $2}' "$work/quiet")
  p99_swaps=$(awk '$1 == "99%" {print $2}' "$work/swaps")
  echo "p99 during swaps / p99 without: $p99_swaps / $p99_quiet"
  echo "failed requests during swaps: $(grep -cE "Non-2xx|Socket errors" "$work/swaps" || true) error lines (none means 0)"
  echo "RSS after the swaps: $(rss) (peak $(awk '/VmHWM/ {printf "%d MiB", $2 / 1024}' "/proc/$pid/status"))"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
# Tracing's cost (docs/observability.md): the single-flag GET with tracing
# off, on sampling 1 % and on sampling 100 %, exporting to a local OTLP/HTTP
# sink that reads and discards what it gets. The machine may be shared and
# noisy, so the three run in turns, ROUNDS times, and the medians count.
tracing_cost() {
  local rounds=${ROUNDS:-3} port mode r rate dropped url
  local -A rates=()
  python3 - >"$work/sink-port" <<'PY' &
import http.server
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
  sink_pid=$!
  for _ in $(seq 100); do [ -s "$work/sink-port" ] && break; sleep 0.05; done
  port=$(cat "$work/sink-port")
  cp -r flags-example "$work/repo-tracing"
  echo; echo "== tracing's cost: single-flag GET, $rounds rounds of ${DURATION} each"
  for r in $(seq "$rounds"); do
    for mode in off 1% 100%; do
      local tracing=()
      case $mode in
        1%) tracing=(--otlp-endpoint "http://127.0.0.1:$port" --otel-sampler traceidratio --otel-sampler-arg 0.01) ;;
        100%) tracing=(--otlp-endpoint "http://127.0.0.1:$port" --otel-sampler always_on) ;;
      esac
      start_flagd "tracing-$r-${mode%\%}" --repo "$work/repo-tracing" --env production "${tracing[@]}"
      url="$base/api/v1/flags/new-checkout-flow/evaluate?userId=user-42&country=DE&email=a%40elsewhere.org"
      wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$url" >/dev/null
      rate=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$url" | awk '/Requests\/sec/ {printf "%d", $2}')
      dropped=$(curl -fs "$base/metrics" | awk '/^flagd_trace_spans_dropped_total/ {print $2}')
      echo "round $r, tracing $mode: $rate req/s${dropped:+ ($dropped spans dropped)}"
      rates[$mode]+="$rate "
      kill "$pid"; wait "$pid" 2>/dev/null || true
    done
  done
  median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
  local off on1 on100
  off=$(echo "${rates[off]}" | median)
  on1=$(echo "${rates[1%]}" | median)
  on100=$(echo "${rates[100%]}" | median)
  echo "medians: off $off req/s; on at 1 % $on1 req/s ($(python3 -c "print(f'{$on1 / $off:.3f}')") of off); on at 100 % $on100 req/s ($(python3 -c "print(f'{$on100 / $off:.3f}')") of off)"
  kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
  sink_pid=
}
if [ "${ONLY:-}" = large ]; then large; exit; fi
if [ "${ONLY:-}" = tracing ]; then tracing_cost; exit; fi
cp -r flags-example "$work/repo"
start_flagd example --repo "$work/repo" --env production
sleep 1
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "idle RSS: $((rss_kb / 1024)) MiB ($rss_kb kB)"

get="$base/api/v1/flags/new-checkout-flow/evaluate?userId=user-42&country=DE&email=a%40elsewhere.org"
# Latency at a fixed offered rate. Each paced connection sends one request
# per (1 ms + latency), so the connection count is calibrated with a short run.
paced_run() {
  local target=$1 label=$2 conns trial
  conns=$(( (target + 999) / 1000 ))
  trial=$(wrk -t1 -c"$conns" -d3s -s scripts/wrk/paced.lua "$get" | awk '/Requests\/sec/ {printf "%d", $2}')
  conns=$(( (conns * target + trial - 1) / trial ))
  echo; echo "== single-flag GET paced at ~$target req/s ($label): $conns connections, 1 ms apart"
  wrk -t1 -c"$conns" -d"$DURATION" --latency -s scripts/wrk/paced.lua "$get" \
    | grep -E "Requests/sec|Latency|50%|90%|99%"
}
if [ "${ONLY:-}" = paced ]; then paced_run "${RATE:-10000}" "RATE"; exit; fi
run() { echo; echo "== $1"; shift; wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"; }
run "single-flag GET (seed API)" "$get"
rate=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "$get" | awk '/Requests\/sec/ {printf "%d", $2}')
run "OFREP single" -s scripts/wrk/ofrep-single.lua "$base/ofrep/v1/evaluate/flags/new-checkout-flow"
run "OFREP bulk ($(curl -s -XPOST "$base/ofrep/v1/evaluate/flags" -d '{}' | grep -o '"key"' | wc -l) flags per request)" \
  -s scripts/wrk/ofrep-bulk.lua "$base/ofrep/v1/evaluate/flags"
paced_run 25000 "half of the 50,000/s target"
paced_run $((rate / 2)) "half of the measured $rate/s"

echo
python3 scripts/propagation.py "$base" "$work/repo" 50
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "RSS after load: $((rss_kb / 1024)) MiB"
kill "$pid"; wait "$pid" 2>/dev/null || true

# The same single-flag GET with TLS and token authentication on
# (--auth-eval: every evaluation verifies an HS256 JWT).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
secret=loadtest-secret-loadtest-secret-loadtest
printf '%s\n' "$secret" > "$work/jwt.secret"
token=$(python3 - "$secret" <<'PY'
import base64, hashlib, hmac, json, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "load", "role": "viewer", "exp": int(time.time()) + 3600}).encode())
sig = b64(hmac.new(sys.argv[1].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
PY
)
start_flagd tls --repo "$work/repo" --env production --tls-cert "$work/tls.crt" \
  --tls-key "$work/tls.key" --auth-jwt-secret-file "$work/jwt.secret" --auth-eval
sbase=$base
sget="$sbase/api/v1/flags/new-checkout-flow/evaluate?userId=user-42&country=DE&email=a%40elsewhere.org"
curl -kfs -H "Authorization: Bearer $token" "$sget" >/dev/null || { echo "authenticated HTTPS request failed"; exit 1; }
echo; echo "== single-flag GET with TLS + JWT auth"
out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" "$sget")
echo "$out" | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
secure=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
echo "TLS + auth throughput ratio to plain HTTP: $(python3 -c "print(f'{$secure / $rate:.2f}')") ($secure vs $rate req/s)"
kill "$pid"; wait "$pid" 2>/dev/null || true

large
