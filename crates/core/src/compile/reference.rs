//! Conditions that depend on the flag they sit in or on other flags:
//! `percentage` (a rollout inside a rule, hashed in the flag's bucketing
//! mode) and `flag` (what another flag serves), docs/flag-format.md §8.
//! Both belong in a flag's rules, not in segments, which flags share.

use super::Compiler;
use super::segment::find_cycle;
use crate::bucketing::{BucketingMode, threshold};
use crate::diagnostic::{KeyPath, did_you_mean};
use crate::model::{
    BucketByList, CODE_DEFAULT, Condition, Flag, FlagCondition, PercentageCondition,
};
use crate::ruleset::{BucketBy, Cond, FlagId, PercentageTest, VariantId};

/// What a condition needs to know of the flag whose rules hold it.
pub(crate) struct CurrentFlag {
    key: String,
    mode: BucketingMode,
    bucket_by: BucketBy,
}

impl CurrentFlag {
    pub(crate) fn new(key: &str, flag: &Flag, bucket_by: BucketBy) -> Self {
        CurrentFlag {
            key: key.to_owned(),
            mode: flag.bucketing.unwrap_or_default(),
            bucket_by,
        }
    }
}

/// The attribute a name stands for (`targetingKey` reads the key or its
/// alias `userId`).
pub(crate) fn bucket_by_name(name: &str) -> BucketBy {
    match name {
        "targetingKey" => BucketBy::TargetingKey,
        attr => BucketBy::Attr(attr.into()),
    }
}

impl Compiler<'_> {
    /// A `bucketBy` of one attribute or several; none of them empty.
    pub(super) fn bucket_by_list(
        &mut self,
        list: &BucketByList,
        path: &KeyPath,
    ) -> Option<Box<[BucketBy]>> {
        let names = list.as_slice();
        if names.is_empty() {
            self.error(path.clone(), "`bucketBy` needs at least one attribute");
            return None;
        }
        if let Some(i) = names.iter().position(|n| n.is_empty()) {
            let at = match list {
                BucketByList::One(_) => path.clone(),
                BucketByList::Many(_) => path.index(i),
            };
            self.error(at, "`bucketBy` names an empty attribute");
            return None;
        }
        Some(names.iter().map(|n| bucket_by_name(n)).collect())
    }

    pub(super) fn percentage(&mut self, p: &PercentageCondition, path: &KeyPath) -> Option<Cond> {
        let Some(current) = &self.current else {
            self.error(
                path.clone(),
                "a `percentage` condition belongs in a flag's rules, not in a segment (it hashes as its flag does)",
            );
            return None;
        };
        let (mode, flag_bucket_by) = (current.mode, current.bucket_by.clone());
        let salt = p
            .salt
            .clone()
            .unwrap_or_else(|| mode.default_rollout_salt(&current.key));
        let mut ok = true;
        if !(p.value.is_finite() && (0.0..=100.0).contains(&p.value)) {
            self.error(
                path.key("value"),
                format!("percentage {} must be between 0 and 100", p.value),
            );
            ok = false;
        }
        if p.salt.as_deref() == Some("") && mode != BucketingMode::Unleash {
            // Unleash's groupId may be empty (its gradual rollouts default
            // to it); elsewhere an empty salt is a mistake, as for splits.
            self.error(path.key("salt"), "`salt` is empty");
            ok = false;
        }
        let bucket_by = match &p.bucket_by {
            Some(list) => self.bucket_by_list(list, &path.key("bucketBy")),
            None => Some(Box::new([flag_bucket_by]) as Box<[BucketBy]>),
        };
        let bucket_by = bucket_by.filter(|_| ok)?;
        let salt_prefix = mode.key_prefix(&salt).into_bytes().into_boxed_slice();
        Some(Cond::percentage(PercentageTest {
            mode,
            bucket_by,
            murmur: mode.rollout_murmur(&salt_prefix),
            salt_prefix,
            threshold: threshold(p.value),
        }))
    }

    pub(super) fn flag_condition(&mut self, f: &FlagCondition, path: &KeyPath) -> Option<Cond> {
        if self.current.is_none() {
            self.error(
                path.clone(),
                "a `flag` condition belongs in a flag's rules, not in a segment",
            );
            return None;
        }
        let model = self.model;
        let Some((index, _, target)) = model.flags.get_full(&f.key) else {
            let hint = did_you_mean(&f.key, model.flags.keys().map(String::as_str));
            self.error_hint(path.key("key"), format!("unknown flag `{}`", f.key), hint);
            return None;
        };
        if f.variants.is_empty() {
            self.error(path.key("variants"), "`variants` is empty");
            return None;
        }
        let mut ids = Vec::with_capacity(f.variants.len());
        for (i, name) in f.variants.iter().enumerate() {
            match target.variants.get_index_of(name) {
                Some(id) => ids.push(VariantId::try_from(id).ok()?),
                // What the target serves where it defers to its callers.
                None if name == CODE_DEFAULT && target.uses_code_default() => {
                    ids.push(super::flag::code_default_id(target)?);
                }
                None if name == CODE_DEFAULT => {
                    self.error_hint(
                        path.key("variants").index(i),
                        format!("flag `{}` never serves `$codeDefault`", f.key),
                        Some("only a flag whose `default`, `offVariant` or a rule serves `$codeDefault` defers to its callers' code default".into()),
                    );
                    return None;
                }
                None => {
                    let hint = did_you_mean(name, target.variants.keys().map(String::as_str));
                    self.error_hint(
                        path.key("variants").index(i),
                        format!("flag `{}` has no variant `{name}`", f.key),
                        hint,
                    );
                    return None;
                }
            }
        }
        Some(Cond::flag(index as FlagId, ids.into_boxed_slice()))
    }

    /// Reports each flag that reaches itself through `flag` conditions:
    /// evaluating it would never end.
    pub(super) fn check_flag_cycles(&mut self) {
        let model = self.model;
        let edges: Vec<Vec<usize>> = model
            .flags
            .values()
            .map(|flag| {
                let mut keys = Vec::new();
                for rule in &flag.rules {
                    referenced_flags(&rule.when, &mut keys);
                }
                keys.iter()
                    .filter_map(|k| model.flags.get_index_of(*k))
                    .collect()
            })
            .collect();
        for start in 0..edges.len() {
            if let Some(cycle) = find_cycle(start, &edges) {
                let keys: Vec<&str> = cycle
                    .iter()
                    .map(|&i| model.flags.get_index(i).map_or("?", |(k, _)| k.as_str()))
                    .collect();
                let key = keys[0];
                self.error(
                    KeyPath::root().key("flags").key(key).key("rules"),
                    format!(
                        "flag `{key}` depends on itself through `flag` conditions: {}",
                        keys.join(" → ")
                    ),
                );
            }
        }
    }
}

