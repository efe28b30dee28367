//! Flags: variants, default, kill switch, rules, splits and experiments.

use std::collections::HashSet;

use super::{Compiler, check_key};
use crate::bucketing::mode::{MAX_INTEGER_TOTAL, flagd_v1_range_ends, flagd_v1_upper};
use crate::bucketing::{BUCKETS, BucketingMode};
use crate::diagnostic::{KeyPath, did_you_mean};
use crate::model::{CODE_DEFAULT, Experiment, Flag, Serve, Split};
use crate::ruleset::{
    BucketBy, CompiledFlag, CompiledRule, CompiledServe, CompiledSplit, SplitSlot, Variant,
    VariantId,
};

impl Compiler<'_> {
    /// Compiles one flag; `None` if anything in it is wrong.
    pub(super) fn flag(&mut self, key: &str, flag: &Flag) -> Option<CompiledFlag> {
        let path = KeyPath::root().key("flags").key(key);
        let errors_before = self.error_count();
        if let Err(msg) = check_key("flag key", key) {
            self.error(path.clone(), msg);
        }
        let variants = self.variants(flag, &path);
        let default = self.serve(key, flag, &flag.default, &path.key("default"));
        let off_variant = self.off_variant(flag, &path);
        let bucket_by = match flag.bucket_by.as_deref() {
            None | Some("targetingKey") => BucketBy::TargetingKey,
            Some("") => {
                self.error(path.key("bucketBy"), "`bucketBy` is empty");
                BucketBy::TargetingKey
            }
            Some(attr) => BucketBy::Attr(attr.into()),
        };
        self.current = Some(super::reference::CurrentFlag::new(
            key,
            flag,
            bucket_by.clone(),
        ));
        let rules = self.rules(key, flag, &path);
        self.current = None;
        let rollout = flag
            .rollout
            .as_ref()
            .and_then(|r| self.rollout(key, flag, r, &path.key("rollout")));
        self.check_single_experiment(flag, &path);
        self.metadata(flag, &path);
        let metadata = self.ofrep_metadata(flag, &path);
        if self.error_count() > errors_before {
            return None;
        }
        Some(CompiledFlag {
            key: key.into(),
            kind: flag.kind,
            variants,
            default: default?,
            enabled: flag.enabled,
            code_default: flag
                .uses_code_default()
                .then(|| code_default_id(flag))
                .flatten(),
            off_variant: off_variant?,
            bucket_by,
            bucketing: flag.bucketing.unwrap_or_default(),
            rules: rules?,
            rollout,
            client_side: flag.client_side,
            metadata,
            definition: serde_json::to_string(flag).unwrap_or_default().into(),
        })
    }

    /// `metadata`: scalar values only, and not the keys OFREP answers
    /// already carry (`version`, `rule`).
    fn ofrep_metadata(
        &mut self,
        flag: &Flag,
        path: &KeyPath,
    ) -> Box<[(Box<str>, serde_json::Value)]> {
        let Some(map) = &flag.metadata else {
            return Box::new([]);
        };
        let mut out = Vec::with_capacity(map.len());
        for (k, v) in map {
            let at = path.key("metadata").key(k);
            if matches!(k.as_str(), "version" | "rule") {
                self.error(
                    at,
                    format!("`{k}` is a metadata key of flagd's own (the ruleset version, the matching rule)"),
                );
            } else if !(v.is_string() || v.is_number() || v.is_boolean()) {
                self.error(at, "metadata values are strings, numbers or booleans");
            } else {
                out.push((k.as_str().into(), v.clone()));
            }
        }
        out.into_boxed_slice()
    }

    pub(super) fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    fn variants(&mut self, flag: &Flag, path: &KeyPath) -> Box<[Variant]> {
        if flag.variants.is_empty() {
            self.error(path.key("variants"), "a flag needs at least one variant");
        }
        if flag.variants.len() > usize::from(VariantId::MAX) {
            self.error(path.key("variants"), "too many variants");
        }
        for (name, value) in &flag.variants {
            if name.is_empty() {
                self.error(
                    path.key("variants").key(name),
                    "variant names cannot be empty",
                );
            } else if name.starts_with('$') {
                let hint = if name == CODE_DEFAULT {
                    "`$codeDefault` is no variant: write `default: $codeDefault` (or `offVariant`, or a rule's `serve`) and leave it out of `variants`".to_owned()
                } else {
                    format!("rename it, e.g. `{}`", name.trim_start_matches('$'))
                };
                self.error_hint(
                    path.key("variants").key(name),
                    format!("variant `{name}` starts with `$`, which no variant name may (`$codeDefault` is reserved)"),
                    Some(hint),
                );
            }
            if !flag.kind.admits(value) {
                self.error_hint(
                    path.key("variants").key(name),
                    format!(
                        "variant `{name}` is {}, but the flag's type is `{}`",
                        describe_value(value),
                        flag.kind
                    ),
                    type_hint(flag.kind, value),
                );
            }
        }
        let code_default = flag.uses_code_default().then(|| Variant {
            name: CODE_DEFAULT.into(),
            value: serde_json::Value::Null,
            value_json: "null".into(),
        });
        flag.variants
            .iter()
            .map(|(name, value)| Variant {
                name: name.as_str().into(),
                value: value.clone(),
                value_json: value.to_string().into(),
            })
            .chain(code_default)
            .collect()
    }

    /// What a flag serves where `$codeDefault` may stand (`default`,
    /// `offVariant`, a rule's `serve`): that reference, or a variant.
    fn served_ref(&mut self, flag: &Flag, name: &str, path: KeyPath) -> Option<VariantId> {
        if name == CODE_DEFAULT {
            code_default_id(flag)
        } else {
            self.variant_ref(flag, name, path)
        }
    }

    /// Reports `$codeDefault` where only a variant may stand; true if it
    /// was there.
    pub(super) fn code_default_misplaced(
        &mut self,
        name: &str,
        path: &KeyPath,
        message: &str,
        hint: &str,
    ) -> bool {
        if name != CODE_DEFAULT {
            return false;
        }
        self.error_hint(path.clone(), message, Some(hint.into()));
        true
    }

    /// A variant reference, with a suggestion when it is unknown.
    pub(super) fn variant_ref(
        &mut self,
        flag: &Flag,
        name: &str,
        path: KeyPath,
    ) -> Option<VariantId> {
        match flag.variants.get_index_of(name) {
            Some(i) => VariantId::try_from(i).ok(),
            None if name == CODE_DEFAULT => {
                self.error_hint(
                    path,
                    "`$codeDefault` cannot stand here: only `default`, `offVariant` and a rule's `serve` may defer to the caller's code default",
                    Some("name one of the flag's variants".into()),
                );
                None
            }
            None => {
                // `serve: true` for a variant `on: true`: a value, not a name.
                let by_value = flag
                    .variants
                    .iter()
                    .find(|(_, v)| v.as_str().map_or_else(|| v.to_string(), str::to_owned) == name)
                    .map(|(k, _)| {
                        format!("`{name}` is the value of variant `{k}`; refer to variants by name")
                    });
                // `$…` is no variant: a misspelt `$codeDefault`, if anything.
                let dollar = name
                    .starts_with('$')
                    .then(|| did_you_mean(name, [CODE_DEFAULT]))
                    .flatten();
                let hint = by_value
                    .or(dollar)
                    .or_else(|| did_you_mean(name, flag.variants.keys().map(String::as_str)))
                    .or_else(|| {
                        let names: Vec<_> =
                            flag.variants.keys().map(|k| format!("`{k}`")).collect();
                        Some(format!("the variants are {}", names.join(", ")))
                    });
                self.error_hint(path, format!("unknown variant `{name}`"), hint);
                None
            }
        }
    }

    fn off_variant(&mut self, flag: &Flag, path: &KeyPath) -> Option<VariantId> {
        match (&flag.off_variant, &flag.default) {
            (Some(name), _) => self.served_ref(flag, name, path.key("offVariant")),
            (None, Serve::Variant(name)) if name == CODE_DEFAULT => code_default_id(flag),
            (None, Serve::Variant(name)) => flag
                .variants
                .get_index_of(name.as_str())
                .and_then(|i| VariantId::try_from(i).ok()),
            (None, Serve::Split(_)) => {
                self.error(
                    path.clone(),
                    "`offVariant` is required when `default` is a split (the kill switch needs one variant)",
                );
                None
            }
        }
    }

    fn serve(
        &mut self,
        key: &str,
        flag: &Flag,
        serve: &Serve,
        path: &KeyPath,
    ) -> Option<CompiledServe> {
        match serve {
            Serve::Variant(name) => self
                .served_ref(flag, name, path.clone())
                .map(CompiledServe::Variant),
            Serve::Split(split) => self
                .split(key, flag, split, path)
                .map(|s| CompiledServe::Split(Box::new(s))),
        }
    }

    fn split(
        &mut self,
        key: &str,
        flag: &Flag,
        split: &Split,
        path: &KeyPath,
    ) -> Option<CompiledSplit> {
        let weights_path = path.key("split");
        let mode = flag.bucketing.unwrap_or_default();
        if split.split.is_empty() {
            self.error(weights_path, "a split needs at least one variant");
            return None;
        }
        let mut ok = true;
        let mut ids = Vec::with_capacity(split.split.len());
        for (name, weight) in &split.split {
            let id = if self.code_default_misplaced(
                name,
                &weights_path.key(name),
                "`$codeDefault` cannot be a split key: a split divides contexts among the flag's variants",
                "serve `$codeDefault` from the `default` or a rule of its own, and split among variants",
            ) {
                None
            } else {
                self.variant_ref(flag, name, weights_path.key(name))
            };
            if !weight.is_finite() || *weight < 0.0 {
                self.error(
                    weights_path.key(name),
                    format!("weight {weight} must be a number ≥ 0"),
                );
                ok = false;
            } else if *weight > MAX_WEIGHT {
                self.error(
                    weights_path.key(name),
                    format!("weight {weight:e} is too large (at most {MAX_WEIGHT:e}); weights are relative, so scale them down"),
                );
                ok = false;
            } else if *weight > 0.0 && weight_units(*weight) == 0 {
                self.error_hint(
                    weights_path.key(name),
                    format!("weight {weight} rounds to 0: weights are read to six decimal places"),
                    Some("scale all weights of the split up by the same factor".into()),
                );
                ok = false;
            } else if mode.integer_weights() && weight.fract() != 0.0 {
                self.error_hint(
                    weights_path.key(name),
                    format!(
                        "weight {weight} is not a whole number: `bucketing: {mode}` splits by integer weights, as {} does",
                        tool_name(mode)
                    ),
                    Some("scale all weights of the split up by the same factor, e.g. 33.3 and 66.7 → 333 and 667".into()),
                );
                ok = false;
            }
            ids.push(id);
        }
        // Saturating: the weights are not checked yet where they are summed
        // (1e308 is refused above, but must not overflow on the way there).
        let total = split
            .split
            .values()
            .fold(0u64, |sum, w| sum.saturating_add(weight_units(w.max(0.0))));
        if ok && total == 0 {
            self.error(
                weights_path.clone(),
                "all weights are zero: nobody could be served",
            );
            ok = false;
        } else if ok && mode.integer_weights() && total / (WEIGHT_SCALE as u64) > MAX_INTEGER_TOTAL
        {
            self.error_hint(
                weights_path.clone(),
                format!(
                    "the weights add up to {}, more than `bucketing: {mode}` allows ({MAX_INTEGER_TOTAL}, flagd's limit)",
                    total / (WEIGHT_SCALE as u64)
                ),
                Some("weights are relative: scale them down by the same factor".into()),
            );
            ok = false;
        }
        let salt = match &split.salt {
            // flagd's `fractional` may hash the bucket-by attribute alone
            // (`{"var": "email"}`), and Unleash's groupId may be empty: an
            // empty salt, allowed in their modes.
            Some(s) if s.is_empty() && !mode.is_flagd() && mode != BucketingMode::Unleash => {
                self.error(path.key("salt"), "`salt` is empty");
                ok = false;
                key.to_owned()
            }
            Some(s) => s.clone(),
            None => key.to_owned(),
        };
        if let Some(exp) = &split.experiment {
            ok &= self.experiment(split, exp, &path.key("experiment"));
        }
        let ids: Option<Vec<VariantId>> = ids.into_iter().collect();
        if !ok {
            return None;
        }
        let (buckets, slots) = split_slots(mode, split.split.values().copied().zip(ids?));
        let bucket_by = match &split.bucket_by {
            Some(list) => Some(self.bucket_by_list(list, &path.key("bucketBy"))?),
            None => None,
        };
        let salt_prefix = mode.key_prefix(&salt).into_bytes().into_boxed_slice();
        Some(CompiledSplit {
            bucket_by,
            murmur: mode.split_murmur(&salt_prefix),
            salt_prefix,
            salt: salt.into(),
            buckets,
            slots,
            experiment: split.experiment.clone(),
        })
    }

    fn experiment(&mut self, split: &Split, exp: &Experiment, path: &KeyPath) -> bool {
        let before = self.error_count();
        if let Some(control) = &exp.control
            && !self.code_default_misplaced(
                control,
                &path.key("control"),
                "`$codeDefault` cannot be an experiment's control: the control is one of the split's variants",
                "name the variant whose users see what they saw before, e.g. the split's first",
            )
            && !split.split.contains_key(control)
        {
            let hint = did_you_mean(control, split.split.keys().map(String::as_str));
            self.error_hint(
                path.key("control"),
                format!("control `{control}` is not a variant of this split"),
                hint,
            );
        }
        if split.split.len() < 2 {
            self.error(
                path.clone(),
                "an experiment needs a split of at least two variants",
            );
        }
        if let Some(mde) = exp.minimum_detectable_effect
            && !(mde > 0.0 && mde.is_finite())
        {
            self.error(
                path.key("minimumDetectableEffect"),
                format!(
                    "`minimumDetectableEffect` {mde} must be greater than 0 (a relative effect such as 0.05)"
                ),
            );
        }
        if let Some(alpha) = exp.alpha
            && !(alpha > 0.0 && alpha < 1.0)
        {
            self.error(
                path.key("alpha"),
                format!("`alpha` {alpha} must be between 0 and 1 (exclusive), such as 0.05"),
            );
        }
        if let Some(q) = &exp.conversions {
            self.query(q, path.key("conversions"), super::QueryUse::Conversions);
        }
        self.error_count() == before
    }

    fn check_single_experiment(&mut self, flag: &Flag, path: &KeyPath) {
        let mut places = Vec::new();
        if matches!(&flag.default, Serve::Split(s) if s.experiment.is_some()) {
            places.push(path.key("default").key("experiment"));
        }
        for (i, rule) in flag.rules.iter().enumerate() {
            if matches!(&rule.serve, Serve::Split(s) if s.experiment.is_some()) {
                places.push(path.key("rules").index(i).key("serve").key("experiment"));
            }
        }
        for extra in places.into_iter().skip(1) {
            self.error(extra, "a flag can run one experiment; this is a second");
        }
    }

    fn rules(&mut self, key: &str, flag: &Flag, path: &KeyPath) -> Option<Box<[CompiledRule]>> {
        let mut names = HashSet::new();
        let mut out = Vec::with_capacity(flag.rules.len());
        let mut ok = true;
        for (i, rule) in flag.rules.iter().enumerate() {
            let rule_path = path.key("rules").index(i);
            if rule.name.trim().is_empty() {
                self.error(rule_path.key("name"), "rule names cannot be empty");
                ok = false;
            } else if !names.insert(rule.name.as_str()) {
                self.error(
                    rule_path.key("name"),
                    format!("two rules are named `{}`", rule.name),
                );
                ok = false;
            }
            let when = self.condition(&rule.when, &rule_path.key("when"));
            let serve = self.serve(key, flag, &rule.serve, &rule_path.key("serve"));
            match (when, serve) {
                (Some(when), Some(serve)) => out.push(CompiledRule {
                    name: rule.name.as_str().into(),
                    when,
                    serve,
                }),
                _ => ok = false,
            }
        }
        ok.then(|| out.into_boxed_slice())
    }
}

