//! Semantic diff of two revisions of a flags repository.
//!
//! Each side is read into the merged model of every environment (all its
//! files together), and the models are compared definition by definition.
//! Files do not matter: a flag that moved to another file is the same flag
//! (reported as a note, never as removed + added), and a comment or a
//! reformatting is no change at all. Each changed flag is then evaluated on
//! both sides for one population to say how many users it moves.

mod affected;
pub mod fields;
pub mod markdown;
pub mod policy;

use std::collections::{BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Serialize;

pub use affected::{Affected, Job, JobResult, affected};
pub use fields::FieldChange;
pub use policy::{Policy, PolicyHit};

use crate::population::Population;
use crate::repo::load::{Checked, LoadedEnv};
use crate::repo::{RepoError, Repository};
use hotswap_flags_core::escape::Words;
use hotswap_flags_core::model::{Condition, EnvModel, Flag};
use hotswap_flags_core::ruleset::Ruleset;

/// One side of a diff: a label for people and the repository read at that
/// revision (`None` when the revision has no `flags.toml` yet).
#[derive(Debug)]
pub struct Side {
    /// `HEAD (1a2b3c4)`, `working tree`.
    pub label: String,
    /// The repository at that revision.
    pub repo: Option<Repository>,
}

/// How to diff.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Only this environment.
    pub env: Option<&'a str>,
    /// Who is evaluated for the affected shares.
    pub population: &'a Population,
    /// The evaluation instant (time rules, scheduled rollouts).
    pub now: Timestamp,
}

/// Flag or segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A flag.
    Flag,
    /// A segment.
    Segment,
}

impl Kind {
    /// `flag` or `segment`, as in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Flag => "flag",
            Kind::Segment => "segment",
        }
    }
}

/// What happened to a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeType {
    /// New on the head side.
    Added,
    /// Gone on the head side.
    Removed,
    /// Present on both sides, different (or using a changed segment).
    Modified,
}

impl ChangeType {
    /// `added`, `removed`, `modified`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "added",
            ChangeType::Removed => "removed",
            ChangeType::Modified => "modified",
        }
    }
}

/// A variant's share of the population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantShare {
    /// The variant's name.
    pub variant: String,
    /// Users served it.
    pub users: u64,
    /// As a share of the population (0–1).
    pub share: f64,
}

/// One added, removed or modified flag or segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Flag or segment.
    pub kind: Kind,
    /// The flag or segment key.
    pub key: String,
    /// Added, removed or modified.
    pub change: ChangeType,
    /// What changed, field by field (for removed: nothing; for added: only
    /// what a reviewer must see even in a new flag, `clientSide`).
    pub fields: Vec<FieldChange>,
    /// Share of users (0–1) served a different answer; for a segment, by at
    /// least one flag using it. `None` for added and removed flags.
    pub affected_share: Option<f64>,
    /// Users behind `affectedShare`.
    pub affected_users: Option<u64>,
    /// For added flags: what the head serves; for removed ones: what the
    /// base served.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exposure: Vec<VariantShare>,
    /// Users newly served a variant other than the old `offVariant`, not through a
    /// rollout (input of the `unguarded-exposure` policy).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unguarded: Vec<VariantShare>,
    /// For a segment: the flags using it (either side).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub used_by: Vec<String>,
}

/// A definition that lives in another file on the head side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// Flag or segment.
    pub kind: Kind,
    /// The flag or segment key.
    pub key: String,
    /// The base side's file.
    pub from: String,
    /// The head side's file.
    pub to: String,
}

/// A side that does not validate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invalid {
    /// `base` or `head`.
    pub side: &'static str,
    /// The side's label.
    pub revision: String,
    /// The errors, as `file:line:col: error: message`.
    pub errors: Vec<String>,
}

/// Whether the environment exists on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// On both sides.
    Both,
    /// Only on the head side.
    Added,
    /// Only on the base side.
    Removed,
}

/// The diff of one environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvDiff {
    /// The environment.
    pub env: String,
    /// Protected on the head side (or on the base side when removed).
    pub protected: bool,
    /// On which sides it exists.
    pub presence: Presence,
    /// Flags first, then segments, each in file order.
    pub changes: Vec<Change>,
    /// Definitions that changed files.
    pub moved: Vec<Moved>,
    /// Share of users (0–1) served a different answer by at least one flag
    /// present on both sides.
    pub affected_share: Option<f64>,
    /// Users behind `affectedShare`.
    pub affected_users: Option<u64>,
    /// Sides that do not validate (then `changes` is empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<Invalid>,
}

impl EnvDiff {
    /// True when a side does not validate.
    pub fn is_invalid(&self) -> bool {
        !self.invalid.is_empty()
    }
}