/// The flag keys a condition's `flag` conditions name.
fn referenced_flags<'c>(cond: &'c Condition, out: &mut Vec<&'c str>) {
    match cond {
        Condition::Flag(f) => out.push(&f.key),
        Condition::All(items) | Condition::Any(items) => {
            for c in items {
                referenced_flags(c, out);
            }
        }
        Condition::Not(c) => referenced_flags(c, out),
        Condition::Attr(_)
        | Condition::Segment(_)
        | Condition::Time(_)
        | Condition::Percentage(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::bucketing::mode::murmur3;
    use crate::eval::{Context, EvalEnv};
    use crate::testing::{check_yaml, compile_yaml};

    fn variant(rs: &crate::ruleset::Ruleset, flag: &str, ctx: serde_json::Value) -> String {
        let ctx = Context::from_json(ctx).unwrap();
        rs.evaluate(flag, &ctx, &EvalEnv::now())
            .map(|ev| ev.variant_name().to_owned())
            .unwrap_or_else(|e| e.code().to_owned())
    }

    fn errors(yaml: &str) -> Vec<String> {
        check_yaml(yaml)
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect()
    }

    /// Unleash's `normalizedStrategyValue`: murmur3("groupId:key", 0) % 100 + 1.
    fn normalized(group: &str, key: &str) -> u32 {
        murmur3(format!("{group}:").as_bytes(), key.as_bytes(), 0) % 100 + 1
    }

    #[test]
    fn percentage_buckets_as_unleash_rollouts() {
        let rs = compile_yaml(
            "
flags:
  f:
    type: boolean
    bucketing: unleash
    variants: { on: true, off: false }
    default: off
    rules:
      - name: rollout
        when: { percentage: { value: 30, salt: grp, bucketBy: [userId, sessionId] } }
        serve: on
",
        );
        for i in 0..500 {
            let key = format!("user-{i}");
            let inside = normalized("grp", &key) <= 30;
            let want = if inside { "on" } else { "off" };
            assert_eq!(variant(&rs, "f", json!({ "userId": key })), want, "{key}");
            // Without a userId, the sessionId is hashed; an empty userId
            // counts as none, as Unleash's `userId || sessionId`.
            assert_eq!(variant(&rs, "f", json!({ "sessionId": key })), want);
            assert_eq!(
                variant(&rs, "f", json!({ "userId": "", "sessionId": key })),
                want
            );
        }
        // No key at all: outside.
        assert_eq!(variant(&rs, "f", json!({})), "off");
    }

    #[test]
    fn percentage_defaults_to_the_flag_rollout_salt_and_key() {
        let rs = compile_yaml(
            "
flags:
  g:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - { name: half, when: { percentage: { value: 50 } }, serve: on }
      - { name: none, when: { percentage: { value: 0 } }, serve: on }
",
        );
        for i in 0..200 {
            let key = format!("k{i}");
            let inside = crate::bucketing::bucket_for("g:rollout", &key) < 50_000;
            let want = if inside { "on" } else { "off" };
            assert_eq!(variant(&rs, "g", json!({ "targetingKey": key })), want);
        }
    }

    #[test]
    fn split_bucket_by_takes_the_first_present_attribute() {
        let rs = compile_yaml(
            "
flags:
  v:
    type: string
    bucketing: unleash
    variants: { a: a, b: b }
    offVariant: a
    default: { split: { a: 1, b: 1 }, salt: v, bucketBy: [userId, sessionId] }
",
        );
        let pick = |key: &str| {
            let h = murmur3(
                b"v:",
                key.as_bytes(),
                crate::bucketing::mode::UNLEASH_VARIANT_SEED,
            );
            if h.is_multiple_of(2) { "a" } else { "b" }
        };
        for i in 0..100 {
            let key = format!("s{i}");
            assert_eq!(variant(&rs, "v", json!({ "sessionId": key })), pick(&key));
            assert_eq!(
                variant(&rs, "v", json!({ "userId": key, "sessionId": "other" })),
                pick(&key)
            );
        }
        assert_eq!(
            variant(&rs, "v", json!({"targetingKey": "t"})),
            "TARGETING_KEY_MISSING"
        );
    }

    #[test]
    fn flag_conditions_read_another_flags_variant() {
        let rs = compile_yaml(
            "
flags:
  parent:
    type: string
    variants: { disabled: d, red: r, blue: b }
    default: disabled
    rules:
      - { name: red, when: { attr: color, op: eq, value: red }, serve: red }
      - { name: blue, when: { attr: color, op: eq, value: blue }, serve: blue }
  child:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - { name: parent-red, when: { flag: { key: parent, variants: [red] } }, serve: on }
  needs-parent-off:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - { name: off, when: { flag: { key: parent, variants: [disabled] } }, serve: on }
",
        );
        assert_eq!(variant(&rs, "child", json!({"color": "red"})), "on");
        assert_eq!(variant(&rs, "child", json!({"color": "blue"})), "off");
        assert_eq!(variant(&rs, "child", json!({})), "off");
        assert_eq!(variant(&rs, "needs-parent-off", json!({})), "on");
        assert_eq!(
            variant(&rs, "needs-parent-off", json!({"color": "red"})),
            "off"
        );
    }

    #[test]
    fn flag_conditions_are_checked() {
        let base = "
flags:
  a:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - { name: r, when: { flag: { key: b, variants: [on] } }, serve: on }
  b:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - { name: r, when: { flag: { key: a, variants: [on] } }, serve: on }
";
        let errs = errors(base);
        assert!(errs.iter().any(|e| e.contains("a → b → a")), "{errs:?}");
        let errs = errors(&base.replace("key: b, variants: [on]", "key: c, variants: [on]"));
        assert!(
            errs.iter().any(|e| e.contains("unknown flag `c`")),
            "{errs:?}"
        );
        let errs = errors(&base.replace("key: b, variants: [on]", "key: b, variants: [of]"));
        assert!(
            errs.iter().any(|e| e.contains("has no variant `of`")),
            "{errs:?}"
        );
        let errs = errors(
            "
segments:
  s: { when: { percentage: { value: 5 } } }
flags:
  a:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules: [{ name: r, when: { segment: s }, serve: on }]
",
        );
        assert!(
            errs.iter().any(|e| e.contains("not in a segment")),
            "{errs:?}"
        );
        let errs = errors(&base.replace(
            "{ flag: { key: b, variants: [on] } }",
            "{ percentage: { value: 101 } }",
        ));
        assert!(
            errs.iter().any(|e| e.contains("between 0 and 100")),
            "{errs:?}"
        );
    }

    #[test]
    fn in_cidr_matches_networks_and_addresses() {
        let rs = compile_yaml(
            "
flags:
  ip:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules:
      - name: office
        when: { attr: remoteAddress, op: in_cidr, values: [10.0.0.0/8, 192.168.1.7, '2001:db8::/32'] }
        serve: on
",
        );
        for (addr, want) in [
            ("10.1.2.3", "on"),
            ("11.0.0.1", "off"),
            ("192.168.1.7", "on"),
            ("192.168.1.8", "off"),
            ("2001:db8::1", "on"),
            ("2001:db9::1", "off"),
            ("not an address", "off"),
        ] {
            assert_eq!(
                variant(&rs, "ip", json!({ "remoteAddress": addr })),
                want,
                "{addr}"
            );
        }
        let errs = errors(
            "
flags:
  ip:
    type: boolean
    variants: { on: true, off: false }
    default: off
    rules: [{ name: r, when: { attr: a, op: in_cidr, value: 10.0.0.0/33 }, serve: on }]
",
        );
        assert!(
            errs.iter().any(|e| e.contains("neither a CIDR block")),
            "{errs:?}"
        );
    }
}
