#!/usr/bin/env bash
# Runs cluster mode's randomized fault schedule (tests/testsuite/cluster_faults.rs)
# for many seeds, one test process per seed, and prints a summary: seeds
# passed and failed, faults injected, invariant checks made, failover and
# heal-to-agreement times (p50, p99, max).
#
#   scripts/cluster-faults.sh            # seeds 1-20
#   scripts/cluster-faults.sh 21-60      # others
#
# Needs root (network namespaces), ip, iptables and etcd (Debian's
# etcd-server); about 30 s a seed. Logs of failed seeds stay in $LOGS.
set -euo pipefail
cd "$(dirname "$0")/.."

range="${1:-1-20}"
first="${range%-*}"
last="${range#*-}"
LOGS="${LOGS:-$(mktemp -d)}"
mkdir -p "$LOGS"
lines="$LOGS/faults.txt"
: >"$lines"

# Built once, then run directly: edits made while it runs change nothing.
bin="$(cargo test --quiet --test testsuite --no-run --message-format=json 2>/dev/null \
  | grep '"name":"testsuite"' | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)"
[ -x "$bin" ] || { echo "could not build the test binary" >&2; exit 1; }
passed=0
failed=()
for seed in $(seq "$first" "$last"); do
  log="$LOGS/seed-$seed.log"
  if FAULT_SEEDS="$seed" "$bin" --exact cluster_faults::randomized_schedules \
      --nocapture >"$log" 2>&1; then
    passed=$((passed + 1))
    grep '^FAULTS ' "$log" >>"$lines" || true
    echo "seed $seed: ok  $(grep -o 'faults=.*' "$log" | head -1)"
  else
    failed+=("$seed")
    echo "seed $seed: FAILED ($log)"
    grep -m1 -A2 'panicked at' "$log" | sed 's/^/    /' || true
  fi
done

# p50, p99 and max of the numbers on stdin, one a line.
percentiles() {
  # Nearest rank: the smallest value with at least p of them at or below.
  sort -n | awk 'function rank(p,  r) { r = int(NR * p); if (r < NR * p) r++; return r < 1 ? 1 : r }
  { v[NR] = $1 } END {
    if (NR == 0) { print "none"; exit }
    p50 = v[rank(0.50)]; p99 = v[rank(0.99)]
    printf "p50 %d ms, p99 %d ms, max %d ms (%d measured)\n", p50, p99, v[NR], NR
  }'
}
field() {
  grep -o "$1=\[[^]]*\]" "$lines" | sed "s/$1=\[//; s/\]//" | tr ',' '\n' | grep -v '^$' || true
}

echo
echo "seeds: $passed passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
sum() { grep -o "$1=[0-9]*" "$lines" | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }'; }
echo "faults injected: $(sum faults)"
echo "invariant checks: $(sum checks)"
echo "failover (a leader cut off or stopped, until another leads): $(field failover_ms | percentiles)"
echo "heal to agreement (every replica serving one position): $(field heal_ms | percentiles)"
echo "logs: $LOGS"
[ "${#failed[@]}" = 0 ]