/// The id of the synthetic `$codeDefault` variant: after the written ones.
/// `None` only past the variant limit, which is reported.
pub(super) fn code_default_id(flag: &Flag) -> Option<VariantId> {
    VariantId::try_from(flag.variants.len()).ok()
}

/// Weights are read in millionths (`33.3` is exactly 33 300 000), so bucket
/// bounds come from exact integer arithmetic, the same in every language.
pub(crate) const WEIGHT_SCALE: f64 = 1_000_000.0;

/// The largest weight accepted (keeps sums far from overflow).
pub(crate) const MAX_WEIGHT: f64 = 1e9;

/// A weight in millionths, rounded half away from zero.
pub(crate) fn weight_units(weight: f64) -> u64 {
    (weight * WEIGHT_SCALE).round() as u64
}

/// The tool a bucketing mode mirrors, for messages.
fn tool_name(mode: BucketingMode) -> &'static str {
    match mode {
        BucketingMode::Xxh3 => "HotSwap Flags",
        BucketingMode::FlagdV1 | BucketingMode::FlagdV2 => "flagd",
        BucketingMode::Unleash => "Unleash",
    }
}

/// A split's bucket count and ranges (docs/flag-format.md §6).
///
/// - xxh3: variant *i* owns `[floor(100000·W(i-1)/W), floor(100000·W(i)/W))`,
///   with W in millionths.
/// - flagd-v2 and unleash: the integer weights' running sums, over
///   `0..W` (flagd's `(h·W) >> 32`, Unleash's `h mod W`).
/// - flagd-v1: over `|i32(h)|`, the first value whose bucket reaches
///   flagd's floating-point `rangeEnd`. A hash past the last range, for
///   which flagd v1 finds no variant, gets the last variant of positive
///   weight.
///
/// The integer modes' weights are whole numbers summing to at most
/// [`MAX_INTEGER_TOTAL`] (checked by the caller).
fn split_slots(
    mode: BucketingMode,
    weights: impl Iterator<Item = (f64, VariantId)>,
) -> (u32, Box<[SplitSlot]>) {
    let weights: Vec<(f64, VariantId)> = weights.collect();
    let slot = |(weight, variant): (f64, VariantId), upper: u32| SplitSlot {
        variant,
        upper,
        weight,
    };
    match mode {
        BucketingMode::Xxh3 => {
            let total: u128 = weights
                .iter()
                .map(|(w, _)| u128::from(weight_units(*w)))
                .sum();
            let mut running: u128 = 0;
            let slots = weights
                .into_iter()
                .map(|(weight, variant)| {
                    running += u128::from(weight_units(weight));
                    let upper = (u128::from(BUCKETS) * running / total.max(1)) as u32;
                    slot((weight, variant), upper)
                })
                .collect();
            (BUCKETS, slots)
        }
        BucketingMode::FlagdV2 | BucketingMode::Unleash => {
            let mut running: u64 = 0;
            let slots: Box<[SplitSlot]> = weights
                .into_iter()
                .map(|w| {
                    running += w.0 as u64;
                    slot(w, running.min(u64::from(u32::MAX)) as u32)
                })
                .collect();
            (running.min(u64::from(u32::MAX)) as u32, slots)
        }
        BucketingMode::FlagdV1 => {
            let ends = flagd_v1_range_ends(weights.iter().map(|(w, _)| *w as u64));
            let last_positive = weights.iter().rposition(|(w, _)| *w > 0.0);
            let slots = weights
                .into_iter()
                .zip(ends)
                .enumerate()
                .map(|(i, (w, end))| {
                    let upper = if last_positive.is_some_and(|last| i >= last) {
                        u32::MAX
                    } else {
                        flagd_v1_upper(end)
                    };
                    slot(w, upper)
                })
                .collect();
            ((1 << 31) + 1, slots)
        }
    }
}

