//! Checks of `flags.toml` beyond its shape.

use std::collections::HashSet;
use std::path::{Component, Path};

use super::QUERY_PLACEHOLDERS;
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
        } else if let Err(msg) = check_placeholders(template) {
            diags.push(Diagnostic::error(path, msg));
        }
    }
    diags
}

/// Checks that every `{{…}}` in a query is a known placeholder.
pub(crate) fn check_placeholders(query: &str) -> Result<(), String> {
    let mut rest = query;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("unclosed `{{` in query".into());
        };
        let name = after[..end].trim();
        if !QUERY_PLACEHOLDERS.contains(&name) {
            let hint = did_you_mean(name, QUERY_PLACEHOLDERS.iter().copied())
                .unwrap_or_else(|| "use {{flag}}, {{variant}}, {{stage}} or {{percentage}}".into());
            return Err(format!("unknown placeholder `{{{{{name}}}}}` ({hint})"));
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
        assert!(check_placeholders("rate(x{flag=\"{{flag}}\",v=\"{{ variant }}\"}[1m])").is_ok());
        let err = check_placeholders("x{f=\"{{flg}}\"}").unwrap_err();
        assert!(err.contains("did you mean `flag`?"), "{err}");
        assert!(check_placeholders("x{{").is_err());
    }
}
