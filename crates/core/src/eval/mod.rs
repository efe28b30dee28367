//! Evaluation: a flag key and a context in, a variant and its reason out.
//!
//! The order is docs/flag-format.md §10: unknown flag → `FLAG_NOT_FOUND`; disabled →
//! `offVariant` (`DISABLED`); rules in order, first match wins
//! (`TARGETING_MATCH`, or `SPLIT` when it served a split); an active rollout
//! (`ROLLOUT`); the default (`STATIC`, `DEFAULT` or `SPLIT`).
//!
//! The hot path does not allocate: flags are found through one hash lookup,
//! keys are hashed from a stack buffer, and the result borrows the ruleset.

pub mod bucket;
mod cond;
pub mod context;
pub mod explain;
pub mod value;

use std::fmt;

use jiff::Timestamp;
use serde_json::Value;

pub use context::{Context, ContextError};
pub use explain::{Explanation, RuleOutcome, RuleTrace};
pub use value::AttrValue;

// Defined beneath `compile`, which uses them too; these are their public
// paths.
pub use crate::attr_key::AttrKey;
pub use crate::version::parse_version;

use self::bucket::{BUCKETS, BucketingMode, KeyBuf, attr_key_bytes};
use self::cond::Scope;
use crate::model::Strategy;
use crate::ruleset::{
    BucketBy, CompiledFlag, CompiledRollout, CompiledServe, FlagId, RolloutPlan, Ruleset, VariantId,
};

/// Why a variant was served (OFREP reason codes, plus `ROLLOUT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The flag has no rules and no rollout.
    Static,
    /// Nothing applied; the default variant.
    Default,
    /// A rule matched and served a variant.
    TargetingMatch,
    /// A split chose the variant.
    Split,
    /// The kill switch served `offVariant`.
    Disabled,
    /// The context is inside the flag's rollout.
    Rollout,
}

impl Reason {
    /// The wire name, e.g. `TARGETING_MATCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::Default => "DEFAULT",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
            Reason::Rollout => "ROLLOUT",
        }
    }

    /// All reasons, for metrics and docs.
    pub const ALL: [Reason; 6] = [
        Reason::Static,
        Reason::Default,
        Reason::TargetingMatch,
        Reason::Split,
        Reason::Disabled,
        Reason::Rollout,
    ];
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why no variant could be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The ruleset has no flag of that key.
    #[error("flag not found")]
    FlagNotFound,
    /// Only a split could place this context, and it lacks the flag's
    /// bucketing attribute (`targetingKey` unless `bucketBy` says otherwise).
    #[error("the context has no key to bucket by, and only a split could place it")]
    TargetingKeyMissing,
}

impl EvalError {
    /// The OFREP error code.
    pub fn code(&self) -> &'static str {
        match self {
            EvalError::FlagNotFound => "FLAG_NOT_FOUND",
            EvalError::TargetingKeyMissing => "TARGETING_KEY_MISSING",
        }
    }
}

/// Where a rollout stands, as the evaluator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutPosition {
    /// Membership threshold: inside iff `bucket < threshold` (0 = nobody,
    /// 100000 = everyone). For `scheduled` and `segment`, 0 switches the
    /// rollout off and anything else leaves it to the window or segments.
    pub threshold: u32,
    /// The canary stage, when there is one.
    pub stage: Option<u32>,
}

impl RolloutPosition {
    /// Nobody inside.
    pub const OFF: RolloutPosition = RolloutPosition {
        threshold: 0,
        stage: None,
    };
}

/// Supplies the live position of each rollout. flagd's controller implements
/// it over atomics; tools use [`InitialRollouts`] or [`FixedRollouts`].
pub trait RolloutState: AsDynRollouts {
    /// The position of `flag`'s rollout now.
    fn position(
        &self,
        id: FlagId,
        flag: &CompiledFlag,
        rollout: &CompiledRollout,
    ) -> RolloutPosition;
}

