#!/usr/bin/env bash
# flagd against the floor any HTTP server here pays: a bare hyper server
# (scripts/bare_hyper.rs, built from the same lock file) answering with
# the very bytes flagd answers. Rounds interleave the two with the same
# wrk line, for the single-flag GET and the OFREP POST, and each round
# prints flagd's rate over the floor's; both servers' RSS idle and after.
# docs/performance.md ("HTTP") keeps the latest figures. Needs wrk and
# curl. Run it under scripts/quiet.sh on a shared machine.
#
#   scripts/http-floor.sh [ROUNDS] [DURATION]   # default 5 rounds of 5s
#   FLAGD=path/to/flagd scripts/http-floor.sh   # measure that build
#   WORKERS=2 scripts/http-floor.sh             # both servers on 2 request threads
#                                               # (default: flagd's, the CPUs minus one)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
DURATION="${2:-5s}"
WRK=(wrk -t1 -c32 -d"$DURATION")
WORKERS="${WORKERS:-$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))}"
command -v wrk >/dev/null || { echo "http-floor.sh needs wrk (apt-get install wrk)"; exit 2; }
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --example bare-hyper
if [ -z "${FLAGD:-}" ]; then
  cargo build --release --quiet --bin flagd
  FLAGD="$target/release/flagd"
fi
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# await_line FILE: the URL a server printed as "… listening on URL".
await_url() {
  for _ in $(seq 600); do grep -q 'listening on' "$1" 2>/dev/null && break; sleep 0.05; done
  sed -n 's/.*listening on //p' "$1" | head -1
}

cp -r flags-example "$work/repo"
"$FLAGD" --repo "$work/repo" --env production --listen 127.0.0.1:0 --state-dir "$work/state" --workers "$WORKERS" \
  --log-format json >"$work/flagd.out" 2>"$work/flagd.log" &
pids+=($!); flagd_pid=$!
flagd=$(await_url "$work/flagd.out")
for _ in $(seq 600); do curl -fs "$flagd/readyz" >/dev/null && break; sleep 0.05; done

get_path="/api/v1/flags/new-checkout-flow/evaluate?userId=user-42&country=DE&email=a%40elsewhere.org"
post_path="/ofrep/v1/evaluate/flags/new-checkout-flow"
curl -fs "$flagd$get_path" >"$work/get.json"
curl -fs -XPOST -H 'Content-Type: application/json' \
  -d '{"context": {"targetingKey": "user-42", "country": "DE", "email": "a@elsewhere.org"}}' \
  "$flagd$post_path" >"$work/post.json"

floor() { # NAME BODY_FILE: a bare server answering BODY_FILE; sets url_NAME and pid_NAME
  "$target/release/examples/bare-hyper" "$2" "$WORKERS" >"$work/$1.out" &
  pids+=($!); eval "pid_$1=$!"
  eval "url_$1=$(await_url "$work/$1.out")"
}
floor get "$work/get.json"
floor post "$work/post.json"

kib() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$1/status"; }
sleep 1
echo "idle RSS: flagd $(kib "$flagd_pid"), floor $(kib "$pid_get")"

rate() { "${WRK[@]}" "$@" | awk '/Requests\/sec/ {printf "%d", $2}'; }
echo "wrk ${WRK[*]:1}; $WORKERS request thread(s) each; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-6s %12s %12s %7s %12s %12s %7s\n' round "floor GET" "flagd GET" ratio "floor POST" "OFREP POST" ratio
gets=(); posts=()
for round in $(seq "$ROUNDS"); do
  fg=$(rate "$url_get$get_path")
  dg=$(rate "$flagd$get_path")
  fp=$(rate -s scripts/wrk/ofrep-single.lua "$url_post$post_path")
  dp=$(rate -s scripts/wrk/ofrep-single.lua "$flagd$post_path")
  rg=$(awk -v a="$dg" -v b="$fg" 'BEGIN {printf "%.2f", a / b}')
  rp=$(awk -v a="$dp" -v b="$fp" 'BEGIN {printf "%.2f", a / b}')
  gets+=("$rg"); posts+=("$rp")
  printf '%-6s %12s %12s %7s %12s %12s %7s\n' "$round" "$fg" "$dg" "$rg" "$fp" "$dp" "$rp"
done
lowest() { printf '%s\n' "$@" | sort -n | head -1; }
echo "lowest ratio: GET $(lowest "${gets[@]}"), OFREP POST $(lowest "${posts[@]}")"
echo "RSS after the rounds: flagd $(kib "$flagd_pid"), floor $(kib "$pid_get")"
