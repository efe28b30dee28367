//! Why an evaluation came out as it did, for people and scripts (`flagctl
//! eval`): the answer, which rules matched, the buckets used and where the
//! rollout stood.
//!
//! Explaining is a separate call rather than a mode of
//! [`Ruleset::evaluate`], which must not allocate (`tests/no_alloc.rs`): it
//! evaluates once, then matches the conditions of the rules before the
//! deciding one again to say which did not hold.

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::bucket::percentage;
use super::{Context, EvalEnv, EvalError, Evaluation, RolloutState};
use crate::model::Strategy;
use crate::ruleset::Ruleset;

/// How one rule fared: first match wins, so at most one rule matched and
/// the rules after it were never consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOutcome {
    /// It decided the evaluation.
    Matched,
    /// Its condition does not hold for the context.
    NoMatch,
    /// Not consulted: the flag is disabled, or an earlier rule matched.
    NotReached,
}

impl RuleOutcome {
    /// `true`, `false`, or `None` for a rule that was not consulted (the
    /// JSON `matched`, null then).
    pub fn matched(self) -> Option<bool> {
        match self {
            RuleOutcome::Matched => Some(true),
            RuleOutcome::NoMatch => Some(false),
            RuleOutcome::NotReached => None,
        }
    }
}

impl Serialize for RuleOutcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.matched().serialize(s)
    }
}

/// One rule of the flag, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleTrace<'r> {
    /// As written: rules are named so that explanations, diffs and audit
    /// lines can refer to them.
    pub name: &'r str,
    /// Whether it matched; `matched` in JSON.
    #[serde(rename = "matched")]
    pub outcome: RuleOutcome,
}

/// Where the flag's rollout stood and whether the context was inside.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RolloutTrace {
    /// How the rollout admits contexts (a percentage, a window, segments).
    pub strategy: Strategy,
    /// Its position as a percentage (0–100).
    pub percentage: f64,
    /// The canary stage (0-based), when there is one.
    pub stage: Option<u32>,
    /// The context's rollout bucket, when one was computed.
    pub bucket: Option<u32>,
    /// Whether the context was inside.
    pub inside: bool,
}

/// An evaluation with its reasons. Serializes as `flagctl eval --format
/// json` prints it: `{key, env, version, value, variant, reason, rule,
/// bucket: {rollout, split} | null, detail, rules: [{name, matched}],
/// rollout: {strategy, percentage, stage, bucket, inside} | null}`.
#[derive(Debug, Clone)]
pub struct Explanation<'r> {
    /// The evaluation explained.
    pub evaluation: Evaluation<'r>,
    /// The environment evaluated, from the ruleset.
    pub env: &'r str,
    /// The ruleset's commit or content hash, so the answer can be
    /// reproduced.
    pub version: &'r str,
    /// Every rule of the flag, in order.
    pub rules: Vec<RuleTrace<'r>>,
    /// The rollout, when the evaluation consulted it (no rule matched first).
    pub rollout: Option<RolloutTrace>,
}

/// The buckets the evaluation computed; `None` when it computed neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
struct Buckets {
    rollout: Option<u32>,
    split: Option<u32>,
}

impl Explanation<'_> {
    fn buckets(&self) -> Option<Buckets> {
        let rollout = self.evaluation.rollout.and_then(|r| r.bucket);
        let split = self.evaluation.split_bucket;
        (rollout.is_some() || split.is_some()).then_some(Buckets { rollout, split })
    }
}

impl Serialize for Explanation<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            key: &'a str,
            env: &'a str,
            version: &'a str,
            // Neither for `$codeDefault`, which says `codeDefault: true`
            // instead, as flagd's API does (docs/flagd.md).
            #[serde(skip_serializing_if = "Option::is_none")]
            value: Option<&'a Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            variant: Option<&'a str>,
            #[serde(rename = "codeDefault", skip_serializing_if = "std::ops::Not::not")]
            code_default: bool,
            reason: &'static str,
            rule: Option<&'a str>,
            bucket: Option<Buckets>,
            detail: String,
            rules: &'a [RuleTrace<'a>],
            rollout: Option<RolloutTrace>,
        }
        let ev = &self.evaluation;
        View {
            key: &ev.flag.key,
            env: self.env,
            version: self.version,
            value: ev.served_value(),
            variant: ev.served_variant(),
            code_default: ev.is_code_default(),
            reason: ev.reason.as_str(),
            rule: ev.rule_name(),
            bucket: self.buckets(),
            detail: ev.detail().to_string(),
            rules: &self.rules,
            rollout: self.rollout,
        }
        .serialize(s)
    }
}