/// A [`RolloutState`] as a trait object, for the flags a `flag` condition
/// evaluates (conditions are not generic over the rollout state).
pub trait AsDynRollouts {
    /// `self` as `&dyn RolloutState`.
    fn as_dyn(&self) -> &dyn RolloutState;
}

impl<T: RolloutState> AsDynRollouts for T {
    fn as_dyn(&self) -> &dyn RolloutState {
        self
    }
}

/// Every rollout where it starts: a canary's first stage, a linear ramp's
/// `from`, everything else fully on.
#[derive(Debug, Clone, Copy, Default)]
pub struct InitialRollouts;

impl RolloutState for InitialRollouts {
    #[inline]
    fn position(
        &self,
        _id: FlagId,
        _flag: &CompiledFlag,
        rollout: &CompiledRollout,
    ) -> RolloutPosition {
        initial_position(rollout)
    }
}

/// The position a rollout starts at.
#[inline]
pub fn initial_position(rollout: &CompiledRollout) -> RolloutPosition {
    match &rollout.plan {
        RolloutPlan::Canary { stages } => RolloutPosition {
            threshold: stages.first().map_or(0, |s| s.threshold),
            stage: Some(0),
        },
        RolloutPlan::Linear { from, .. } => RolloutPosition {
            threshold: *from,
            stage: None,
        },
        _ => RolloutPosition {
            threshold: BUCKETS,
            stage: None,
        },
    }
}

/// Every rollout at one threshold (`flagctl eval --percentage`, `simulate`).
#[derive(Debug, Clone, Copy)]
pub struct FixedRollouts(pub u32);

impl RolloutState for FixedRollouts {
    fn position(
        &self,
        _id: FlagId,
        _flag: &CompiledFlag,
        rollout: &CompiledRollout,
    ) -> RolloutPosition {
        let stage = match &rollout.plan {
            RolloutPlan::Canary { stages } => stages
                .iter()
                .rposition(|s| s.threshold <= self.0)
                .and_then(|i| u32::try_from(i).ok()),
            _ => None,
        };
        RolloutPosition {
            threshold: self.0,
            stage,
        }
    }
}

/// How the rollout looked during an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutOutcome {
    /// The percentage and stage the evaluation used.
    pub position: RolloutPosition,
    /// The context's rollout bucket, when one was computed.
    pub bucket: Option<u32>,
    /// Whether the context was inside.
    pub inside: bool,
}

/// The result of evaluating one flag.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'r> {
    /// The flag's id in its ruleset.
    pub flag_id: FlagId,
    /// The compiled flag, for its variants' names and values.
    pub flag: &'r CompiledFlag,
    /// The variant served.
    pub variant: VariantId,
    /// Why.
    pub reason: Reason,
    /// The index of the matching rule, if a rule matched.
    pub rule: Option<usize>,
    /// The split bucket, when a split chose the variant.
    pub split_bucket: Option<u32>,
    /// The rollout, when it was consulted (no rule matched first).
    pub rollout: Option<RolloutOutcome>,
}

impl<'r> Evaluation<'r> {
    /// The served variant's value; `null` for `$codeDefault`, which serves
    /// none (see [`Evaluation::served_value`]).
    pub fn value(&self) -> &'r Value {
        &self.flag.variant(self.variant).value
    }

    /// The value to answer with: `None` where the flag serves
    /// `$codeDefault`, and the caller uses the default in its code
    /// (docs/flag-format.md §5). Answers then carry no value and no
    /// variant.
    #[inline]
    pub fn served_value(&self) -> Option<&'r Value> {
        (!self.is_code_default()).then(|| self.value())
    }

    /// Whether the evaluation served `$codeDefault`: it succeeded, but the
    /// caller uses its own default.
    #[inline]
    pub fn is_code_default(&self) -> bool {
        self.flag.is_code_default(self.variant)
    }

    /// The served variant's name (`$codeDefault` for the code default, as
    /// statistics and simulations count it).
    pub fn variant_name(&self) -> &'r str {
        &self.flag.variant(self.variant).name
    }

    /// The served variant's name, `None` for `$codeDefault`: what answers
    /// carry.
    #[inline]
    pub fn served_variant(&self) -> Option<&'r str> {
        (!self.is_code_default()).then(|| self.variant_name())
    }

    /// The matching rule's name.
    pub fn rule_name(&self) -> Option<&'r str> {
        self.rule.map(|i| &*self.flag.rules[i].name)
    }

    /// One sentence on why, e.g. "canary stage 1: bucket 4123 < 10000
    /// (10%)": a value that writes itself (`to_string()` for a `String`),
    /// so that an answer serialized per request allocates nothing for it.
    pub fn detail(&self) -> Detail<'r> {
        Detail(*self)
    }
}

