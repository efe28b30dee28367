#!/usr/bin/env python3
"""Reference values for `flagctl experiment analyze` and the rollout guardrail.

An implementation independent of the Rust one: it computes every number with
scipy and statsmodels (for continuous metrics from the *raw* observations,
where the Rust code only sees exposures, sum and sum of squares), and writes
`reference.json` next to this script. `tests/testsuite/stats_reference.rs` runs the Rust
library on the same inputs and requires agreement to 1e-6 relative.

Where a library gives NaN or refuses (no conversions at all, a contingency
column of zeros) the script applies the rule `docs/experiments.md` documents,
and says so in a comment. Three quantities have no library implementation and
are written out from their formulas (see docs/experiments.md): the mSPRT
sequential p-value, the Fleiss sample size, and the SRM weights' expected
counts.

    python3 -m pip install scipy statsmodels numpy
    python3 tests/data/stats/reference.py          # rewrites reference.json
"""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
    test_proportions_2indep,
)

OUT = Path(__file__).with_name("reference.json")
SRM_THRESHOLD = 0.001
POWER = 0.8


# ---------------------------------------------------------------- per look


def conversion_group(v):
    return {"n": float(v["exposures"]), "x": float(v["conversions"])}


def continuous_group(raw):
    raw = np.asarray(raw, dtype=float)
    return {"n": float(len(raw)), "raw": raw, "mean": float(raw.mean()), "var": float(raw.var(ddof=1))}


def fixed_conversion(t, c):
    """Two-sided pooled z-test (statsmodels proportions_ztest)."""
    pooled = (t["x"] + c["x"]) / (t["n"] + c["n"])
    if pooled in (0.0, 1.0):
        # Documented rule: identical arms, no variance -> statistic 0, p = 1
        # (statsmodels returns NaN here).
        return 0.0, 1.0
    z, p = proportions_ztest([t["x"], c["x"]], [t["n"], c["n"]], alternative="two-sided")
    return float(z), float(p)


def fixed_continuous(t, c):
    """Welch's t-test (scipy ttest_ind, equal_var=False) on the raw values."""
    r = stats.ttest_ind(t["raw"], c["raw"], equal_var=False)
    return float(r.statistic), float(r.pvalue)


def msprt(estimate, variance, tau):
    """Mixture SPRT, normal mixture N(0, tau^2): min(1, 1/Lambda)."""
    if variance == 0.0:
        return 1.0 if estimate == 0.0 else 0.0
    if tau == 0.0:
        return 1.0
    ln_lambda = 0.5 * math.log(variance / (variance + tau**2)) + estimate**2 * tau**2 / (
        2 * variance * (variance + tau**2)
    )
    return min(1.0, math.exp(-ln_lambda))


def sequential_look(metric, t, c, mde, fixed_p):
    if metric == "conversion":
        pooled = (t["x"] + c["x"]) / (t["n"] + c["n"])
        estimate = t["x"] / t["n"] - c["x"] / c["n"]
        variance = pooled * (1 - pooled) * (1 / t["n"] + 1 / c["n"])
        tau = mde * pooled if pooled != 0 else mde * math.sqrt(pooled * (1 - pooled))
    else:
        n = t["n"] + c["n"]
        pooled_mean = (t["n"] * t["mean"] + c["n"] * c["mean"]) / n
        pooled_sd = math.sqrt(((t["n"] - 1) * t["var"] + (c["n"] - 1) * c["var"]) / (n - 2))
        estimate = t["mean"] - c["mean"]
        variance = t["var"] / t["n"] + c["var"] / c["n"]
        tau = mde * abs(pooled_mean) if pooled_mean != 0 else mde * pooled_sd
    return max(msprt(estimate, variance, tau), fixed_p)


# ---------------------------------------------------------------- analysis