/// How to write a value of the flag's type, for the usual slips: quoted
/// numbers, YAML 1.1 booleans, unquoted numbers meant as strings.
fn type_hint(kind: crate::model::FlagType, v: &serde_json::Value) -> Option<String> {
    use crate::model::FlagType;
    use serde_json::Value;
    match (kind, v) {
        (FlagType::Boolean, Value::String(s)) => crate::parse::de::boolean_string_hint(s),
        (FlagType::Integer | FlagType::Float, Value::String(s))
            if s.trim().parse::<f64>().is_ok_and(f64::is_finite) =>
        {
            Some(crate::parse::de::number_string_hint(s))
        }
        (FlagType::Integer, Value::Number(_)) => Some(
            "an `integer` flag takes whole numbers; make the type `float` for fractions".into(),
        ),
        (FlagType::String, Value::Number(_) | Value::Bool(_)) => {
            Some(format!("quote it to make it a string: \"{v}\""))
        }
        _ => None,
    }
}

fn describe_value(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) if n.is_f64() => format!("the number {n}"),
        Value::Number(n) => format!("the integer {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_formula() {
        let slots = split_slots(
            BucketingMode::Xxh3,
            [(1.0, 0), (1.0, 1), (1.0, 2)].into_iter(),
        )
        .1;
        let uppers: Vec<u32> = slots.iter().map(|s| s.upper).collect();
        assert_eq!(uppers, [33_333, 66_666, 100_000]);
        let slots = split_slots(
            BucketingMode::Xxh3,
            [(50.0, 0), (0.0, 1), (50.0, 2)].into_iter(),
        )
        .1;
        let uppers: Vec<u32> = slots.iter().map(|s| s.upper).collect();
        assert_eq!(uppers, [50_000, 50_000, 100_000]);
        // Decimal weights are exact: 33.3 % is 33 300 buckets, not 33 299.
        let slots = split_slots(
            BucketingMode::Xxh3,
            [(33.3, 0), (33.3, 1), (33.4, 2)].into_iter(),
        )
        .1;
        let uppers: Vec<u32> = slots.iter().map(|s| s.upper).collect();
        assert_eq!(uppers, [33_300, 66_600, 100_000]);
    }

    /// Found by fuzzing: summing huge weights overflowed (a panic in debug
    /// builds) before the weights were refused.
    #[test]
    fn huge_weights_are_refused_without_overflow() {
        let text = "flags:\n  f:\n    type: boolean\n    variants: {on: true, off: false}\n    default: {split: {on: 1e308, off: 1e308}}\n    offVariant: off\n";
        let checked = crate::testing::check_yaml(text);
        let errors: Vec<String> = checked
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(checked.ruleset.is_none());
        assert!(
            errors[0].contains("weight 1e308 is too large"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains("weight 1e308 is too large"),
            "{errors:?}"
        );
        // Infinite weights never get this far: numbers must be finite.
        let text = text.replace("1e308, off: 1e308", "1, off: .inf");
        let loaded = crate::repo::load::load_files([crate::testing::file("f.yaml", &text)]);
        assert!(
            loaded.diagnostics[0]
                .message
                .contains("numbers must be finite"),
            "{:?}",
            loaded.diagnostics
        );
    }
}