/// [`Evaluation::detail`]: why an evaluation served what it served.
#[derive(Debug, Clone, Copy)]
pub struct Detail<'r>(Evaluation<'r>);

impl fmt::Display for Detail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ev = &self.0;
        match ev.reason {
            Reason::Disabled if ev.is_code_default() => {
                f.write_str("flag is disabled; the caller uses its code default")
            }
            Reason::Disabled => f.write_str("flag is disabled; serving offVariant"),
            Reason::Static => f.write_str("static flag: no rules and no rollout"),
            Reason::TargetingMatch => {
                write!(f, "rule `{}` matched", ev.rule_name().unwrap_or("?"))
            }
            Reason::Split => {
                let bucket = ev.split_bucket.unwrap_or(0);
                match ev.rule_name() {
                    Some(rule) => write!(
                        f,
                        "rule `{rule}` matched; split bucket {bucket} → {}",
                        ev.variant_name()
                    ),
                    None => write!(f, "default split: bucket {bucket} → {}", ev.variant_name()),
                }
            }
            Reason::Rollout | Reason::Default => self.rollout(f),
        }
    }
}

impl Detail<'_> {
    fn rollout(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ev = &self.0;
        let Some((outcome, rollout)) = ev.rollout.zip(ev.flag.rollout.as_ref()) else {
            return f.write_str(if ev.is_code_default() {
                "no rule matched; the default is the caller's code default"
            } else {
                "no rule matched; serving the default"
            });
        };
        let pos = outcome.position;
        let pct = bucket::percentage(pos.threshold);
        match (rollout.strategy, pos.stage) {
            (Strategy::Canary, Some(stage)) => write!(f, "canary stage {}: ", stage + 1)?,
            (strategy, _) => write!(f, "{}: ", strategy.as_str())?,
        }
        // Outside a canary or linear rollout, the bucket says how far;
        // elsewhere there is nothing more to say.
        let bucketed = matches!(rollout.strategy, Strategy::Canary | Strategy::Linear)
            && outcome.bucket.is_some();
        if !outcome.inside && !bucketed {
            return f.write_str("not inside; serving the default");
        }
        match (rollout.strategy, outcome.bucket) {
            (Strategy::Scheduled, _) => f.write_str("inside the window")?,
            (Strategy::Segment, _) => f.write_str("in a rollout segment")?,
            (Strategy::Direct, _) => f.write_str("everyone")?,
            (_, Some(b)) if outcome.inside => write!(f, "bucket {b} < {} ({pct}%)", pos.threshold)?,
            (_, Some(b)) => write!(f, "bucket {b} ≥ {} ({pct}%)", pos.threshold)?,
            (_, None) => write!(f, "no bucketing key ({pct}%)")?,
        }
        if outcome.inside {
            Ok(())
        } else {
            f.write_str("; serving the default")
        }
    }
}

/// When and against which rollout positions to evaluate.
#[derive(Debug, Clone, Copy)]
pub struct EvalEnv<'a, R: RolloutState + ?Sized = InitialRollouts> {
    /// The evaluation time (time conditions, scheduled rollouts).
    pub now: Timestamp,
    /// Live rollout positions.
    pub rollouts: &'a R,
}