/// The diff of two revisions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoDiff {
    /// The base side's label.
    pub base: String,
    /// The head side's label.
    pub head: String,
    /// Population size.
    pub users: usize,
    /// The population, in words.
    pub population: Words,
    /// True when users carry only a key: rules on attributes never match.
    pub synthetic_population: bool,
    /// Evaluation instant (RFC 3339).
    pub evaluated_at: String,
    /// One entry per environment, in `flags.toml` order (head, then base-only).
    pub environments: Vec<EnvDiff>,
}

impl RepoDiff {
    /// True when a side of some environment does not validate.
    pub fn has_invalid(&self) -> bool {
        self.environments.iter().any(EnvDiff::is_invalid)
    }

    /// Number of changes over all environments.
    pub fn change_count(&self) -> usize {
        self.environments.iter().map(|e| e.changes.len()).sum()
    }
}

/// Compares two sides, environment by environment.
pub fn diff(base: &Side, head: &Side, opts: &Options<'_>) -> Result<RepoDiff, RepoError> {
    let envs_of = |s: &Side| -> Vec<(String, bool)> {
        s.repo
            .as_ref()
            .map(|r| {
                r.config()
                    .environments
                    .iter()
                    .map(|e| (e.name.clone(), e.protected))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (base_envs, head_envs) = (envs_of(base), envs_of(head));
    let mut names: Vec<(String, bool, Presence)> = head_envs
        .iter()
        .map(|(n, p)| {
            let presence = if base_envs.iter().any(|(b, _)| b == n) {
                Presence::Both
            } else {
                Presence::Added
            };
            (n.clone(), *p, presence)
        })
        .collect();
    for (n, p) in &base_envs {
        if !head_envs.iter().any(|(h, _)| h == n) {
            names.push((n.clone(), *p, Presence::Removed));
        }
    }
    if let Some(only) = opts.env {
        names.retain(|(n, _, _)| n == only);
        if names.is_empty() {
            let repo = head.repo.as_ref().or(base.repo.as_ref());
            return Err(match repo {
                Some(r) => r.environment(only).err().unwrap_or(RepoError::UnknownEnv {
                    name: only.to_owned(),
                    hint: None,
                }),
                None => RepoError::UnknownEnv {
                    name: only.to_owned(),
                    hint: None,
                },
            });
        }
    }
    let mut environments = Vec::new();
    for (name, protected, presence) in names {
        let side = |s: &Side, present: bool| -> Result<Option<Checked>, RepoError> {
            match (&s.repo, present) {
                (Some(r), true) => r.check_env(&name).map(Some),
                _ => Ok(None),
            }
        };
        let b = side(base, presence != Presence::Added)?;
        let h = side(head, presence != Presence::Removed)?;
        let mut invalid = Vec::new();
        for (which, side, loaded) in [("base", base, &b), ("head", head, &h)] {
            if let Some(l) = loaded
                && l.has_errors()
            {
                invalid.push(Invalid {
                    side: which,
                    revision: side.label.clone(),
                    errors: l.errors().map(ToString::to_string).collect(),
                });
            }
        }
        let mut env = EnvDiff {
            env: name.clone(),
            protected,
            presence,
            changes: Vec::new(),
            moved: Vec::new(),
            affected_share: None,
            affected_users: None,
            invalid,
        };
        if env.invalid.is_empty() {
            compare_env(&mut env, b.as_ref(), h.as_ref(), opts);
        }
        environments.push(env);
    }
    Ok(RepoDiff {
        base: base.label.clone(),
        head: head.label.clone(),
        users: opts.population.len(),
        population: opts.population.describe().clone(),
        synthetic_population: opts.population.is_synthetic(),
        evaluated_at: opts.now.to_string(),
        environments,
    })
}

/// The segments a condition names.
fn condition_segments<'a>(c: &'a Condition, out: &mut Vec<&'a str>) {
    match c {
        Condition::Segment(s) => out.push(s),
        Condition::All(cs) | Condition::Any(cs) => {
            cs.iter().for_each(|c| condition_segments(c, out));
        }
        Condition::Not(c) => condition_segments(c, out),
        Condition::Attr(_) | Condition::Time(_) | Condition::Percentage(_) | Condition::Flag(_) => {
        }
    }
}

/// Every segment a flag depends on, through rules, its rollout and other
/// segments' conditions.
pub fn segments_used(model: &EnvModel, flag: &Flag) -> BTreeSet<String> {
    let mut pending: Vec<&str> = Vec::new();
    for rule in &flag.rules {
        condition_segments(&rule.when, &mut pending);
    }
    if let Some(segs) = flag.rollout.as_ref().and_then(|r| r.segments.as_ref()) {
        pending.extend(segs.iter().map(String::as_str));
    }
    let mut seen = BTreeSet::new();
    while let Some(s) = pending.pop() {
        if !seen.insert(s.to_owned()) {
            continue;
        }
        if let Some(when) = model.segments.get(s).and_then(|seg| seg.when.as_ref()) {
            condition_segments(when, &mut pending);
        }
    }
    seen
}

/// The file defining `section.key` in a loaded environment.
pub fn defining_file(env: &LoadedEnv, section: &str, key: &str) -> Option<String> {
    env.files
        .iter()
        .find(|f| {
            f.node
                .as_ref()
                .and_then(|n| n.get(section))
                .and_then(|s| s.get(key))
                .is_some()
        })
        .map(|f| f.path.clone())
}

fn compare_env(
    env: &mut EnvDiff,
    base: Option<&Checked>,
    head: Option<&Checked>,
    opts: &Options<'_>,
) {
    let empty = EnvModel::default();
    let bm = base.map_or(&empty, |l| &l.loaded.model);
    let hm = head.map_or(&empty, |l| &l.loaded.model);
    let mut flag_changes =
        definition_changes(Kind::Flag, &bm.flags, &hm.flags, fields::flag_changes);
    for c in &mut flag_changes {
        if c.change == ChangeType::Added
            && let Some(flag) = hm.flags.get(&c.key)
        {
            c.fields = fields::added_flag_fields(flag);
        }
    }
    let mut segment_changes = definition_changes(
        Kind::Segment,
        &bm.segments,
        &hm.segments,
        fields::segment_changes,
    );
    through_segments(bm, hm, &mut flag_changes, &mut segment_changes);
    if let (Some(b), Some(h)) = (base, head) {
        env.moved = moved_between_files(b, h);
    }
    measure_affected(
        env,
        &mut flag_changes,
        &mut segment_changes,
        base,
        head,
        opts,
    );
    env.changes = flag_changes;
    env.changes.extend(segment_changes);
}

/// Keys of both sides: head order first, then those only the base has.
fn keys_of_both<'a, T>(
    base: &'a IndexMap<String, T>,
    head: &'a IndexMap<String, T>,
) -> impl Iterator<Item = &'a String> {
    head.keys()
        .chain(base.keys().filter(|k| !head.contains_key(*k)))
}

