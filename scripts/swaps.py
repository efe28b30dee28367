#!/usr/bin/env python3
"""Hot swaps of a large ruleset: a repository of N flags, and swaps of it.

    python3 scripts/swaps.py make REPO_DIR N      # write a repository of N flags
    python3 scripts/swaps.py swap BASE_URL REPO_DIR SWAPS

`make` writes the flags the 10,000-flag benchmark compiles (two rules and a
split each, as in tests/testsuite/support/rulesets.rs `many_flags`) plus a
probe flag. `swap` rewrites the probe's file SWAPS times (atomic
write-and-rename) and waits until flagd serves each new value, so every
edit is one whole-ruleset compile and swap. It prints the time per swap.
"""
import json
import os
import sys
import time
import urllib.request


def make(repo, n):
    env = os.path.join(repo, "envs", "production")
    os.makedirs(env, exist_ok=True)
    with open(os.path.join(repo, "flags.toml"), "w") as f:
        f.write('version = 1\n\n[[environments]]\nname = "production"\npath = "envs/production"\n')
    with open(os.path.join(env, "flags.yaml"), "w") as f:
        f.write("flags:\n")
        for i in range(n):
            f.write(
                f"  flag-{i}:\n    type: string\n    variants: {{ a: A, b: B }}\n"
                "    default: { split: { a: 50, b: 50 } }\n    offVariant: a\n    rules:\n"
                "      - name: staff\n"
                '        when: { attr: email, op: ends_with, value: "@example.com" }\n'
                "        serve: b\n      - name: version\n"
                f'        when: {{ attr: appVersion, op: semver_gte, value: "2.{i}.0" }}\n'
                "        serve: a\n"
            )
    write_probe(repo, 0)


def probe_path(repo):
    return os.path.join(repo, "envs", "production", "probe.yaml")


def write_probe(repo, n):
    path = probe_path(repo)
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(f"flags:\n  swap-probe:\n    type: integer\n    variants: {{ v: {n} }}\n    default: v\n")
    os.rename(tmp, path)


def served(base):
    with urllib.request.urlopen(f"{base}/api/v1/flags/swap-probe/evaluate", timeout=10) as r:
        return json.load(r).get("value")


def current(base, limit=30):
    """The probe's value now (waiting for flagd to serve it)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            return int(served(base))
        except Exception:
            time.sleep(0.05)
    sys.exit("flagd never served the probe flag")


def wait_for(base, n, limit=30):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if served(base) == n:
                return
        except Exception:
            pass
        time.sleep(0.005)
    sys.exit(f"flagd never served probe value {n}")


def swap(base, repo, swaps):
    first = current(base) + 1
    times = []
    for n in range(first, first + swaps):
        start = time.monotonic()
        write_probe(repo, n)
        wait_for(base, n)
        times.append((time.monotonic() - start) * 1000)
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"{swaps} swaps: edit → served p50 {q(0.5):.0f} ms, p99 {q(0.99):.0f} ms, "
          f"max {times[-1]:.0f} ms, total {sum(times) / 1000:.1f} s")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "swap":
        swap(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