def analyze(metric, looks, names, control, alpha, mde, weights):
    """`looks`: list (oldest first, current last) of {name: group}."""
    level = 1 - alpha
    current = looks[-1]
    treatments = [n for n in names if n != control]
    c = current[control]

    fixed, seq = {}, {}
    for name in treatments:
        running = 1.0
        for look in looks:
            f = (fixed_conversion if metric == "conversion" else fixed_continuous)(look[name], look[control])
            running = min(running, sequential_look(metric, look[name], look[control], mde, f[1]))
        fixed[name] = f
        seq[name] = running
    adj = dict(zip(treatments, multipletests([fixed[n][1] for n in treatments], method="holm")[1]))
    adj_seq = dict(zip(treatments, multipletests([seq[n] for n in treatments], method="holm")[1]))

    variants = []
    for name in names:
        g = current[name]
        if metric == "conversion":
            estimate = g["x"] / g["n"]
            ci = proportion_confint(g["x"], g["n"], alpha=alpha, method="wilson")
        else:
            estimate = g["mean"]
            ci = stats.t.interval(level, g["n"] - 1, loc=g["mean"], scale=stats.sem(g["raw"]))
        entry = {
            "name": name,
            "exposures": g["n"],
            "estimate": estimate,
            "ci": [float(ci[0]), float(ci[1])],
        }
        if name != control:
            if metric == "conversion":
                diff = estimate - c["x"] / c["n"]
                dci = confint_proportions_2indep(
                    g["x"], g["n"], c["x"], c["n"], method="wald", compare="diff", alpha=alpha
                )
                base = c["x"] / c["n"]
            else:
                diff = g["mean"] - c["mean"]
                dci = stats.ttest_ind(g["raw"], c["raw"], equal_var=False).confidence_interval(level)
                base = c["mean"]
            entry.update(
                {
                    "diff": float(diff),
                    "diffCi": [float(dci[0]), float(dci[1])],
                    "lift": float(diff / base) if base != 0 else None,
                    "statistic": fixed[name][0],
                    "pValue": fixed[name][1],
                    "adjustedPValue": float(adj[name]),
                    "sequentialPValue": seq[name],
                    "adjustedSequentialPValue": float(adj_seq[name]),
                    "significant": bool(adj[name] <= alpha),
                }
            )
        variants.append(entry)

    if metric == "conversion":
        table = np.array([[current[n]["x"], current[n]["n"] - current[n]["x"]] for n in names])
        used = table[:, table.sum(axis=0) > 0]
        if used.shape[1] < 2:
            # Documented rule: no conversions anywhere (or all converted) ->
            # statistic 0, p = 1 (scipy refuses a zero column).
            overall = {"statistic": 0.0, "pValue": 1.0, "df": 0.0}
        else:
            r = stats.chi2_contingency(used, correction=False)
            overall = {"statistic": float(r.statistic), "pValue": float(r.pvalue), "df": float(r.dof)}
    else:
        r = stats.f_oneway(*[current[n]["raw"] for n in names])
        overall = {"statistic": float(r.statistic), "pValue": float(r.pvalue), "df": float(len(names) - 1)}

    exposures = np.array([current[n]["n"] for n in names])
    w = np.array([weights[n] for n in names], dtype=float)
    r = stats.chisquare(exposures, exposures.sum() * w / w.sum())
    srm = {"statistic": float(r.statistic), "pValue": float(r.pvalue), "mismatch": bool(r.pvalue < SRM_THRESHOLD)}

    plan_alpha = alpha / len(treatments)
    za, zb = stats.norm.ppf(1 - plan_alpha / 2), stats.norm.ppf(POWER)
    if metric == "conversion":
        p1 = c["x"] / c["n"]
        p2 = p1 * (1 + mde)
        if p1 == 0 or p2 > 1:
            required = None
        else:
            pbar = (p1 + p2) / 2
            required = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (
                p2 - p1
            ) ** 2
    else:
        delta = mde * abs(c["mean"])
        required = None if delta == 0 or c["var"] == 0 else 2 * (za + zb) ** 2 * c["var"] / delta**2
    required = None if required is None else float(math.ceil(required))
    power = {
        "requiredPerVariant": required,
        "progress": None if required is None else float(exposures.min() / required),
    }
    return {
        "metric": metric,
        "control": control,
        "variants": variants,
        "overall": overall,
        "srm": srm,
        "power": power,
    }


# ---------------------------------------------------------------- cases

CASES = []


def conversion_case(name, note, variants, *, control=None, alpha=0.05, mde=0.05, weights=None, history=()):
    """variants: {name: (exposures, conversions)}; history: list of such dicts."""
    data = {"variants": {n: {"exposures": e, "conversions": x} for n, (e, x) in variants.items()}}
    if control is not None:
        data["control"] = control
    if history:
        data["history"] = [
            {"at": f"look {i + 1}", "variants": {n: {"exposures": e, "conversions": x} for n, (e, x) in h.items()}}
            for i, h in enumerate(history)
        ]
    names = list(variants)
    looks = [
        {n: conversion_group({"exposures": e, "conversions": x}) for n, (e, x) in snap.items()}
        for snap in [*history, variants]
    ]
    add_case(name, note, data, "conversion", looks, names, control, alpha, mde, weights)


