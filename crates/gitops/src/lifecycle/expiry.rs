//! Flags past their `expires` date: a warning from `flagctl validate` (an
//! error with `--strict`, docs/lifecycle.md). Kept out of the compiler on
//! purpose: compiling does not depend on the day, so flagd serves an
//! expired flag exactly as before.

use jiff::civil::Date;

use crate::repo::load::LoadedEnv;
use hotswap_flags_core::diagnostic::{Diagnostic, KeyPath};

/// A warning, located at its `expires` key, for every flag of `loaded`
/// whose date is before `today`.
pub fn expired(loaded: &LoadedEnv, today: Date) -> Vec<Diagnostic> {
    loaded
        .model
        .flags
        .iter()
        .filter_map(|(key, flag)| {
            let expires = flag.expires?;
            (expires.0 < today).then(|| {
                let days = (today - expires.0).get_days();
                let path = KeyPath::root().key("flags").key(key).key("expires");
                let message = format!(
                    "flag `{key}` expired on {expires} ({days} day{} ago)",
                    if days == 1 { "" } else { "s" }
                );
                let hint = format!(
                    "remove it (`flagctl retire {key}`) or, if it must stay, move `expires` later"
                );
                loaded.locate(Diagnostic::warning(path, message).with_hint(hint))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::load::load_files;

    #[test]
    fn past_dates_warn_at_the_key() {
        let text = "flags:\n  old:\n    type: boolean\n    variants: {on: true}\n    default: on\n    expires: 2026-01-31\n  new:\n    type: boolean\n    variants: {on: true}\n    default: on\n    expires: 2026-02-01\n";
        let loaded = load_files([("envs/a.yaml".to_owned(), text.as_bytes().to_vec())]);
        let found: Vec<String> = expired(&loaded, jiff::civil::date(2026, 2, 1))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(
                "envs/a.yaml:6:14: warning: flag `old` expired on 2026-01-31 (1 day ago)"
            ),
            "{found:?}"
        );
        assert!(found[0].contains("flagctl retire old"), "{found:?}");
    }
}
