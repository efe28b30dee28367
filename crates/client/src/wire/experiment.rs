//! An experiment as flagd counts it and reports its exposures
//! (`GET /api/v1/experiments/{flag}`), and as `flagctl experiment analyze
//! --daemon` derives it from the repository to check that both count the
//! same spec.

use hotswap_flags_core::model::Experiment;
use hotswap_flags_core::ruleset::{BucketingMode, CompiledFlag, CompiledServe, CompiledSplit};
use indexmap::IndexMap;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Where a flag's experiment split sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The flag's `default`.
    Default,
    /// The `serve` of the rule with this index.
    Rule(usize),
}

impl Site {
    /// Whether an evaluation that matched `rule` (None: no rule) reached
    /// this split.
    #[inline]
    pub fn reached_by(self, rule: Option<usize>) -> bool {
        match self {
            Site::Default => rule.is_none(),
            Site::Rule(i) => rule == Some(i),
        }
    }
}

/// An experiment as flagd counts it: what identifies it and what analysis
/// needs besides the counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentSpec {
    /// The flag key.
    pub flag: String,
    /// Hash of everything that decides who gets which variant and what is
    /// compared; a change starts the count over.
    pub spec_hash: String,
    /// The rule whose split runs the experiment; `None` for the default.
    pub rule: Option<String>,
    /// The attribute hashed for the split.
    pub bucket_by: String,
    /// The split's salt (the flag key unless set).
    pub salt: String,
    /// The control variant (`experiment.control`, else the split's first).
    pub control: String,
    /// The split's variants with their weights, in written order.
    pub weights: Vec<(String, f64)>,
    /// The `experiment` block as written.
    pub experiment: Experiment,
}

impl ExperimentSpec {
    /// The experiment of `flag` and where it sits, if the flag runs one.
    pub fn of(flag: &CompiledFlag) -> Option<(Site, ExperimentSpec)> {
        let (site, rule, split) = std::iter::once((Site::Default, None, &flag.default))
            .chain(
                flag.rules
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (Site::Rule(i), Some(&*r.name), &r.serve)),
            )
            .find_map(|(site, rule, serve)| match serve {
                CompiledServe::Split(s) if s.experiment.is_some() => Some((site, rule, &**s)),
                _ => None,
            })?;
        let experiment = split.experiment.clone()?;
        let weights: Vec<(String, f64)> = split
            .slots
            .iter()
            .map(|s| (flag.variant(s.variant).name.to_string(), s.weight))
            .collect();
        let control = experiment
            .control
            .clone()
            .or_else(|| weights.first().map(|(n, _)| n.clone()))
            .unwrap_or_default();
        let spec_hash = spec_hash(flag, rule, split);
        Some((
            site,
            ExperimentSpec {
                flag: flag.key.to_string(),
                spec_hash,
                rule: rule.map(str::to_owned),
                bucket_by: flag.bucket_by.name().to_owned(),
                salt: split.salt.to_string(),
                control,
                weights,
                experiment,
            },
        ))
    }
}

/// A stable hash of what defines an experiment. The rule is named rather
/// than numbered, so reordering unrelated rules keeps the count. The
/// bucketing mode counts only when it is not the default, so that the
/// experiments of flags that never set one keep their hashes.
fn spec_hash(flag: &CompiledFlag, rule: Option<&str>, split: &CompiledSplit) -> String {
    let mut canonical = json!({
        "rule": rule,
        "bucketBy": flag.bucket_by.name(),
        "salt": &*split.salt,
        "split": split
            .slots
            .iter()
            .map(|s| json!([&*flag.variant(s.variant).name, s.weight]))
            .collect::<Vec<_>>(),
        "values": split
            .slots
            .iter()
            .map(|s| &flag.variant(s.variant).value)
            .collect::<Vec<_>>(),
        "experiment": &split.experiment,
    });
    if flag.bucketing != BucketingMode::default() {
        canonical["bucketing"] = json!(flag.bucketing.as_str());
    }
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes))
}

/// One experiment's exposures as flagd reports them (and `flagctl
/// experiment analyze --daemon` reads them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExposureReport {
    /// The flag key.
    pub flag: String,
    /// The experiment's spec hash: the counts belong to this spec.
    pub spec_hash: String,
    /// Counted since (the spec's first load by this flagd process).
    pub since: Timestamp,
    /// When the counts were read, by flagd's clock: the window is
    /// `since … at`, measured on one clock whatever the caller's says.
    pub at: Timestamp,
    /// The version of the ruleset in service.
    pub version: String,
    /// The rule whose split runs the experiment; null for the default.
    pub rule: Option<String>,
    /// The attribute hashed for the split.
    pub bucket_by: String,
    /// The split's salt.
    pub salt: String,
    /// The control variant.
    pub control: String,
    /// The split's weights, in written order.
    pub weights: IndexMap<String, f64>,
    /// Exposures by variant, in the split's order.
    pub exposures: IndexMap<String, u64>,
    /// The sum of `exposures`.
    pub total: u64,
    /// The `experiment` block as written.
    pub experiment: Experiment,
    /// In a cluster: the replicas whose counts are summed here (`since` is
    /// then the earliest of theirs; docs/cluster.md, Experiments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Vec<String>>,
}

impl ExposureReport {
    /// Adds another replica's counts of the same spec: exposures summed,
    /// the window widened to the earliest `since`.
    pub fn add(&mut self, replica: &str, since: Timestamp, exposures: &IndexMap<String, u64>) {
        for (variant, n) in exposures {
            *self.exposures.entry(variant.clone()).or_default() += n;
        }
        self.total = self.exposures.values().sum();
        self.since = self.since.min(since);
        self.replicas
            .get_or_insert_with(Vec::new)
            .push(replica.to_owned());
    }
}
