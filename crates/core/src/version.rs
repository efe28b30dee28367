//! Version strings as conditions read them.
//!
//! A leaf below `compile` and `eval`: the compiler parses a `semver_*`
//! condition's operands with [`parse_version`] and the evaluator parses a
//! context's version strings with it, so an operand and an attribute
//! written alike always read alike.

/// Parses a semantic version, allowing a leading `v`.
pub fn parse_version(s: &str) -> Option<semver::Version> {
    let s = s.trim();
    semver::Version::parse(s.strip_prefix(['v', 'V']).unwrap_or(s)).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_version;

    #[test]
    fn a_leading_v_and_spaces_are_allowed() {
        let v = semver::Version::new(2, 4, 1);
        for s in ["2.4.1", "v2.4.1", "V2.4.1", " 2.4.1 "] {
            assert_eq!(parse_version(s), Some(v.clone()), "{s}");
        }
        for s in ["2.4", "vv2.4.1", "", "x"] {
            assert_eq!(parse_version(s), None, "{s}");
        }
    }
}
