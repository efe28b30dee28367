//! Condition matching. Missing attributes and type mismatches are `false`,
//! never an error or a panic.
//!
//! One deliberate coercion: when an operand is a number or boolean and the
//! attribute is a string (query strings and headers are always strings), the
//! string is read as that type — `age=30` passes `gt 18`.

use std::cmp::Ordering;

use super::bucket::{KeyBuf, attr_key_bytes};
use super::value::AttrValue;
use super::{Context, EvalEnv, InitialRollouts, RolloutState};
use crate::ruleset::{
    AttrTest, BucketBy, BucketingMode, CompiledSegment, Cond, FALSE, FlagId, Leaf, NumOp,
    PercentageTest, Ruleset, Scalar, StrSet, TRUE, VariantId,
};
use crate::text::same;
use crate::version::parse_version;
use jiff::Timestamp;

/// Everything a condition may consult besides the context.
pub(crate) struct Scope<'a> {
    pub segments: &'a [CompiledSegment],
    pub now: Timestamp,
    /// The ruleset, for `flag` conditions (none in unit tests of conditions).
    pub ruleset: Option<&'a Ruleset>,
    /// Rollout positions, for the flags `flag` conditions evaluate.
    pub rollouts: &'a dyn RolloutState,
}

impl Cond {
    /// Whether the condition holds for `ctx` at `now` against `ruleset`'s segments.
    pub fn matches(&self, ctx: &Context, ruleset: &Ruleset, now: Timestamp) -> bool {
        self.holds(
            ctx,
            &Scope {
                segments: &ruleset.segments,
                now,
                ruleset: Some(ruleset),
                rollouts: &InitialRollouts,
            },
        )
    }

    /// Runs the steps from the first, following each test's jump until one
    /// gives the answer (`ruleset::cond` says how the tree was flattened).
    ///
    /// Inlined into the evaluator's loop over a flag's rules, so that what
    /// the loop reads from the context once is not read again per rule;
    /// a segment's condition is a call ([`Cond::holds_in_segment`]).
    #[inline(always)]
    pub(crate) fn holds(&self, ctx: &Context, scope: &Scope<'_>) -> bool {
        let mut at = 0;
        // Jumps only go forward, so this ends; past the end cannot happen
        // for a compiled condition, and reads as "does not hold".
        while let Some(step) = self.steps.get(at) {
            let next = if step.leaf.holds(ctx, scope) {
                step.then
            } else {
                step.otherwise
            };
            match next {
                TRUE => return true,
                FALSE => return false,
                _ => at = next as usize,
            }
        }
        false
    }
}

impl Cond {
    /// [`Cond::holds`] out of line, for segments: the evaluator's loop
    /// stays small, and a segment that refers to another recurses through
    /// a call rather than an endless inlining.
    #[inline(never)]
    fn holds_in_segment(&self, ctx: &Context, scope: &Scope<'_>) -> bool {
        self.holds(ctx, scope)
    }
}

impl Leaf {
    #[inline(always)]
    fn holds(&self, ctx: &Context, scope: &Scope<'_>) -> bool {
        match self {
            Leaf::Attr { attr, test } => match ctx.lookup(attr) {
                Some(v) => test.test(v),
                None => attr.path.is_some() && nested_holds(ctx, attr, test),
            },
            Leaf::Segment(id) => scope
                .segments
                .get(*id as usize)
                .is_some_and(|s| s.admits(ctx, scope)),
            Leaf::Time(range) => range.contains(scope.now),
            Leaf::Percentage(test) => test.holds(ctx),
            Leaf::Flag { id, variants } => flag_serves(*id, variants, ctx, scope),
        }
    }
}

/// Whether flag `id` serves one of `variants` to `ctx`; an evaluation that
/// ends in an error serves none. Out of line: it recurses into the
/// evaluator, which the compiler keeps acyclic (`compile::reference`).
#[inline(never)]
fn flag_serves(id: FlagId, variants: &[VariantId], ctx: &Context, scope: &Scope<'_>) -> bool {
    let Some(ruleset) = scope.ruleset else {
        return false;
    };
    let env = EvalEnv {
        now: scope.now,
        rollouts: scope.rollouts,
    };
    ruleset
        .evaluate_id(id, ctx, &env)
        .is_ok_and(|ev| variants.contains(&ev.variant))
}

/// The bytes of the first attribute of `list` that gives a bucketing key
/// (in `unleash` mode an empty string gives none, as an empty stickiness
/// value gives none in Unleash).
#[inline]
pub(crate) fn first_key<'a>(
    ctx: &'a Context,
    list: &[BucketBy],
    mode: BucketingMode,
    buf: &'a mut KeyBuf,
) -> Option<&'a [u8]> {
    let usable = |value: &AttrValue| {
        let mut scratch: KeyBuf = [0; 40];
        attr_key_bytes(value, &mut scratch)
            .is_some_and(|key| !key.is_empty() || mode != BucketingMode::Unleash)
    };
    let value = list.iter().find_map(|by| {
        match by {
            BucketBy::TargetingKey => ctx.targeting_key(),
            BucketBy::Attr(name) => ctx.lookup(name),
        }
        .filter(|v| usable(v))
    })?;
    attr_key_bytes(value, buf)
}