impl EvalEnv<'static, InitialRollouts> {
    /// Now, with rollouts where they start.
    pub fn now() -> Self {
        EvalEnv {
            now: Timestamp::now(),
            rollouts: &InitialRollouts,
        }
    }
}

impl Ruleset {
    /// Evaluates the flag `key` for `ctx`: which variant it serves and why.
    /// Nothing is allocated; the result borrows the ruleset. An `Err` is an
    /// evaluation that ended in an error code (`FLAG_NOT_FOUND`,
    /// `TARGETING_KEY_MISSING`, …), which callers serve as the default.
    ///
    /// ```
    /// use hotswap_flags_core::{Context, EvalEnv, Reason, Repository};
    ///
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../flags-example");
    /// let ruleset = Repository::open(dir)?.ruleset("production")?;
    /// let mut staff = Context::new().with_key("user-42");
    /// staff.insert("email", "ana@example.com".into())?;
    /// let eval = ruleset.evaluate("new-checkout-flow", &staff, &EvalEnv::now())?;
    /// assert_eq!((eval.value(), eval.reason), (&true.into(), Reason::TargetingMatch));
    /// assert!(ruleset.evaluate("no-such-flag", &staff, &EvalEnv::now()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate<R: RolloutState + ?Sized>(
        &self,
        key: &str,
        ctx: &Context,
        env: &EvalEnv<'_, R>,
    ) -> Result<Evaluation<'_>, EvalError> {
        let id = self.flag_id(key).ok_or(EvalError::FlagNotFound)?;
        self.evaluate_inline(id, ctx, env)
    }

    /// Evaluates the flag with id `id` (for bulk evaluation and simulation).
    pub fn evaluate_id<R: RolloutState + ?Sized>(
        &self,
        id: FlagId,
        ctx: &Context,
        env: &EvalEnv<'_, R>,
    ) -> Result<Evaluation<'_>, EvalError> {
        self.evaluate_inline(id, ctx, env)
    }

    /// The body of both entry points, inlined into each: [`evaluate`]'s
    /// lookup and the evaluation then share one call, whose entry and exit
    /// cost about as much as the lookup itself.
    ///
    /// [`evaluate`]: Ruleset::evaluate
    #[inline(always)]
    fn evaluate_inline<R: RolloutState + ?Sized>(
        &self,
        id: FlagId,
        ctx: &Context,
        env: &EvalEnv<'_, R>,
    ) -> Result<Evaluation<'_>, EvalError> {
        let flag = self.flag(id);
        let mut ev = Evaluation {
            flag_id: id,
            flag,
            variant: flag.off_variant,
            reason: Reason::Disabled,
            rule: None,
            split_bucket: None,
            rollout: None,
        };
        if !flag.enabled {
            return Ok(ev);
        }
        let scope = Scope {
            segments: &self.segments,
            now: env.now,
            ruleset: Some(self),
            rollouts: env.rollouts.as_dyn(),
        };
        for (i, rule) in flag.rules.iter().enumerate() {
            if rule.when.holds(ctx, &scope) {
                ev.rule = Some(i);
                serve(&mut ev, &rule.serve, Reason::TargetingMatch, ctx)?;
                return Ok(ev);
            }
        }
        if let Some(rollout) = &flag.rollout {
            let outcome = rollout_outcome(
                rollout,
                env.rollouts.position(id, flag, rollout),
                ctx,
                flag,
                &scope,
            );
            ev.rollout = Some(outcome);
            if outcome.inside {
                ev.variant = rollout.serve;
                ev.reason = Reason::Rollout;
                return Ok(ev);
            }
        }
        let reason = if flag.is_static() {
            Reason::Static
        } else {
            Reason::Default
        };
        serve(&mut ev, &flag.default, reason, ctx)?;
        Ok(ev)
    }
}

