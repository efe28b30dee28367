#!/usr/bin/env bash
# `flagctl stale` over a large history (docs/performance.md, "Lifecycle"):
# a generated flags repository of 1,000 flags in two environments (20 files
# of 50 flags each) and 5,000 commits over a year, each changing one flag,
# written with `git fast-import`; then `flagctl stale --format json` five
# times, release build, printing the median (goal: under 2 s).
#
#   scripts/stale-bench.sh [FLAGS [COMMITS]]
#
# BASELINE=path/to/another/flagctl times that binary too, alternating runs
# with this build's on the same repository (before/after on a busy machine).
set -euo pipefail
cd "$(dirname "$0")/.."
flags=${1:-1000}
commits=${2:-5000}
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
git init -q "$repo"
python3 - "$flags" "$commits" <<'PY' | git -C "$repo" fast-import --quiet
import sys
flags, commits = int(sys.argv[1]), int(sys.argv[2])
per_file = 50
files = (flags + per_file - 1) // per_file
envs = ["staging", "production"]
weights = {}  # (env, flag) -> weight of `on`
def flag_text(i, w):
    kind = ["release", "experiment", "operational", "permission", "kill-switch"][i % 5]
    owner = f'    owner: "@team{i % 7}"\n' if i % 3 else ""
    default = "on" if w >= 100 else f"{{ split: {{ on: {w}, off: {100 - w} }} }}"
    return (f"  flag-{i:04d}:\n{owner}    kind: {kind}\n    type: boolean\n"
            f"    variants: {{ on: true, off: false }}\n    default: {default}\n    offVariant: off\n")
def file_text(env, f):
    lo, hi = f * per_file, min(flags, (f + 1) * per_file)
    return "flags:\n" + "".join(flag_text(i, weights.get((env, i), 10)) for i in range(lo, hi))
out = sys.stdout.buffer
start = 1_735_689_600  # 2025-01-01
config = ('version = 1\n[[environments]]\nname = "staging"\npath = "envs/staging"\n'
          '[[environments]]\nname = "production"\npath = "envs/production"\n')
for c in range(commits):
    when = start + c * (365 * 86400 // commits)
    msg = f"change {c}".encode()
    out.write(b"commit refs/heads/main\n")
    out.write(f"committer Bench <bench@example.com> {when} +0000\n".encode())
    out.write(b"data %d\n%s\n" % (len(msg), msg))
    if c == 0:
        changes = [("flags.toml", config)] + [
            (f"envs/{env}/f{f:02d}.yaml", file_text(env, f)) for env in envs for f in range(files)]
    else:
        env = envs[c % 2]
        i = (c * 37) % flags
        weights[(env, i)] = min(100, weights.get((env, i), 10) + 10)
        changes = [(f"envs/{env}/f{i // per_file:02d}.yaml", file_text(env, i // per_file))]
    for path, text in changes:
        data = text.encode()
        out.write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    out.write(b"\n")
PY
git -C "$repo" checkout -q main
echo "repository: $(git -C "$repo" rev-list --count HEAD) commits, $(grep -c '^  flag-' "$repo"/envs/staging/*.yaml | awk -F: '{s+=$2} END {print s}') flags per environment"

cargo build --release --bin flagctl -q
flagctl="${CARGO_TARGET_DIR:-target}/release/flagctl"
"$flagctl" stale --repo "$repo" --format json | python3 -c 'import json,sys; r=json.load(sys.stdin); print("verdicts:", r["summary"])'
python3 - "$repo" "$runs" "$flagctl" ${BASELINE:+"$BASELINE"} <<'PY'
import json, subprocess, sys, time, statistics
repo, runs, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def report(b):
    out = subprocess.run([b, "stale", "--repo", repo, "--format", "json"], capture_output=True, check=True).stdout
    r = json.loads(out)
    del r["now"]
    return r
if len(binaries) > 1:
    same = report(binaries[0]) == report(binaries[1])
    print("reports (but `now`):", "identical" if same else "DIFFERENT")
times = {b: [] for b in binaries}
for _ in range(runs):
    for b in binaries:
        t = time.perf_counter()
        subprocess.run([b, "stale", "--repo", repo, "--format", "json"], stdout=subprocess.DEVNULL, check=True)
        times[b].append(time.perf_counter() - t)
for b in binaries:
    name = "flagctl stale" if b == binaries[0] else f"baseline {b}"
    print(f"{name} median {statistics.median(times[b])*1000:.0f} ms (runs: {', '.join(f'{x*1000:.0f}' for x in times[b])}; goal: < 2000 ms)")
PY
