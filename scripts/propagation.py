#!/usr/bin/env python3
"""Propagation: how long from a flag file written to the new value served.

Edits a flag file EDITS times (atomic write-and-rename, as editors do) and
polls flagd until each new value is served. Prints p50/p90/p99/max in ms.

    python3 scripts/propagation.py BASE_URL REPO_DIR [EDITS]
"""
import json
import os
import sys
import time
import urllib.request

base, repo = sys.argv[1], sys.argv[2]
edits = int(sys.argv[3]) if len(sys.argv) > 3 else 50
path = os.path.join(repo, "envs", "production", "propagation.yaml")


def served():
    with urllib.request.urlopen(f"{base}/api/v1/flags/propagation-probe/evaluate", timeout=5) as r:
        return json.load(r).get("value")


def write(n):
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write("flags:\n  propagation-probe:\n    type: integer\n"
                f"    variants: {{ v: {n} }}\n    default: v\n")
    os.rename(tmp, path)


write(0)
deadline = time.monotonic() + 10
while True:
    try:
        if served() == 0:
            break
    except Exception:
        pass
    if time.monotonic() > deadline:
        sys.exit("flagd never served the probe flag")
    time.sleep(0.01)

samples = []
for n in range(1, edits + 1):
    start = time.monotonic()
    write(n)
    while True:
        try:
            if served() == n:
                break
        except Exception:
            pass
        if time.monotonic() - start > 10:
            sys.exit(f"edit {n} was not served within 10 s")
        time.sleep(0.001)
    samples.append((time.monotonic() - start) * 1000)
    time.sleep(0.05)

samples.sort()
pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
print(f"propagation over {edits} edits: p50 {pick(0.5):.1f} ms, p90 {pick(0.9):.1f} ms, "
      f"p99 {pick(0.99):.1f} ms, max {samples[-1]:.1f} ms")
os.remove(path)