impl PercentageTest {
    /// Inside iff the context has a key and its rollout bucket is below
    /// the threshold; without a key, outside.
    #[inline(never)]
    fn holds(&self, ctx: &Context) -> bool {
        if self.threshold == 0 {
            return false;
        }
        let mut buf: KeyBuf = [0; 40];
        first_key(ctx, &self.bucket_by, self.mode, &mut buf).is_some_and(|key| {
            self.mode
                .rollout_bucket(&self.salt_prefix, &self.murmur, key)
                < self.threshold
        })
    }
}

/// A test on a nested attribute (`user.email`), out of line: the value is
/// converted from the context's JSON, which may allocate, where top-level
/// attributes are read in place.
#[inline(never)]
fn nested_holds(ctx: &Context, attr: &crate::attr_key::AttrKey, test: &AttrTest) -> bool {
    ctx.nested(attr)
        .and_then(|v| AttrValue::from_json(v.clone()))
        .is_some_and(|v| test.test(&v))
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
        self.when
            .as_ref()
            .is_some_and(|c| c.holds_in_segment(ctx, scope))
    }
}

impl AttrTest {
    /// Applies the test to a present, non-null attribute value.
    ///
    /// Presence and equality, most rules' tests, are inlined into the
    /// condition loop; the others are a call.
    #[inline(always)]
    pub fn test(&self, value: &AttrValue) -> bool {
        match self {
            AttrTest::Exists => true,
            AttrTest::Equals {
                negated,
                strings,
                others,
            } => equals(*negated, strings, others, value),
            _ => self.test_other(value),
        }
    }

    /// The tests [`AttrTest::test`] does not inline.
    #[inline(never)]
    fn test_other(&self, value: &AttrValue) -> bool {
        match self {
            AttrTest::Exists | AttrTest::Equals { .. } => self.test(value),
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
            AttrTest::Cidr(networks) => value
                .as_str()
                .and_then(|s| s.trim().parse::<std::net::IpAddr>().ok())
                .is_some_and(|ip| networks.iter().any(|n| n.contains(&ip))),
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

/// `eq`/`in` (any operand equal), or `neq`/`not_in` when `negated` (none
/// equal); a value that is not a scalar is neither.
#[inline(always)]
fn equals(negated: bool, strings: &StrSet, others: &[Scalar], value: &AttrValue) -> bool {
    let any = match value {
        AttrValue::Str(s) => strings.contains(s) || others.iter().any(|o| scalar_eq(o, value)),
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
    any != negated
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::AttrTest;
    use proptest::prelude::*;

    /// A condition as written, evaluated the way the tree reads: the
    /// reference the flattened form must agree with.
    #[derive(Debug, Clone)]
    enum Tree {
        Has(u8),
        All(Vec<Tree>),
        Any(Vec<Tree>),
        Not(Box<Tree>),
    }

    impl Tree {
        fn holds(&self, present: &[bool]) -> bool {
            match self {
                Tree::Has(i) => present[usize::from(*i)],
                Tree::All(items) => items.iter().all(|t| t.holds(present)),
                Tree::Any(items) => items.iter().any(|t| t.holds(present)),
                Tree::Not(inner) => !inner.holds(present),
            }
        }

        fn compile(&self) -> Cond {
            let list = |items: &[Tree]| items.iter().map(Tree::compile).collect();
            match self {
                Tree::Has(i) => Cond::attr(format!("a{i}").as_str().into(), AttrTest::Exists),
                Tree::All(items) => Cond::all(list(items)),
                Tree::Any(items) => Cond::any(list(items)),
                Tree::Not(inner) => Cond::not(inner.compile()),
            }
        }
    }

    fn tree() -> impl Strategy<Value = Tree> {
        (0u8..4)
            .prop_map(Tree::Has)
            .prop_recursive(5, 32, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::All),
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::Any),
                    inner.prop_map(|t| Tree::Not(Box::new(t))),
                ]
            })
    }

    proptest! {
        #[test]
        fn flattened_conditions_agree_with_the_tree(
            tree in tree(),
            present in prop::array::uniform4(any::<bool>()),
        ) {
            let mut ctx = Context::new();
            for (i, _) in present.iter().enumerate().filter(|(_, p)| **p) {
                ctx = ctx.with_bool(&format!("a{i}"), true);
            }
            let scope = Scope { segments: &[], now: Timestamp::UNIX_EPOCH, ruleset: None, rollouts: &InitialRollouts };
            let cond = tree.compile();
            prop_assert_eq!(cond.holds(&ctx, &scope), tree.holds(&present));
            // Every jump goes forward, so evaluation always ends.
            let len = cond.steps.len();
            prop_assert!(len > 0);
            for (i, step) in cond.steps.iter().enumerate() {
                for next in [step.then, step.otherwise] {
                    prop_assert!(next == TRUE || next == FALSE || (i < next as usize && (next as usize) < len));
                }
            }
        }
    }
}