/// The bytes the context hashes as, if it has the bucketing attribute.
/// Read where a split or rollout needs them, not up front: most
/// evaluations end at a rule serving a variant. Unleash takes an empty
/// stickiness value for none, and so does its bucketing mode.
#[inline(always)]
fn unit_key<'a>(ctx: &'a Context, flag: &CompiledFlag, buf: &'a mut KeyBuf) -> Option<&'a [u8]> {
    unit_key_by(ctx, flag, None, buf)
}

/// [`unit_key`], or the first usable attribute of a split's own `bucketBy`.
#[inline(always)]
fn unit_key_by<'a>(
    ctx: &'a Context,
    flag: &CompiledFlag,
    list: Option<&[BucketBy]>,
    buf: &'a mut KeyBuf,
) -> Option<&'a [u8]> {
    if let Some(list) = list {
        return cond::first_key(ctx, list, flag.bucketing, buf);
    }
    let key = match &flag.bucket_by {
        BucketBy::TargetingKey => attr_key_bytes(ctx.targeting_key()?, buf),
        BucketBy::Attr(name) => match ctx.lookup(name) {
            Some(value) => attr_key_bytes(value, buf),
            None => bucket::key_bytes(ctx.nested(name)?, buf),
        },
    };
    key.filter(|key| !key.is_empty() || flag.bucketing != BucketingMode::Unleash)
}

/// Inlined, as is [`rollout_outcome`]: out of line, each wrote its result
/// through a pointer in small stores that the caller then read back in
/// wide loads, a stall that cost more than the call (docs/performance.md).
#[inline(always)]
fn serve(
    ev: &mut Evaluation<'_>,
    serve: &CompiledServe,
    reason: Reason,
    ctx: &Context,
) -> Result<(), EvalError> {
    match serve {
        CompiledServe::Variant(v) => {
            ev.variant = *v;
            ev.reason = reason;
        }
        CompiledServe::Split(split) => {
            let mut buf: KeyBuf = [0; 40];
            let key = unit_key_by(ctx, ev.flag, split.bucket_by.as_deref(), &mut buf)
                .ok_or(EvalError::TargetingKeyMissing)?;
            let b = ev.flag.bucketing.split_bucket(
                &split.salt_prefix,
                &split.murmur,
                key,
                split.buckets,
            );
            ev.split_bucket = Some(b);
            ev.variant = split.pick(b);
            ev.reason = Reason::Split;
        }
    }
    Ok(())
}

#[inline(always)]
fn rollout_outcome(
    rollout: &CompiledRollout,
    position: RolloutPosition,
    ctx: &Context,
    flag: &CompiledFlag,
    scope: &Scope<'_>,
) -> RolloutOutcome {
    let mut outcome = RolloutOutcome {
        position,
        bucket: None,
        inside: false,
    };
    if position.threshold == 0 {
        return outcome;
    }
    outcome.inside = match &rollout.plan {
        RolloutPlan::Direct => true,
        RolloutPlan::Canary { .. } | RolloutPlan::Linear { .. } => {
            match unit_key(ctx, flag, &mut [0; 40]) {
                Some(key) => {
                    let b =
                        flag.bucketing
                            .rollout_bucket(&rollout.salt_prefix, &rollout.murmur, key);
                    outcome.bucket = Some(b);
                    b < position.threshold
                }
                None => false,
            }
        }
        RolloutPlan::Scheduled(window) => window.contains(scope.now),
        RolloutPlan::Segment { segments } => segments.iter().any(|id| {
            scope
                .segments
                .get(*id as usize)
                .is_some_and(|s| s.admits(ctx, scope))
        }),
    };
    outcome
}

#[cfg(test)]
mod tests {
    //! `$codeDefault`: compiled as a synthetic last variant, evaluated like any
    //! variant, answered without a value (docs/flag-format.md §5, §10).

    use serde_json::{Value, json};

    use crate::eval::{Context, EvalEnv, Reason};
    use crate::model::CODE_DEFAULT;
    use crate::ruleset::Ruleset;
    use crate::testing::{check_yaml, compile_yaml};