def continuous_case(name, note, raw, *, control=None, alpha=0.05, mde=0.05, weights=None, looks_at=()):
    """raw: {name: array}; looks_at: earlier sample sizes per variant (fractions of the data)."""
    def sums(values):
        values = np.asarray(values, dtype=float)
        return {"exposures": len(values), "sum": float(values.sum()), "sumSquares": float((values**2).sum())}

    cut = lambda frac: {n: v[: int(len(v) * frac)] for n, v in raw.items()}
    data = {"variants": {n: sums(v) for n, v in raw.items()}}
    if control is not None:
        data["control"] = control
    if looks_at:
        data["history"] = [{"variants": {n: sums(v) for n, v in cut(f).items()}} for f in looks_at]
    names = list(raw)
    looks = [{n: continuous_group(v) for n, v in snap.items()} for snap in [*[cut(f) for f in looks_at], raw]]
    add_case(name, note, data, "continuous", looks, names, control, alpha, mde, weights)


def add_case(name, note, data, metric, looks, names, control, alpha, mde, weights):
    control = control or names[0]
    w = weights or {n: 1.0 for n in names}
    expected = analyze(metric, looks, names, control, alpha, mde, w)
    CASES.append(
        {
            "name": name,
            "note": note,
            "data": data,
            "config": {
                "alpha": alpha,
                "minimumDetectableEffect": mde,
                "weights": None if weights is None else [[n, float(x)] for n, x in weights.items()],
            },
            "expected": expected,
        }
    )


def build_cases():
    rng = np.random.default_rng(20260601)

    conversion_case("issue-example", "The data file of the issue.",
                    {"control": (10000, 1200), "green": (9950, 1302)}, control="control")
    conversion_case("small", "Small samples: Wilson and the pooled z-test at n < 25.",
                    {"a": (20, 3), "b": (18, 7)})
    conversion_case("tiny-zero-control", "Five users each, no control conversions: lift undefined, no power plan.",
                    {"a": (5, 0), "b": (5, 1)})
    conversion_case("no-conversions", "No conversions anywhere: p = 1, overall statistic 0 by rule.",
                    {"a": (100, 0), "b": (120, 0)})
    conversion_case("zero-in-treatment", "The treatment never converts.",
                    {"control": (500, 12), "broken": (480, 0)})
    conversion_case("all-converted", "Everyone converts: pooled rate 1, no plan (target rate above 1).",
                    {"a": (50, 50), "b": (60, 60)})
    conversion_case("large", "A million per arm, a 2 % relative lift.",
                    {"control": (1_000_000, 52_000), "treatment": (1_000_000, 53_100)})
    conversion_case("huge-effect", "Five million per arm, z ≈ 28: the p-values test far-tail precision.",
                    {"control": (5_000_000, 250_000), "treatment": (5_000_000, 270_000)})
    conversion_case("many-variants", "Six arms, Holm across five comparisons.",
                    {"control": (4000, 400), "b": (4010, 452), "c": (3990, 398), "d": (4020, 430),
                     "e": (3980, 470), "f": (4005, 380)})
    conversion_case("abc-weights", "The example flag's 34/33/33 split, fitting weights.",
                    {"control": (3400, 340), "gallery": (3300, 361), "video": (3300, 350)},
                    weights={"control": 34, "gallery": 33, "video": 33})
    conversion_case("srm", "Sample-ratio mismatch: 10000 vs 10600 on a 50/50 split.",
                    {"control": (10000, 1000), "treatment": (10600, 1100)},
                    weights={"control": 50, "treatment": 50})
    conversion_case("srm-borderline", "5000 vs 5100 on 50/50: no mismatch.",
                    {"control": (5000, 500), "treatment": (5100, 520)},
                    weights={"control": 50, "treatment": 50})
    conversion_case("unequal-weights", "A 90/10 split fitting its weights.",
                    {"control": (9000, 900), "treatment": (1000, 118)},
                    weights={"control": 90, "treatment": 10})
    conversion_case("alpha-001", "α = 0.01: 99 % intervals, stricter significance.",
                    {"control": (8000, 800), "treatment": (8000, 880)}, alpha=0.01)
    conversion_case("alpha-01-mde-10", "α = 0.1 and a 10 % MDE.",
                    {"control": (3000, 150), "treatment": (3000, 180)}, alpha=0.1, mde=0.1)
    conversion_case("control-not-first", "The data names its control, listed last.",
                    {"b": (2000, 260), "c": (2000, 250), "a": (2000, 200)}, control="a")
    conversion_case("history-rising", "Four daily looks as the effect accumulates.",
                    {"control": (20000, 2000), "treatment": (20000, 2200)},
                    history=[{"control": (5000, 500), "treatment": (5000, 560)},
                             {"control": (10000, 1000), "treatment": (10000, 1110)},
                             {"control": (15000, 1500), "treatment": (15000, 1650)}])
    conversion_case("history-fading", "An early lead that fades: the running minimum stays at the early look.",
                    {"control": (40000, 4000), "treatment": (40000, 4040)},
                    history=[{"control": (10000, 1000), "treatment": (10000, 1130)},
                             {"control": (20000, 2000), "treatment": (20000, 2130)}])

    continuous_case("continuous-small", "Twelve and fifteen observations, normal.",
                    {"control": rng.normal(10, 3, 12), "treatment": rng.normal(12, 3, 15)})
    continuous_case("continuous-minimum", "Two and three observations: t with 1–2 degrees of freedom.",
                    {"a": np.array([3.0, 5.0]), "b": np.array([4.0, 9.0, 11.0])})
    continuous_case("continuous-large", "Log-normal revenue, 200000 per arm: df ≈ 4·10⁵.",
                    {"control": rng.lognormal(3, 1, 200_000), "treatment": rng.lognormal(3.01, 1, 200_000)})
    continuous_case("continuous-three-arms", "Three arms with different spreads: Welch matters.",
                    {"control": rng.normal(50, 5, 300), "wide": rng.normal(51, 10, 280),
                     "wider": rng.normal(55, 20, 310)})
    continuous_case("continuous-huge-effect", "A 3 % shift of a tight metric: far-tail t and F.",
                    {"control": rng.normal(100, 10, 5000), "treatment": rng.normal(103, 10, 5000)})
    continuous_case("continuous-zero-control-mean",
                    "Control mean exactly 0: no lift, no plan, τ from the pooled mean.",
                    {"control": np.repeat(np.arange(-3.0, 4.0), 100), "treatment": rng.integers(-2, 5, 700).astype(float)})
    continuous_case("continuous-history", "Continuous metric looked at three times.",
                    {"control": rng.normal(20, 4, 3000), "treatment": rng.normal(20.4, 4, 3000)},
                    looks_at=(0.25, 0.5))
    continuous_case("continuous-srm", "A continuous metric with a sample-ratio mismatch on 50/50.",
                    {"control": rng.normal(5, 1, 1000), "treatment": rng.normal(5, 1, 1200)},
                    weights={"control": 1, "treatment": 1})


