//! Condition matching. Missing attributes and type mismatches are `false`,
//! never an error or a panic.
//!
//! One deliberate coercion: when an operand is a number or boolean and the
//! attribute is a string (query strings and headers are always strings), the
//! string is read as that type — `age=30` passes `gt 18`.

use std::cmp::Ordering;

use super::Context;
use super::bucket::{KeyBuf, attr_key_bytes};
use super::text::same;
use super::value::AttrValue;
use crate::ruleset::{AttrTest, CompiledSegment, Cond, NumOp, Ruleset, Scalar};
use jiff::Timestamp;

/// Everything a condition may consult besides the context.
pub(crate) struct Scope<'a> {
    pub segments: &'a [CompiledSegment],
    pub now: Timestamp,
}

impl Cond {
    /// Whether the condition holds for `ctx` at `now` against `ruleset`'s segments.
    pub fn matches(&self, ctx: &Context, ruleset: &Ruleset, now: Timestamp) -> bool {
        self.holds(
            ctx,
            &Scope {
                segments: &ruleset.segments,
                now,
            },
        )
    }

    pub(crate) fn holds(&self, ctx: &Context, scope: &Scope<'_>) -> bool {
        match self {
            Cond::Attr { attr, test } => ctx.lookup(attr).is_some_and(|v| test.test(v)),
            Cond::Segment(id) => scope
                .segments
                .get(*id as usize)
                .is_some_and(|s| s.admits(ctx, scope)),
            Cond::All(items) => items.iter().all(|c| c.holds(ctx, scope)),
            Cond::Any(items) => items.iter().any(|c| c.holds(ctx, scope)),
            Cond::Not(inner) => !inner.holds(ctx, scope),
            Cond::Time(range) => range.contains(scope.now),
        }
    }
}

impl CompiledSegment {
    /// Whether the context belongs: its key is listed, or `when` holds.
    pub(crate) fn admits(&self, ctx: &Context, scope: &Scope<'_>) -> bool {
        if !self.keys.is_empty()
            && let Some(key) = ctx.targeting_key()
        {
            let mut buf: KeyBuf = [0; 40];
            if attr_key_bytes(key, &mut buf)
                .and_then(|b| std::str::from_utf8(b).ok())
                .is_some_and(|k| self.keys.contains(k))
            {
                return true;
            }
        }
        self.when.as_ref().is_some_and(|c| c.holds(ctx, scope))
    }
}

impl AttrTest {
    /// Applies the test to a present, non-null attribute value.
    pub fn test(&self, value: &AttrValue) -> bool {
        match self {
            AttrTest::Exists => true,
            AttrTest::Equals {
                negated,
                strings,
                others,
            } => {
                let any = match value {
                    AttrValue::Str(s) => {
                        strings.contains(s) || others.iter().any(|o| scalar_eq(o, value))
                    }
                    AttrValue::Num(_) => {
                        others.iter().any(|o| scalar_eq(o, value)) || {
                            let mut buf: KeyBuf = [0; 40];
                            attr_key_bytes(value, &mut buf)
                                .and_then(|b| std::str::from_utf8(b).ok())
                                .is_some_and(|s| strings.contains(s))
                        }
                    }
                    AttrValue::Bool(b) => {
                        others.iter().any(|o| scalar_eq(o, value))
                            || strings.contains(if *b { "true" } else { "false" })
                    }
                    // Not a scalar: neither equal nor unequal.
                    _ => return false,
                };
                any != *negated
            }
            AttrTest::Contains(operands) => match value {
                AttrValue::Str(s) => operands.iter().any(|o| match o {
                    Scalar::Str(needle) => s.contains(&**needle),
                    _ => false,
                }),
                AttrValue::List(items) => items
                    .iter()
                    .any(|item| operands.iter().any(|o| scalar_eq(o, item))),
                _ => false,
            },
            AttrTest::StartsWith(prefixes) => value
                .as_str()
                .is_some_and(|s| prefixes.iter().any(|p| s.starts_with(&**p))),
            AttrTest::EndsWith(suffixes) => value
                .as_str()
                .is_some_and(|s| suffixes.iter().any(|p| s.ends_with(&**p))),
            AttrTest::Matches(regexes) => value
                .as_str()
                .is_some_and(|s| regexes.iter().any(|r| r.is_match(s))),
            AttrTest::Compare(op, operands) => as_number(value).is_some_and(|x| {
                operands
                    .iter()
                    .any(|o| x.partial_cmp(o).is_some_and(|ord| op.holds(ord)))
            }),
            AttrTest::Semver(op, operands) => {
                let holds =
                    |v: &semver::Version| operands.iter().any(|o| op.holds(v.cmp_precedence(o)));
                match value {
                    AttrValue::Version(v) => holds(v),
                    AttrValue::Str(s) => parse_version(s).is_some_and(|v| holds(&v)),
                    _ => false,
                }
            }
            AttrTest::Instant { before, operands } => as_instant(value).is_some_and(|t| {
                operands.iter().any(|o| {
                    let ord = t.cmp(o);
                    if *before {
                        ord == Ordering::Less
                    } else {
                        NumOp::Gte.holds(ord)
                    }
                })
            }),
        }
    }
}

/// Equality of a number/boolean/string operand with a value, coercing a
/// string value to the operand's type.
fn scalar_eq(operand: &Scalar, value: &AttrValue) -> bool {
    match (operand, value) {
        (Scalar::Str(a), AttrValue::Str(b)) => same(a, b),
        (Scalar::Num(a), v) => as_number(v).is_some_and(|b| *a == b),
        (Scalar::Bool(a), AttrValue::Bool(b)) => a == b,
        (Scalar::Bool(a), AttrValue::Str(s)) => {
            matches!((a, s.as_str()), (true, "true") | (false, "false"))
        }
        _ => false,
    }
}

/// A number, or a string that reads as one.
fn as_number(v: &AttrValue) -> Option<f64> {
    match v {
        AttrValue::Num(n) => n.as_f64(),
        AttrValue::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Parses a semantic version, allowing a leading `v`.
pub fn parse_version(s: &str) -> Option<semver::Version> {
    let s = s.trim();
    semver::Version::parse(s.strip_prefix(['v', 'V']).unwrap_or(s)).ok()
}

/// An instant, an RFC 3339 string or a Unix time in seconds.
fn as_instant(v: &AttrValue) -> Option<Timestamp> {
    match v {
        AttrValue::Time(t) => Some(*t),
        AttrValue::Str(s) => s.parse().ok(),
        AttrValue::Num(n) => {
            if let Some(i) = n.as_i64() {
                Timestamp::from_second(i).ok()
            } else {
                let f = n.as_f64()?;
                if !f.is_finite() || f.abs() > 1e15 {
                    return None;
                }
                Timestamp::from_nanosecond((f * 1e9) as i128).ok()
            }
        }
        _ => None,
    }
}
