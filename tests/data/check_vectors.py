#!/usr/bin/env python3
"""Independent check of the HotSwap Flags bucketing vectors (docs/flag-format.md §6, Bucketing).

This is a second implementation of the published algorithm, written from the
specification and sharing no code with the Rust crate:

    key    = context[bucketBy] as a string (numbers in their JSON form)
    h      = xxh3_64(utf8(salt + ":" + key))          # seed 0
    bucket = (h * 100000) >> 64                       # 128-bit product

    split: weights in written order, each read in millionths
           (round half away from zero of weight * 10^6); variant i owns
           [floor(100000*W(i-1)/W), floor(100000*W(i)/W))
           where W(i) is the running sum of those integers and W the total.

Usage:
    python3 tests/data/check_vectors.py            # check every row, exit 1 on a mismatch
    python3 tests/data/check_vectors.py --write    # recompute `bucket` / `variant` from the inputs

Needs the `xxhash` package from PyPI (pip install xxhash).
"""

import argparse
import json
import math
from decimal import ROUND_HALF_UP, Decimal
import sys
from pathlib import Path

try:
    import xxhash
except ImportError:  # pragma: no cover - reported to the caller
    sys.stderr.write("check_vectors.py needs the `xxhash` module: pip install xxhash\n")
    sys.exit(3)

BUCKETS = 100_000
VECTORS = Path(__file__).with_name("bucketing-vectors.json")


def bucket(salt: str, key: str) -> int:
    """The bucket of `key` under `salt`: 0 <= bucket < 100000."""
    h = xxhash.xxh3_64_intdigest((salt + ":" + key).encode("utf-8"), seed=0)
    # Python integers are unbounded, so this is the exact 128-bit product.
    return (h * BUCKETS) >> 64


def weight_units(w) -> int:
    """A weight in millionths: w * 10^6 in IEEE double, rounded half away
    from zero (Decimal(float) is exact, so this is exact too)."""
    x = Decimal(float(w) * 1_000_000.0)
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_ranges(weights):
    """[(variant, lower, upper)] per docs/flag-format.md §6.

    Weights are read in millionths (33.3 is exactly 33_300_000), and
    W(i) / W are the running and total sums of those integers, so
    floor(100000 * W(i) / W) is exact integer arithmetic.
    """
    units = []
    for name, w in weights:
        w = float(w)
        if w < 0.0 or not math.isfinite(w):
            raise ValueError(f"bad weight {w} for {name}")
        units.append((name, weight_units(w)))
    total = sum(u for _, u in units)
    if total == 0:
        raise ValueError(f"all weights are zero: {weights}")
    ranges = []
    running = 0
    lower = 0
    for name, u in units:
        running += u
        upper = BUCKETS * running // total
        ranges.append((name, lower, upper))
        lower = upper
    return ranges


def split_variant(salt: str, key: str, weights):
    """(bucket, variant) a split serves to `key`."""
    b = bucket(salt, key)
    owners = [name for name, lo, hi in split_ranges(weights) if lo <= b < hi]
    if len(owners) != 1:
        raise AssertionError(f"bucket {b} is owned by {owners} for weights {weights}")
    return b, owners[0]


def render(doc) -> str:
    """The file as JSON with one row per line (keeps diffs readable)."""
    def one(value):
        return json.dumps(value, ensure_ascii=False)

    parts = []
    for name, value in doc.items():
        if name in ("buckets", "splits"):
            rows = ",\n".join("    " + one(row) for row in value)
            parts.append(f"  {one(name)}: [\n{rows}\n  ]")
        else:
            body = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            parts.append(f"  {one(name)}: {body}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="recompute bucket/variant fields from the inputs and rewrite the file")
    parser.add_argument("--file", type=Path, default=VECTORS, help="vector file (default: %(default)s)")
    args = parser.parse_args()

    doc = json.loads(args.file.read_text(encoding="utf-8"))
    rows = doc["buckets"]
    splits = doc["splits"]
    failures = 0

    for i, row in enumerate(rows):
        got = bucket(row["salt"], row["key"])
        if args.write:
            row["bucket"] = got
        elif row.get("bucket") != got:
            failures += 1
            print(f"buckets[{i}] salt={row['salt']!r} key={row['key'][:60]!r}: "
                  f"file says {row.get('bucket')}, computed {got}")

    for i, row in enumerate(splits):
        b, variant = split_variant(row["salt"], row["key"], row["weights"])
        if args.write:
            row["bucket"] = b
            row["variant"] = variant
        elif row.get("bucket") != b or row.get("variant") != variant:
            failures += 1
            print(f"splits[{i}] salt={row['salt']!r} key={row['key'][:60]!r}: file says "
                  f"bucket {row.get('bucket')} -> {row.get('variant')!r}, computed {b} -> {variant!r}")

    if args.write:
        text = render(doc)
        args.file.write_text(text, encoding="utf-8")
        print(f"wrote {len(rows)} bucket rows and {len(splits)} split rows to {args.file}")
        return 0
    if failures:
        print(f"{failures} mismatching row(s)")
        return 1
    if len(rows) < 50 or len(splits) < 8:
        print(f"too few vectors: {len(rows)} bucket rows, {len(splits)} split rows")
        return 1
    print(f"ok: {len(rows)} bucket rows and {len(splits)} split rows match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