# ---------------------------------------------------------------- guardrail

GUARDRAIL = []


def guardrail_case(name, rollout, baseline, tolerance, alpha, min_samples):
    (fr, nr), (fb, nb) = rollout, baseline
    expected = {"verdict": "noData", "statistic": None, "pValue": None}
    if min(nr, nb) > 0 and min(nr, nb) >= min_samples:
        r = test_proportions_2indep(fr, nr, fb, nb, value=tolerance, method="agresti-caffo",
                                    compare="diff", alternative="larger")
        p = float(r.pvalue)
        expected = {"verdict": "fail" if p <= alpha else "pass", "statistic": float(r.statistic), "pValue": p}
    GUARDRAIL.append({
        "name": name,
        "rollout": {"failures": fr, "total": nr},
        "baseline": {"failures": fb, "total": nb},
        "tolerance": tolerance,
        "alpha": alpha,
        "minSamples": min_samples,
        "expected": expected,
    })


def build_guardrail():
    guardrail_case("clearly-worse", (60, 2000), (20, 2000), 0.0, 0.05, 100)
    guardrail_case("same-rate", (20, 2000), (20, 2000), 0.0, 0.05, 100)
    guardrail_case("within-tolerance", (300, 20000), (200, 20000), 0.01, 0.05, 100)
    guardrail_case("beyond-tolerance", (300, 20000), (100, 20000), 0.005, 0.05, 100)
    guardrail_case("zero-failures", (0, 500), (0, 500), 0.0, 0.05, 100)
    guardrail_case("rollout-only-failures", (4, 300), (0, 5000), 0.0, 0.05, 100)
    guardrail_case("borderline-alpha-05", (130, 5000), (100, 5000), 0.0, 0.05, 100)
    guardrail_case("borderline-alpha-01", (130, 5000), (100, 5000), 0.0, 0.01, 100)
    guardrail_case("fractional-counts", (12.5, 1040.25), (30.75, 9800.5), 0.0, 0.05, 100)
    guardrail_case("below-min-samples", (40, 50), (0, 5000), 0.0, 0.05, 100)
    guardrail_case("no-traffic", (0, 0), (0, 0), 0.0, 0.05, 0)


def main():
    # statsmodels computes ratios and odds ratios it does not return and warns
    # about 0/0 when a group has no failures; the values used here are finite.
    warnings.simplefilter("ignore", RuntimeWarning)
    build_cases()
    build_guardrail()
    doc = {
        "generator": "tests/data/stats/reference.py",
        "versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__, "numpy": np.__version__},
        "cases": CASES,
        "guardrail": GUARDRAIL,
    }
    OUT.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {len(CASES)} analysis cases and {len(GUARDRAIL)} guardrail cases to {OUT}")


if __name__ == "__main__":
    main()