/// Definitions added, removed or changed (field by field, by `compare`).
fn definition_changes<T>(
    kind: Kind,
    base: &IndexMap<String, T>,
    head: &IndexMap<String, T>,
    compare: fn(&T, &T) -> Vec<FieldChange>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for key in keys_of_both(base, head) {
        let (change, fields) = match (base.get(key), head.get(key)) {
            (None, Some(_)) => (ChangeType::Added, Vec::new()),
            (Some(_), None) => (ChangeType::Removed, Vec::new()),
            (Some(a), Some(b)) => {
                let f = compare(a, b);
                if f.is_empty() {
                    continue;
                }
                (ChangeType::Modified, f)
            }
            (None, None) => continue,
        };
        changes.push(change_of(kind, key, change, fields));
    }
    changes
}

/// A changed segment changes every flag that uses it (on either side):
/// such flags are listed as modified, and each segment names its users.
fn through_segments(
    bm: &EnvModel,
    hm: &EnvModel,
    flag_changes: &mut Vec<Change>,
    segment_changes: &mut [Change],
) {
    let all_flags: Vec<&String> = keys_of_both(&bm.flags, &hm.flags).collect();
    let flag_segments: HashMap<&str, BTreeSet<String>> = all_flags
        .iter()
        .map(|k| {
            let mut used = BTreeSet::new();
            for model in [bm, hm] {
                if let Some(f) = model.flags.get(*k) {
                    used.extend(segments_used(model, f));
                }
            }
            (k.as_str(), used)
        })
        .collect();
    for seg in segment_changes.iter_mut() {
        seg.used_by = all_flags
            .iter()
            .filter(|k| flag_segments[k.as_str()].contains(&seg.key))
            .map(|k| (*k).clone())
            .collect();
    }
    let changed_segments: HashSet<&str> = segment_changes.iter().map(|c| c.key.as_str()).collect();
    for key in &all_flags {
        let fields: Vec<FieldChange> = flag_segments[key.as_str()]
            .iter()
            .filter(|s| changed_segments.contains(s.as_str()))
            .map(|s| FieldChange {
                path: format!("segments.{s}"),
                text: Words::from("uses segment ")
                    .quoted(s)
                    .ours(", which changed"),
                before: None,
                after: None,
            })
            .collect();
        if fields.is_empty() {
            continue;
        }
        match flag_changes.iter_mut().find(|c| &c.key == *key) {
            Some(c) if c.change == ChangeType::Modified => c.fields.extend(fields),
            Some(_) => {}
            None => {
                // Keep head order: insert after the flags that precede it.
                let order = |k: &str| all_flags.iter().position(|x| x.as_str() == k);
                let at = flag_changes
                    .iter()
                    .position(|c| order(&c.key) > order(key))
                    .unwrap_or(flag_changes.len());
                flag_changes.insert(at, change_of(Kind::Flag, key, ChangeType::Modified, fields));
            }
        }
    }
}

