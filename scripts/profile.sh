#!/usr/bin/env bash
# Instruction counts per request (callgrind: repeatable where wall-clock
# rates are not): flagd serving a copy of flags-example runs under
# callgrind, answers the single-flag GET and the OFREP POST of
# scripts/http-floor.sh N times each over one kept-alive connection (curl),
# and the script prints the instructions a request costs and the functions
# that cost the most (self cost; KEEP=DIR keeps the callgrind files for
# callgrind_annotate --inclusive=yes or kcachegrind). docs/performance.md ("Where a request's
# time goes") keeps the latest profile. Needs valgrind and curl.
#
#   scripts/profile.sh [N]                 # default 2000 requests per path
#   FLAGD_ARGS="--otlp-endpoint http://127.0.0.1:9 --otel-sampler traceidratio --otel-sampler-arg 0.01" \
#     scripts/profile.sh                   # the same with tracing on at 1 %
#   TOP=40 scripts/profile.sh              # more functions
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2000}"
TOP="${TOP:-25}"
command -v valgrind >/dev/null || { echo "profile.sh needs valgrind (apt-get install valgrind)"; exit 2; }
target="${CARGO_TARGET_DIR:-target}"
if [ -z "${FLAGD:-}" ]; then
  cargo build --release --quiet --bin flagd
  FLAGD="$target/release/flagd"
fi
work=$(mktemp -d)
pid=
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

cp -r flags-example "$work/repo"
# Collection starts only once flagd is ready and warm: startup (compiling
# the ruleset, TLS setup, the first allocations) is not a request's cost.
# shellcheck disable=SC2086
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out" \
  "$FLAGD" --repo "$work/repo" --env production --listen 127.0.0.1:0 --state-dir "$work/state" \
  --workers 1 --log-format json ${FLAGD_ARGS:-} >"$work/flagd.out" 2>"$work/flagd.log" &
pid=$!
for _ in $(seq 1200); do grep -q 'listening on' "$work/flagd.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.*listening on //p' "$work/flagd.out" | head -1)
[ -n "$base" ] || { echo "flagd did not start:"; cat "$work/flagd.log"; exit 1; }
for _ in $(seq 1200); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done

get="$base/api/v1/flags/new-checkout-flow/evaluate?userId=user-42&country=DE&email=a%40elsewhere.org"
post="$base/ofrep/v1/evaluate/flags/new-checkout-flow"
body='{"context": {"targetingKey": "user-42", "country": "DE", "email": "a@elsewhere.org"}}'
# N requests over one connection: curl reuses it for every URL it is given.
requests() { # METHOD URL
  local i
  for i in $(seq "$N"); do printf 'url = "%s"\noutput = "/dev/null"\n' "$2"; done >"$work/urls"
  if [ "$1" = POST ]; then
    curl -fs -K "$work/urls" -H 'Content-Type: application/json' -d "$body"
  else
    curl -fs -K "$work/urls"
  fi
}

profile() { # NAME METHOD URL
  requests "$2" "$3" # warm: every lazy initialisation done, caches filled
  callgrind_control --zero "$pid" >/dev/null 2>&1
  callgrind_control --instr=on "$pid" >/dev/null 2>&1
  requests "$2" "$3"
  callgrind_control --instr=off "$pid" >/dev/null 2>&1
  callgrind_control --dump="$1" "$pid" >/dev/null 2>&1
  local file
  for _ in $(seq 100); do file=$(ls -t "$work"/callgrind.out.* 2>/dev/null | head -1); [ -n "$file" ] && break; sleep 0.1; done
  local total
  total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')
  echo
  echo "== $1: $(awk -v t="$total" -v n="$N" 'BEGIN {printf "%d", t / n}') instructions a request ($N requests)"
  [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$file" "$KEEP/callgrind.$1"
  # Self costs (inclusive ones double-count the futures that poll each
  # other recursively), as shares of the whole request.
  callgrind_annotate "$file" 2>/dev/null \
    | awk -v t="$total" -v top="$TOP" '
        /^ *[0-9,]+ / && !/PROGRAM TOTALS/ {
          ir = $1; gsub(",", "", ir); $1 = ""; sub(/^ +/, "");
          sub(/^\([^)]*\) */, ""); name = $0; sub(/^[^ ]*:/, "", name); sub(/ \[[^]]*\]$/, "", name);
          if (shown++ < top) printf "%5.1f%%  %s\n", 100 * ir / t, substr(name, 1, 160)
        }'
}

profile get GET "$get"
profile post POST "$post"
