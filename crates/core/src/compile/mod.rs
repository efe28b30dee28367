//! Validation and lowering of an environment's model into a [`Ruleset`].
//!
//! They are one pass on purpose: every value is checked exactly where it is
//! lowered (a regex is compiled once, to validate it and to keep it), so
//! nothing is parsed twice and nothing is served that was not checked. The
//! pass never stops at the first problem: it records a [`Diagnostic`] with
//! the key path and carries on, so `flagctl validate` reports everything.

mod condition;
mod config;
mod flag;
mod metadata;
mod reference;
mod rollout;
mod segment;
mod time;

use std::collections::HashMap;

use regex::Regex;

pub use config::validate_config;

use crate::diagnostic::{Diagnostic, KeyPath, did_you_mean};
use crate::model::{EnvModel, MetricsConfig};
use crate::ruleset::{FlagIndex, Ruleset, RulesetMeta, SegmentId};

/// Placeholders query templates in `flags.toml` may use: those of health
/// checks and those of experiment conversions (a template may serve either).
pub const QUERY_PLACEHOLDERS: &[&str] = &["flag", "variant", "stage", "percentage", "window"];

/// Placeholders a health check's query is rendered with.
pub const CHECK_PLACEHOLDERS: &[&str] = &["flag", "variant", "stage", "percentage"];

/// Placeholders an experiment's `conversions` query is rendered with;
/// `{{window}}` is the time exposures have been counted, so conversions
/// can be counted over the same window (`increase(…[{{window}}])`).
pub const CONVERSION_PLACEHOLDERS: &[&str] = &["flag", "variant", "window"];

/// What a query is for, which decides the placeholders filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryUse {
    /// A rollout health check.
    Check,
    /// An experiment's conversions.
    Conversions,
}

impl QueryUse {
    pub(crate) fn placeholders(self) -> &'static [&'static str] {
        match self {
            QueryUse::Check => CHECK_PLACEHOLDERS,
            QueryUse::Conversions => CONVERSION_PLACEHOLDERS,
        }
    }

    pub(crate) fn what(self) -> &'static str {
        match self {
            QueryUse::Check => "a health check",
            QueryUse::Conversions => "experiment conversions",
        }
    }
}

/// The outcome of compiling: a ruleset when there were no errors, and every
/// finding (errors and warnings) either way.
#[derive(Debug)]
pub struct Compiled {
    /// The ruleset, unless an error was found.
    pub ruleset: Option<Ruleset>,
    /// Errors and warnings, located by key path (no files yet).
    pub diagnostics: Vec<Diagnostic>,
}

/// Compiles one environment.
pub fn compile(model: &EnvModel, metrics: &MetricsConfig, meta: RulesetMeta) -> Compiled {
    let mut c = Compiler::new(model, metrics);
    let segments = c.segments();
    let flags: Vec<_> = model
        .flags
        .iter()
        .filter_map(|(key, flag)| c.flag(key, flag))
        .collect();
    c.warn_unused_segments();
    c.check_flag_cycles();
    let diagnostics = std::mem::take(&mut c.diags);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Compiled {
            ruleset: None,
            diagnostics,
        };
    }
    let index = FlagIndex::new(&flags);
    Compiled {
        ruleset: Some(Ruleset {
            meta,
            flags,
            index,
            segments,
            metrics: metrics.clone(),
            segment_definitions: serde_json::to_string(&model.segments)
                .unwrap_or_default()
                .into(),
        }),
        diagnostics,
    }
}

/// State of one compilation.
pub(crate) struct Compiler<'m> {
    model: &'m EnvModel,
    metrics: &'m MetricsConfig,
    segment_ids: HashMap<&'m str, SegmentId>,
    regexes: HashMap<String, Regex>,
    diags: Vec<Diagnostic>,
    /// The flag whose rules are being compiled; `None` in segments.
    current: Option<reference::CurrentFlag>,
}

impl<'m> Compiler<'m> {
    fn new(model: &'m EnvModel, metrics: &'m MetricsConfig) -> Self {
        let segment_ids = model
            .segments
            .keys()
            .enumerate()
            .map(|(i, name)| (name.as_str(), i as SegmentId))
            .collect();
        Compiler {
            model,
            metrics,
            segment_ids,
            regexes: HashMap::new(),
            diags: Vec::new(),
            current: None,
        }
    }

    fn error(&mut self, path: KeyPath, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(path, message));
    }

    fn error_hint(&mut self, path: KeyPath, message: impl Into<String>, hint: Option<String>) {
        self.diags
            .push(Diagnostic::error(path, message).with_hint_opt(hint));
    }

    fn warning(&mut self, path: KeyPath, message: impl Into<String>) {
        self.diags.push(Diagnostic::warning(path, message));
    }

    /// Resolves a segment reference, reporting unknown names with a suggestion.
    fn segment_ref(&mut self, name: &str, path: KeyPath) -> Option<SegmentId> {
        if let Some(id) = self.segment_ids.get(name) {
            return Some(*id);
        }
        let hint = did_you_mean(name, self.model.segments.keys().map(String::as_str));
        self.error_hint(path, format!("unknown segment `{name}`"), hint);
        None
    }

    /// Compiles a regex once per distinct pattern per load.
    fn regex(&mut self, pattern: &str) -> Result<Regex, String> {
        if let Some(r) = self.regexes.get(pattern) {
            return Ok(r.clone());
        }
        let r = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .build()
            .map_err(|e| match e {
                // The last line of the regex crate's report reads "error: …".
                regex::Error::Syntax(s) => {
                    let last = s.lines().last().unwrap_or(&s);
                    format!(
                        "invalid regular expression: {}",
                        last.strip_prefix("error: ").unwrap_or(last)
                    )
                }
                other => format!("invalid regular expression: {other}"),
            })?;
        self.regexes.insert(pattern.to_owned(), r.clone());
        Ok(r)
    }

    /// Checks a query: a named template from `flags.toml` or inline PromQL.
    /// A bare identifier must name a template — a typo there would otherwise
    /// be sent to Prometheus and come back as "no data".
    fn query(&mut self, query: &str, path: KeyPath, usage: QueryUse) -> Option<String> {
        if let Some(template) = self.metrics.queries.get(query) {
            if let Err(bad) = config::check_placeholders(template, usage) {
                self.error(path, format!("template `{query}`: {bad}"));
                return None;
            }
            return Some(template.clone());
        }
        let is_identifier =
            query.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !query.is_empty();
        if is_identifier {
            let hint = did_you_mean(query, self.metrics.queries.keys().map(String::as_str))
                .or_else(|| {
                    Some("define it under [metrics.queries] in flags.toml, or write PromQL".into())
                });
            self.error_hint(path, format!("unknown query template `{query}`"), hint);
            return None;
        }
        if query.trim().is_empty() {
            self.error(path, "query is empty");
            return None;
        }
        if let Err(bad) = config::check_placeholders(query, usage) {
            self.error(path, bad);
            return None;
        }
        Some(query.to_owned())
    }
}

/// Checks a flag or segment key: it appears in URLs, metrics and file names.
/// `kind` names what is checked in messages ("flag key", "environment name").
pub fn check_key(kind: &str, key: &str) -> Result<(), String> {
    let valid = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && key.len() <= 200
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{kind} `{key}` must start with a letter or digit and use only letters, digits, `-`, `_` and `.`, up to 200 characters"
        ))
    }
}