    const FLAGS: &str = "
    flags:
      static-code-default:
        type: boolean
        variants: { on: true, off: false }
        default: $codeDefault
      staff-first:
        type: string
        variants: { new: N, old: O }
        default: $codeDefault
        rules:
          - { name: staff, when: { attr: email, op: ends_with, value: '@example.com' }, serve: new }
          - { name: legacy, when: { attr: plan, op: eq, value: legacy }, serve: $codeDefault }
      killed:
        type: integer
        variants: { one: 1, ten: 10 }
        default: ten
        enabled: false
        offVariant: $codeDefault
        rules:
          - { name: vip, when: { attr: plan, op: eq, value: vip }, serve: one }
      killed-without-off-variant:
        type: float
        variants: { half: 0.5 }
        default: $codeDefault
        enabled: false
      plain:
        type: boolean
        variants: { on: true, off: false }
        default: off
      follows:
        type: boolean
        variants: { on: true, off: false }
        default: off
        rules:
          - { name: deferred, when: { flag: { key: staff-first, variants: [$codeDefault] } }, serve: on }
    ";

    fn eval(rs: &Ruleset, key: &str, ctx: Value) -> (Option<Value>, String, Reason) {
        let ctx = Context::from_json(ctx).unwrap();
        let ev = rs.evaluate(key, &ctx, &EvalEnv::now()).unwrap();
        (
            ev.served_value().cloned(),
            ev.variant_name().to_owned(),
            ev.reason,
        )
    }

    #[test]
    fn compiles_to_a_synthetic_last_variant() {
        let rs = compile_yaml(FLAGS);
        let f = rs.flag(rs.flag_id("staff-first").unwrap());
        assert_eq!(f.variants.len(), 3);
        assert_eq!(f.code_default, Some(2));
        assert_eq!(&*f.variants[2].name, CODE_DEFAULT);
        assert_eq!(f.variants[2].value, Value::Null);
        assert_eq!(&*f.variants[2].value_json, "null");
        assert_eq!(f.written_variants().len(), 2);
        assert_eq!(f.variant_id(CODE_DEFAULT), Some(2));
        // The kill switch falls back to the default, which is the code default.
        let f = rs.flag(rs.flag_id("killed-without-off-variant").unwrap());
        assert_eq!(f.code_default, Some(1));
        assert_eq!(f.off_variant, 1);
        // A flag that never names it has no synthetic variant.
        let f = rs.flag(rs.flag_id("plain").unwrap());
        assert_eq!((f.variants.len(), f.code_default), (2, None));
        assert_eq!(f.written_variants().len(), 2);
    }

    #[test]
    fn evaluates_with_the_usual_reasons_and_no_value() {
        let rs = compile_yaml(FLAGS);
        let cd = || CODE_DEFAULT.to_owned();
        assert_eq!(
            eval(&rs, "static-code-default", json!({})),
            (None, cd(), Reason::Static)
        );
        assert_eq!(
            eval(&rs, "staff-first", json!({"email": "ana@example.com"})),
            (Some(json!("N")), "new".into(), Reason::TargetingMatch)
        );
        assert_eq!(
            eval(&rs, "staff-first", json!({"plan": "legacy"})),
            (None, cd(), Reason::TargetingMatch)
        );
        assert_eq!(
            eval(&rs, "staff-first", json!({"plan": "pro"})),
            (None, cd(), Reason::Default)
        );
        assert_eq!(
            eval(&rs, "killed", json!({"plan": "vip"})),
            (None, cd(), Reason::Disabled)
        );
        assert_eq!(
            eval(&rs, "killed-without-off-variant", json!({})),
            (None, cd(), Reason::Disabled)
        );
        // Another flag's code default is a variant a `flag` condition can name.
        assert_eq!(
            eval(&rs, "follows", json!({"plan": "pro"})),
            (Some(json!(true)), "on".into(), Reason::TargetingMatch)
        );
        assert_eq!(
            eval(&rs, "follows", json!({"email": "ana@example.com"})),
            (Some(json!(false)), "off".into(), Reason::Default)
        );
        let ctx = Context::from_json(json!({})).unwrap();
        let ev = rs.evaluate("killed", &ctx, &EvalEnv::now()).unwrap();
        assert!(ev.is_code_default());
        assert_eq!(ev.served_variant(), None);
        assert_eq!(ev.value(), &Value::Null);
        assert_eq!(
            ev.detail().to_string(),
            "flag is disabled; the caller uses its code default"
        );
    }