/// Definitions on both sides whose file changed: a move, never a removal
/// and an addition.
fn moved_between_files(base: &Checked, head: &Checked) -> Vec<Moved> {
    let (bm, hm) = (&base.loaded.model, &head.loaded.model);
    let flags = hm.flags.keys().filter(|k| bm.flags.contains_key(*k));
    let segments = hm.segments.keys().filter(|k| bm.segments.contains_key(*k));
    let both = flags
        .map(|k| (Kind::Flag, "flags", k))
        .chain(segments.map(|k| (Kind::Segment, "segments", k)));
    both.filter_map(|(kind, section, key)| {
        let from = defining_file(&base.loaded, section, key)?;
        let to = defining_file(&head.loaded, section, key)?;
        (from != to).then(|| Moved {
            kind,
            key: key.clone(),
            from,
            to,
        })
    })
    .collect()
}

/// Who the changes move: per changed flag, per changed segment (its users
/// among the modified flags) and for the environment as a whole.
fn measure_affected(
    env: &mut EnvDiff,
    flag_changes: &mut [Change],
    segment_changes: &mut [Change],
    base: Option<&Checked>,
    head: Option<&Checked>,
    opts: &Options<'_>,
) {
    let users = opts.population.len() as f64;
    let share = |n: u64| n as f64 / users;
    env.affected_users = Some(0);
    env.affected_share = Some(0.0);
    for seg in segment_changes.iter_mut() {
        seg.affected_users = Some(0);
        seg.affected_share = Some(0.0);
    }
    if flag_changes.is_empty() {
        return;
    }
    let jobs: Vec<Job> = flag_changes
        .iter()
        .map(|c| Job { key: c.key.clone() })
        .collect();
    let modified: Vec<usize> = flag_changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.change == ChangeType::Modified)
        .map(|(i, _)| i)
        .collect();
    let mut groups = vec![modified.clone()];
    for seg in segment_changes.iter() {
        let users_of = |&i: &usize| seg.used_by.contains(&flag_changes[i].key);
        groups.push(modified.iter().copied().filter(users_of).collect());
    }
    let result = affected(
        ruleset_of(base),
        ruleset_of(head),
        &jobs,
        &groups,
        opts.population,
        opts.now,
    );
    let shares = |v: &[(String, u64)]| -> Vec<VariantShare> {
        v.iter()
            .map(|(variant, n)| VariantShare {
                variant: variant.clone(),
                users: *n,
                share: share(*n),
            })
            .collect()
    };
    for (c, r) in flag_changes.iter_mut().zip(&result.jobs) {
        match c.change {
            ChangeType::Modified => {
                c.affected_users = Some(r.moved);
                c.affected_share = Some(share(r.moved));
            }
            ChangeType::Added => c.exposure = shares(&r.head_served),
            ChangeType::Removed => c.exposure = shares(&r.base_served),
        }
        c.unguarded = shares(&r.unguarded);
    }
    env.affected_users = result.groups.first().copied();
    env.affected_share = env.affected_users.map(share);
    for (seg, n) in segment_changes.iter_mut().zip(result.groups.iter().skip(1)) {
        seg.affected_users = Some(*n);
        seg.affected_share = Some(share(*n));
    }
}

fn ruleset_of(l: Option<&Checked>) -> Option<&Ruleset> {
    l.and_then(|l| l.ruleset.as_ref())
}

fn change_of(kind: Kind, key: &str, change: ChangeType, fields: Vec<FieldChange>) -> Change {
    Change {
        kind,
        key: key.to_owned(),
        change,
        fields,
        affected_share: None,
        affected_users: None,
        exposure: Vec::new(),
        unguarded: Vec::new(),
        used_by: Vec::new(),
    }
}

/// A share as people read it: `12.3 %`, `< 0.1 %`, `0 %`.
pub fn percent(share: f64) -> String {
    if share == 0.0 {
        "0 %".to_owned()
    } else if share < 0.001 {
        "< 0.1 %".to_owned()
    } else if share > 0.999 && share < 1.0 {
        "> 99.9 %".to_owned()
    } else {
        format!("{} %", fields::num((share * 1000.0).round() / 10.0))
    }
}
