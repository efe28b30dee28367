#!/usr/bin/env bash
# Code-reference scan throughput against ripgrep (docs/performance.md,
# "Code references"): the scan `flagctl stale --src` runs
# (examples/refscan.rs) and `rg -F -f keys.txt` over the same tree, with the
# same keys, in the same run, alternating, five times each; prints the
# medians and their ratio. Needs `rg` (Debian: apt-get install ripgrep).
#
#   scripts/refscan-bench.sh [TREE]
#
# Without TREE, a tree of 100,000 generated source files (~1 KiB each, five
# languages, some lines naming flags) is written to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rg >/dev/null || { echo "rg not found (apt-get install ripgrep)" >&2; exit 2; }
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1,000 keys: flag-like names, ten of them (every 64th from the 8th)
# referenced in the generated tree.
python3 - "$work/keys.txt" <<'PY'
import sys
words = ["checkout", "search", "banner", "payments", "shipping", "loyalty", "pricing", "catalog"]
keys = [f"{words[i % 8]}-{words[(i // 8) % 8]}-v{i}" for i in range(1000)]
open(sys.argv[1], "w").write("\n".join(keys) + "\n")
PY

tree=${1:-}
if [[ -z $tree ]]; then
  tree="$work/tree"
  python3 - "$tree" <<'PY'
import os, sys, random
random.seed(7)
root = sys.argv[1]
exts = [("ts", 'if (client.getBooleanValue("{k}", false)) {{ render(); }}'),
        ("py", 'if client.get_boolean_value("{k}", False):'),
        ("go", 'on, _ := client.BooleanValue(ctx, "{k}", false, nil)'),
        ("rs", 'let on = ruleset.evaluate("{k}", &ctx, &env)?;'),
        ("java", 'boolean on = client.getBooleanValue("{k}", false);')]
filler = "\n".join(f"    let value_{i} = compute_something(input, {i}); // ordinary code" for i in range(16))
for i in range(100_000):
    d = os.path.join(root, f"pkg{i % 100}", f"mod{(i // 100) % 100}")
    os.makedirs(d, exist_ok=True)
    ext, call = exts[i % 5]
    text = filler
    if i % 50 == 0:
        # Keys 8, 72, 136, …: `checkout-search-v8`, … (see keys.txt above).
        text += "\n" + call.format(k=f"checkout-search-v{8 + 64 * ((i // 50) % 10)}")
    with open(os.path.join(d, f"f{i}.{ext}"), "w") as f:
        f.write(text + "\n")
PY
fi

cargo build --release --example refscan -q
scan=target/release/examples/refscan
[[ -n ${CARGO_TARGET_DIR:-} ]] && scan="$CARGO_TARGET_DIR/release/examples/refscan"
echo "tree: $tree ($(find "$tree" -type f | wc -l) files, $(du -sh "$tree" | cut -f1))"
"$scan" "$work/keys.txt" "$tree"
echo "ripgrep: $(rg -F -f "$work/keys.txt" -c "$tree" | wc -l) files with a match ($(rg --version | head -1))"

# Warm the page cache, then alternate.
rg -F -f "$work/keys.txt" "$tree" >/dev/null || true
python3 - "$scan" "$work/keys.txt" "$tree" "$runs" <<'PY'
import subprocess, sys, time, statistics
scan, keys, tree, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t
ours, rg = [], []
for _ in range(runs):
    ours.append(timed([scan, keys, tree]))
    rg.append(timed(["rg", "-F", "-f", keys, tree]))
m_ours, m_rg = statistics.median(ours), statistics.median(rg)
print(f"refscan  median {m_ours*1000:.0f} ms  (runs: {', '.join(f'{x*1000:.0f}' for x in ours)})")
print(f"rg -F -f median {m_rg*1000:.0f} ms  (runs: {', '.join(f'{x*1000:.0f}' for x in rg)})")
print(f"ratio {m_ours / m_rg:.2f}x ripgrep's time (goal: <= 1.5x)")
PY