    /// The rollout sentences of [`Evaluation::detail`], inside, outside
    /// and without a bucketing key.
    #[test]
    fn rollout_details_say_where_the_user_fell() {
        let rs = compile_yaml(
            "
    flags:
      c:
        type: boolean
        variants: { on: true, off: false }
        default: off
        rollout:
          strategy: canary
          serve: on
          stages: [{ percentage: 50, duration: 1h }, { percentage: 100 }]
    ",
        );
        let details: std::collections::BTreeSet<String> = (0..64)
            .map(|i| {
                let ctx = Context::from_json(json!({"targetingKey": format!("u-{i}")})).unwrap();
                let ev = rs.evaluate("c", &ctx, &EvalEnv::now()).unwrap();
                let detail = ev.detail().to_string();
                let (head, tail) = detail.split_once(" (50%)").unwrap();
                let inside = head.contains(" < 50000");
                assert_eq!(inside, ev.variant_name() == "on", "{detail}");
                format!(
                    "{}|{tail}",
                    head.split(": bucket").next().unwrap_or_default()
                ) + if inside { "|in" } else { "|out" }
            })
            .collect();
        assert_eq!(
            details.into_iter().collect::<Vec<_>>(),
            [
                "canary stage 1|; serving the default|out",
                "canary stage 1||in"
            ]
        );
        let ev = rs
            .evaluate(
                "c",
                &Context::from_json(json!({})).unwrap(),
                &EvalEnv::now(),
            )
            .unwrap();
        assert_eq!(
            ev.detail().to_string(),
            "canary stage 1: not inside; serving the default"
        );
    }

    #[test]
    fn flipping_enabled_restores_the_flag() {
        let rs = compile_yaml(&FLAGS.replace(
            "        enabled: false\n        offVariant: $codeDefault\n",
            "        offVariant: $codeDefault\n",
        ));
        assert_eq!(
            eval(&rs, "killed", json!({"plan": "vip"})),
            (Some(json!(1)), "one".into(), Reason::TargetingMatch)
        );
        assert_eq!(
            eval(&rs, "killed", json!({})),
            (Some(json!(10)), "ten".into(), Reason::Default)
        );
    }

    #[test]
    fn explanations_carry_no_value() {
        let rs = compile_yaml(FLAGS);
        let ctx = Context::from_json(json!({"plan": "pro"})).unwrap();
        let x = rs.explain("staff-first", &ctx, &EvalEnv::now()).unwrap();
        let v = serde_json::to_value(&x).unwrap();
        assert_eq!(v["codeDefault"], json!(true), "{v}");
        assert!(
            v.get("value").is_none() && v.get("variant").is_none(),
            "{v}"
        );
        assert_eq!(v["reason"], "DEFAULT");
        let ctx = Context::from_json(json!({"email": "ana@example.com"})).unwrap();
        let v = serde_json::to_value(rs.explain("staff-first", &ctx, &EvalEnv::now()).unwrap())
            .unwrap();
        assert_eq!((&v["value"], &v["variant"]), (&json!("N"), &json!("new")));
        assert!(v.get("codeDefault").is_none(), "{v}");
    }