impl Ruleset {
    /// Evaluates the flag `key` for `ctx` as [`Ruleset::evaluate`] does,
    /// and says why: for tools, not for serving (it allocates, and matches
    /// rule conditions a second time).
    pub fn explain(
        &self,
        key: &str,
        ctx: &Context,
        env: &EvalEnv<'_, impl RolloutState + ?Sized>,
    ) -> Result<Explanation<'_>, EvalError> {
        let evaluation = self.evaluate(key, ctx, env)?;
        let flag = evaluation.flag;
        // The rule that decided; without one, every rule was consulted.
        let decided = evaluation.rule.unwrap_or(flag.rules.len());
        let rules = flag
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let outcome = if !flag.enabled || i > decided {
                    RuleOutcome::NotReached
                } else if i == decided || rule.when.matches(ctx, self, env.now) {
                    RuleOutcome::Matched
                } else {
                    RuleOutcome::NoMatch
                };
                RuleTrace {
                    name: &rule.name,
                    outcome,
                }
            })
            .collect();
        let rollout = flag
            .rollout
            .as_ref()
            .zip(evaluation.rollout)
            .map(|(spec, o)| RolloutTrace {
                strategy: spec.strategy,
                percentage: percentage(o.position.threshold),
                stage: o.position.stage,
                bucket: o.bucket,
                inside: o.inside,
            });
        Ok(Explanation {
            evaluation,
            env: &self.meta.env,
            version: self.version(),
            rules,
            rollout,
        })
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::eval::InitialRollouts;

    fn ruleset(yaml: &str) -> Ruleset {
        crate::testing::compile_yaml_as(yaml, "test", "v1")
    }

    const FLAGS: &str = r#"flags:
  f:
    type: boolean
    variants: { on: true, off: false }
    offVariant: off
    default: off
    rules:
      - name: staff
        when: { attr: email, op: ends_with, value: "@example.com" }
        serve: on
      - name: beta
        when: { attr: beta, op: eq, value: true }
        serve: on
      - name: everyone-else
        when: { attr: country, op: in, values: [DE] }
        serve: off
"#;

    fn explain(yaml: &str, ctx: Value) -> Value {
        let ruleset = ruleset(yaml);
        let env = EvalEnv {
            now: Timestamp::UNIX_EPOCH,
            rollouts: &InitialRollouts,
        };
        let ctx = Context::from_json(ctx).unwrap();
        serde_json::to_value(ruleset.explain("f", &ctx, &env).unwrap()).unwrap()
    }

    #[test]
    fn rules_before_the_match_did_not_match_and_after_it_were_not_reached() {
        let v = explain(
            FLAGS,
            json!({"targetingKey": "u", "beta": true, "country": "DE"}),
        );
        assert_eq!(
            v["rules"],
            json!([
                {"name": "staff", "matched": false},
                {"name": "beta", "matched": true},
                {"name": "everyone-else", "matched": null},
            ])
        );
        assert_eq!(
            (&v["key"], &v["env"], &v["version"]),
            (&json!("f"), &json!("test"), &json!("v1"))
        );
        assert_eq!(
            (&v["reason"], &v["rule"], &v["bucket"], &v["rollout"]),
            (
                &json!("TARGETING_MATCH"),
                &json!("beta"),
                &Value::Null,
                &Value::Null
            )
        );
    }

    #[test]
    fn a_disabled_flag_reaches_no_rule() {
        let v = explain(
            &FLAGS.replace("offVariant: off", "offVariant: off\n    enabled: false"),
            json!({"targetingKey": "u", "email": "a@example.com"}),
        );
        assert_eq!(v["reason"], "DISABLED");
        assert!(
            v["rules"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["matched"].is_null())
        );
    }
}
