//! A flag's lifecycle metadata (`owner`, `kind`, `expires`): serde checks
//! the kind and the date; the owner's form is checked here, where it is
//! located like every other finding. Nothing here changes what is served.

use std::sync::LazyLock;

use regex::Regex;

use super::Compiler;
use crate::diagnostic::KeyPath;
use crate::model::Flag;
use crate::model::lifecycle::OWNER_PATTERN;

static OWNER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(OWNER_PATTERN).expect("the owner pattern compiles"));

impl Compiler<'_> {
    /// Checks `owner`: a handle nobody can be notified at is as good as none.
    pub(super) fn metadata(&mut self, flag: &Flag, path: &KeyPath) {
        if let Some(owner) = &flag.owner
            && !OWNER.is_match(owner)
        {
            let bare_name =
                !owner.is_empty() && !owner.contains('@') && !owner.contains(char::is_whitespace);
            let hint = bare_name.then(|| format!("write a handle as in CODEOWNERS: `@{owner}`"));
            self.error_hint(
                path.key("owner"),
                format!(
                    "owner `{owner}` is not a CODEOWNERS handle (`@user`, `@org/team`) or an e-mail address"
                ),
                hint,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::check_yaml;

    fn findings(owner: &str) -> Vec<String> {
        let text = format!(
            "flags:\n  f:\n    type: boolean\n    variants: {{on: true}}\n    default: on\n    owner: {}\n",
            serde_json::to_string(owner).unwrap()
        );
        check_yaml(&text)
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn owners_are_handles_or_addresses() {
        for good in ["@alice", "@acme/payments", "ops@example.com"] {
            assert!(findings(good).is_empty(), "{good}: {:?}", findings(good));
        }
        let bad = findings("payments team");
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(
            bad[0].starts_with(
                "f.yaml:6:12: error: owner `payments team` is not a CODEOWNERS handle"
            ),
            "{bad:?}"
        );
        let bare = findings("payments");
        assert!(
            bare[0].contains("hint: write a handle as in CODEOWNERS: `@payments`"),
            "{bare:?}"
        );
        assert_eq!(findings("@").len(), 1);
    }

    /// The probe's owner, which the e-mail check once accepted, and others
    /// that would carry markup, spaces or control characters into a
    /// pull-request comment (docs/flag-format.md, "Owners").
    #[test]
    fn owners_carry_no_markup() {
        for good in [
            "payments@example.com",
            "a.b+c_d%e-f@mail.example.co.uk",
            "@Acme-Inc/check.out_team",
        ] {
            assert!(findings(good).is_empty(), "{good}: {:?}", findings(good));
        }
        for bad in [
            "\u{1b}[2J[approve](https://evil.example)<img/src=x>@x.com",
            "[approve](https://evil.example)@x.com",
            "a`b@example.com",
            "a|b@example.com",
            "a<b>@example.com",
            "a@b",
            "a@b.c",
            "a@-b.com",
            "a@b-.com",
            "a b@example.com",
            "ops@example.com\n## LGTM",
            "@acme/team/sub",
            "@acme\u{202e}",
            "@-acme",
        ] {
            assert_eq!(findings(bad).len(), 1, "{bad:?} is accepted");
        }
    }
}
