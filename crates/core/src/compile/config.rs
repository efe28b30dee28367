//! Checks of `flags.toml` beyond its shape.

use std::collections::HashSet;
use std::path::{Component, Path};

use super::{QUERY_PLACEHOLDERS, QueryUse};
use crate::diagnostic::{Diagnostic, KeyPath, did_you_mean};
use crate::model::RepoConfig;

/// Semantic findings about a repository configuration.
pub fn validate_config(config: &RepoConfig) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let root = KeyPath::root();
    if config.version != 1 {
        diags.push(Diagnostic::error(
            root.key("version"),
            format!(
                "unsupported version {}; this flagctl reads version 1",
                config.version
            ),
        ));
    }
    if config.environments.is_empty() {
        diags.push(Diagnostic::error(
            root.key("environments"),
            "no environments: add [[environments]] with `name` and `path`",
        ));
    }
    let mut names = HashSet::new();
    let mut paths: Vec<&str> = Vec::new();
    for (i, env) in config.environments.iter().enumerate() {
        let path = root.key("environments").index(i);
        if let Err(msg) = super::check_key("environment name", &env.name) {
            diags.push(Diagnostic::error(path.key("name"), msg));
        } else if !names.insert(env.name.as_str()) {
            diags.push(Diagnostic::error(
                path.key("name"),
                format!("environment `{}` is defined twice", env.name),
            ));
        }
        let p = Path::new(&env.path);
        let relative = !env.path.is_empty()
            && p.components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !relative {
            diags.push(Diagnostic::error(
                path.key("path"),
                format!(
                    "`{}` must be a relative path inside the repository (no `..`)",
                    env.path
                ),
            ));
            continue;
        }
        let norm = env.path.trim_end_matches('/');
        if let Some(other) = paths.iter().find(|o| {
            **o == norm || norm.starts_with(&format!("{o}/")) || o.starts_with(&format!("{norm}/"))
        }) {
            diags.push(Diagnostic::error(
                path.key("path"),
                format!(
                    "`{}` overlaps `{other}`: environments need separate directories",
                    env.path
                ),
            ));
        }
        paths.push(norm);
    }
    if let Some(url) = &config.metrics.prometheus
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        diags.push(Diagnostic::error(
            root.key("metrics").key("prometheus"),
            format!("`{url}` is not an http(s) URL"),
        ));
    }
    for (name, template) in &config.metrics.queries {
        let path = root.key("metrics").key("queries").key(name);
        if template.trim().is_empty() {
            diags.push(Diagnostic::error(path, "query template is empty"));
        } else if let Err(msg) = check_placeholders(template, None) {
            diags.push(Diagnostic::error(path, msg));
        }
    }
    diags
}

/// Checks that every `{{…}}` in a query is a placeholder filled in where
/// the query runs (`None`: a `flags.toml` template, which may serve any use).
pub(crate) fn check_placeholders(
    query: &str,
    usage: impl Into<Option<QueryUse>>,
) -> Result<(), String> {
    let usage = usage.into();
    let allowed = usage.map_or(QUERY_PLACEHOLDERS, QueryUse::placeholders);
    let mut rest = query;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("unclosed `{{` in query".into());
        };
        let name = after[..end].trim();
        if !allowed.contains(&name) {
            let listed: Vec<String> = allowed.iter().map(|p| format!("{{{{{p}}}}}")).collect();
            let choices = match listed.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            };
            let hint = did_you_mean(name, allowed.iter().copied())
                .unwrap_or_else(|| format!("use {choices}"));
            return Err(match usage {
                Some(u) if QUERY_PLACEHOLDERS.contains(&name) => format!(
                    "placeholder `{{{{{name}}}}}` is not filled in for {} (use {choices})",
                    u.what()
                ),
                _ => format!("unknown placeholder `{{{{{name}}}}}` ({hint})"),
            });
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert!(
            check_placeholders("rate(x{flag=\"{{flag}}\",v=\"{{ variant }}\"}[1m])", None).is_ok()
        );
        let err = check_placeholders("x{f=\"{{flg}}\"}", None).unwrap_err();
        assert!(err.contains("did you mean `flag`?"), "{err}");
        assert!(check_placeholders("x{{", None).is_err());
        // Each use fills in its own placeholders.
        let window = "increase(x[{{window}}])";
        assert!(check_placeholders(window, None).is_ok());
        assert!(check_placeholders(window, QueryUse::Conversions).is_ok());
        let err = check_placeholders(window, QueryUse::Check).unwrap_err();
        assert_eq!(
            err,
            "placeholder `{{window}}` is not filled in for a health check (use {{flag}}, {{variant}}, {{stage}} or {{percentage}})"
        );
        let err = check_placeholders("x{s=\"{{stage}}\"}", QueryUse::Conversions).unwrap_err();
        assert!(
            err.contains("not filled in for experiment conversions"),
            "{err}"
        );
        assert!(
            err.contains("use {{flag}}, {{variant}} or {{window}}"),
            "{err}"
        );
    }
}
