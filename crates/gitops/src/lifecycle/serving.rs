//! What a flag serves, read from its definition alone: one variant to
//! everyone, or not (docs/lifecycle.md, "Evidence").

use hotswap_flags_core::model::{Flag, Serve};

/// The variant `flag` serves to everyone as written, if it serves one: a
/// disabled flag (its kill-switch variant), or no rule serving anything
/// else, a default of one variant (a split with one weight above zero
/// counts) and no rollout of another variant. A rollout of another
/// variant depends on how far it has got, which only flagd knows.
pub fn serves_one(flag: &Flag) -> Option<&str> {
    if !flag.enabled {
        return match (&flag.off_variant, &flag.default) {
            (Some(off), _) => Some(off),
            (None, Serve::Variant(v)) => Some(v),
            (None, Serve::Split(_)) => None,
        };
    }
    let default = single(&flag.default)?;
    if flag.rules.iter().any(|r| single(&r.serve) != Some(default)) {
        return None;
    }
    match &flag.rollout {
        Some(r) if r.serve != default => None,
        _ => Some(default),
    }
}

/// Whether `flag` serves its rollout's variant to everyone once the
/// rollout reaches 100 %: enabled, and every rule serving that variant.
pub fn uniform_when_rolled_out(flag: &Flag) -> bool {
    flag.enabled
        && flag.rollout.as_ref().is_some_and(|r| {
            flag.rules
                .iter()
                .all(|rule| single(&rule.serve) == Some(r.serve.as_str()))
        })
}

/// The one variant a serve hands out, if it hands out one.
fn single(serve: &Serve) -> Option<&str> {
    match serve {
        Serve::Variant(v) => Some(v),
        Serve::Split(s) => {
            let mut positive = s.split.iter().filter(|(_, w)| **w > 0.0);
            let (v, _) = positive.next()?;
            positive.next().is_none().then_some(v.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotswap_flags_core::parse::{Format, from_node, parse_document};

    fn flag(extra: &str) -> Flag {
        let yaml = format!("type: boolean\nvariants: {{on: true, off: false}}\n{extra}");
        from_node(&parse_document(&yaml, Format::Yaml).unwrap()).unwrap()
    }

    #[test]
    fn one_variant_or_not() {
        assert_eq!(serves_one(&flag("default: on\n")), Some("on"));
        assert_eq!(
            serves_one(&flag(
                "default: {split: {on: 0, off: 1}}\noffVariant: off\n"
            )),
            Some("off")
        );
        assert_eq!(
            serves_one(&flag(
                "default: {split: {on: 1, off: 1}}\noffVariant: off\n"
            )),
            None
        );
        assert_eq!(
            serves_one(&flag(
                "default: {split: {on: 1, off: 1}}\noffVariant: off\nenabled: false\n"
            )),
            Some("off")
        );
        let rule = "rules: [{name: r, when: {attr: a, op: exists}, serve: on}]\n";
        assert_eq!(serves_one(&flag(&format!("default: off\n{rule}"))), None);
        assert_eq!(
            serves_one(&flag(&format!("default: on\n{rule}"))),
            Some("on")
        );
        let rollout = "rollout: {strategy: direct, serve: on}\n";
        assert_eq!(serves_one(&flag(&format!("default: off\n{rollout}"))), None);
        assert_eq!(
            serves_one(&flag(&format!("default: on\n{rollout}"))),
            Some("on")
        );
    }
}