    /// Each error: (message, key path).
    fn errors(yaml: &str) -> Vec<(String, String, Option<String>)> {
        check_yaml(yaml)
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.message.clone(), d.path.to_string(), d.hint.clone()))
            .collect()
    }

    fn has(errs: &[(String, String, Option<String>)], message: &str, path: &str) -> bool {
        errs.iter()
            .any(|(m, p, h)| m.contains(message) && p == path && h.is_some())
    }

    #[test]
    fn refused_where_only_a_variant_may_stand() {
        let errs = errors(
            "
    flags:
      s:
        type: boolean
        variants: { on: true, off: false }
        offVariant: off
        default:
          split: { on: 1, $codeDefault: 1 }
          experiment: { control: $codeDefault }
      r:
        type: boolean
        variants: { on: true, off: false }
        default: $codeDefault
        rollout:
          strategy: canary
          serve: $codeDefault
          stages: [{ percentage: 10, duration: 1h }, { percentage: 100 }]
          health:
            checks:
              - { name: explicit, compare: baseline, baseline: $codeDefault, failures: 'f{v=\"{{variant}}\"}', total: 't{v=\"{{variant}}\"}' }
    ",
        );
        assert!(
            has(
                &errs,
                "cannot be a split key",
                "flags.s.default.split.$codeDefault"
            ),
            "{errs:?}"
        );
        assert!(
            has(
                &errs,
                "cannot be an experiment's control",
                "flags.s.default.experiment.control"
            ),
            "{errs:?}"
        );
        assert!(
            has(&errs, "cannot be rolled out", "flags.r.rollout.serve"),
            "{errs:?}"
        );
        assert!(
            has(
                &errs,
                "cannot be a baseline",
                "flags.r.rollout.health.checks[0].baseline"
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn a_comparison_against_a_code_default_kill_switch_names_its_baseline() {
        let flag = "
    flags:
      r:
        type: boolean
        variants: { on: true, off: false }
        default: DEFAULT
        OFF
        rollout:
          strategy: canary
          serve: on
          stages: [{ percentage: 10, duration: 1h }, { percentage: 100 }]
          health:
            checks:
              - { name: c, compare: baseline, failures: 'f{v=\"{{variant}}\"}', total: 't{v=\"{{variant}}\"}' BASELINE }
    ";
        let case = |default: &str, off: &str, baseline: &str| {
            errors(
                &flag
                    .replace("DEFAULT", default)
                    .replace("OFF", off)
                    .replace(" BASELINE", baseline),
            )
        };
        let need = "this comparison needs a `baseline`";
        // offVariant `$codeDefault`, or left out with a `$codeDefault` default.
        let errs = case("off", "offVariant: $codeDefault", "");
        assert!(
            has(&errs, need, "flags.r.rollout.health.checks[0]"),
            "{errs:?}"
        );
        let errs = case("$codeDefault", "", "");
        assert!(
            has(&errs, need, "flags.r.rollout.health.checks[0]"),
            "{errs:?}"
        );
        // An explicit baseline, or a kill switch serving a variant: fine.
        assert_eq!(case("$codeDefault", "", ", baseline: off"), []);
        assert_eq!(case("$codeDefault", "offVariant: off", ""), []);
    }

    #[test]
    fn variant_names_cannot_start_with_a_dollar() {
        let errs = errors(
            "
    flags:
      d:
        type: string
        variants: { $codeDefault: x, $price: y, ok: z }
        default: ok
    ",
        );
        assert!(
            has(
                &errs,
                "variant `$codeDefault` starts with `$`",
                "flags.d.variants.$codeDefault"
            ),
            "{errs:?}"
        );
        assert!(
            has(
                &errs,
                "variant `$price` starts with `$`",
                "flags.d.variants.$price"
            ),
            "{errs:?}"
        );
    }

    #[test]
    fn a_flag_condition_names_it_only_on_a_flag_that_serves_it() {
        let errs = errors(
            "
    flags:
      p:
        type: boolean
        variants: { on: true, off: false }
        default: off
      c:
        type: boolean
        variants: { on: true, off: false }
        default: off
        rules:
          - { name: r, when: { flag: { key: p, variants: [$codeDefault] } }, serve: on }
    ",
        );
        assert!(
            has(
                &errs,
                "flag `p` never serves `$codeDefault`",
                "flags.c.rules[0].when.flag.variants[0]"
            ),
            "{errs:?}"
        );
    }
}
