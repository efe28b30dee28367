//! Who a change moves: both compiled rulesets evaluated for the same
//! population, user by user.
//!
//! A user is *affected* by a flag when the two sides serve them different
//! answers: another variant, the same variant name with another value, or an
//! error on one side only. Both sides are evaluated at the same instant with
//! every rollout where it starts ([`InitialRollouts`]) — the state flagd
//! puts a new or changed rollout in, and what `flagctl eval` shows.

use jiff::Timestamp;
use serde_json::Value;

use crate::population::Population;
use hotswap_flags_core::eval::{Context, EvalEnv, EvalError, Evaluation, InitialRollouts, Reason};
use hotswap_flags_core::ruleset::{FlagId, Ruleset};

/// One flag to evaluate on either or both sides.
#[derive(Debug, Clone)]
pub struct Job {
    /// The flag key.
    pub key: String,
}

/// What the population pass found for one flag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobResult {
    /// Users served a different answer (only when the flag exists on both sides).
    pub moved: u64,
    /// Per head variant: users newly served it, not through the rollout, and
    /// it is not the variant the kill switch served before the change (the
    /// input of `unguarded-exposure`).
    pub unguarded: Vec<(String, u64)>,
    /// Per head variant: users served it on the head side.
    pub head_served: Vec<(String, u64)>,
    /// Per base variant: users served it on the base side.
    pub base_served: Vec<(String, u64)>,
}

/// The result of [`affected`].
#[derive(Debug, Clone, PartialEq)]
pub struct Affected {
    /// Per job, in the order given.
    pub jobs: Vec<JobResult>,
    /// Per group: users moved by at least one of the group's jobs.
    pub groups: Vec<u64>,
}

/// The jobs' flags as each side compiled them.
struct Sides<'r> {
    base: Option<&'r Ruleset>,
    head: Option<&'r Ruleset>,
    /// Per job: the flag's id in the base and in the head ruleset.
    ids: Vec<(Option<FlagId>, Option<FlagId>)>,
    /// Per job: the flag's variants in the base ruleset.
    base_names: Vec<Vec<String>>,
    /// Per job: the flag's variants in the head ruleset.
    head_names: Vec<Vec<String>>,
    /// Per job: the variant users may always be moved to, by head id.
    safe: Vec<Option<u16>>,
}

impl<'r> Sides<'r> {
    fn new(base: Option<&'r Ruleset>, head: Option<&'r Ruleset>, jobs: &[Job]) -> Self {
        let ids: Vec<(Option<FlagId>, Option<FlagId>)> = jobs
            .iter()
            .map(|j| {
                (
                    base.and_then(|r| r.flag_id(&j.key)),
                    head.and_then(|r| r.flag_id(&j.key)),
                )
            })
            .collect();
        Sides {
            base,
            head,
            base_names: ids.iter().map(|(b, _)| variants(base, *b)).collect(),
            head_names: ids.iter().map(|(_, h)| variants(head, *h)).collect(),
            safe: ids.iter().map(|(b, h)| safe(base, head, *b, *h)).collect(),
            ids,
        }
    }
}

/// A flag's variant names, none where the side lacks it.
fn variants(rs: Option<&Ruleset>, id: Option<FlagId>) -> Vec<String> {
    rs.zip(id)
        .map(|(r, id)| {
            r.flag(id)
                .variants
                .iter()
                .map(|v| v.name.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The variant users may always be moved to: what the kill switch served
/// before the change (for a new flag, what it serves now), by head id.
fn safe(
    base: Option<&Ruleset>,
    head: Option<&Ruleset>,
    b: Option<FlagId>,
    h: Option<FlagId>,
) -> Option<u16> {
    let h = head.zip(h).map(|(r, id)| r.flag(id))?;
    let name = match base.zip(b) {
        Some((r, id)) => {
            let f = r.flag(id);
            f.variant(f.off_variant).name.clone()
        }
        None => h.variant(h.off_variant).name.clone(),
    };
    h.variant_id(&name)
}

struct Tally {
    moved: Vec<u64>,
    unguarded: Vec<Vec<u64>>,
    head: Vec<Vec<u64>>,
    base: Vec<Vec<u64>>,
    groups: Vec<u64>,
}

impl Tally {
    fn new(sides: &Sides<'_>, groups: usize) -> Self {
        let zeros = |names: &[Vec<String>]| names.iter().map(|n| vec![0; n.len()]).collect();
        Tally {
            moved: vec![0; sides.ids.len()],
            unguarded: zeros(&sides.head_names),
            head: zeros(&sides.head_names),
            base: zeros(&sides.base_names),
            groups: vec![0; groups],
        }
    }

    fn merge(mut self, o: Tally) -> Tally {
        fn add(a: &mut [u64], b: &[u64]) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        add(&mut self.moved, &o.moved);
        add(&mut self.groups, &o.groups);
        for (a, b) in [
            (&mut self.unguarded, &o.unguarded),
            (&mut self.head, &o.head),
            (&mut self.base, &o.base),
        ] {
            a.iter_mut().zip(b).for_each(|(x, y)| add(x, y));
        }
        self
    }

    /// One user: each job on both sides, then each group the user's moves
    /// count in.
    fn user(&mut self, sides: &Sides<'_>, groups: &[Vec<usize>], ctx: &Context, env: &EvalEnv<'_>) {
        let moved: Vec<bool> = (0..sides.ids.len())
            .map(|j| self.job(sides, j, ctx, env))
            .collect();
        for (g, members) in groups.iter().enumerate() {
            if members
                .iter()
                .any(|&j| moved.get(j).copied().unwrap_or(false))
            {
                self.groups[g] += 1;
            }
        }
    }

    /// Job `j` for one user: what each side serves, whether the answer
    /// moved, and whether the head's is an unguarded exposure. Returns
    /// whether the user was moved.
    fn job(&mut self, sides: &Sides<'_>, j: usize, ctx: &Context, env: &EvalEnv<'_>) -> bool {
        let (b, h) = sides.ids[j];
        let before = sides.base.zip(b).map(|(r, id)| r.evaluate_id(id, ctx, env));
        let after = sides.head.zip(h).map(|(r, id)| r.evaluate_id(id, ctx, env));
        if let Some(Ok(ev)) = &before {
            self.base[j][usize::from(ev.variant)] += 1;
        }
        if let Some(Ok(ev)) = &after {
            self.head[j][usize::from(ev.variant)] += 1;
        }
        let changed = match (&before, &after) {
            (Some(x), Some(y)) => answer(x) != answer(y),
            _ => true,
        };
        let moved = changed && before.is_some() && after.is_some();
        if moved {
            self.moved[j] += 1;
        }
        if changed
            && let Some(Ok(ev)) = &after
            && ev.reason != Reason::Rollout
            && Some(ev.variant) != sides.safe[j]
        {
            self.unguarded[j][usize::from(ev.variant)] += 1;
        }
        moved
    }

    /// The counts, by variant name.
    fn result(self, sides: &Sides<'_>) -> Affected {
        let zip = |names: &[String], counts: &[u64]| -> Vec<(String, u64)> {
            names.iter().cloned().zip(counts.iter().copied()).collect()
        };
        Affected {
            jobs: (0..sides.ids.len())
                .map(|j| JobResult {
                    moved: self.moved[j],
                    unguarded: zip(&sides.head_names[j], &self.unguarded[j])
                        .into_iter()
                        .filter(|(_, n)| *n > 0)
                        .collect(),
                    head_served: zip(&sides.head_names[j], &self.head[j]),
                    base_served: zip(&sides.base_names[j], &self.base[j]),
                })
                .collect(),
            groups: self.groups,
        }
    }
}

/// An answer reduced to what a user sees.
fn answer<'r>(r: &Result<Evaluation<'r>, EvalError>) -> Result<(&'r str, &'r Value), EvalError> {
    r.map(|ev| (ev.variant_name(), ev.value()))
}

/// Evaluates `jobs` on both sides for every user of `population` at `now`.
/// `groups` are sets of job indexes; each gets the number of users moved by
/// at least one of its jobs (the per-environment total, a segment's flags).
pub fn affected(
    base: Option<&Ruleset>,
    head: Option<&Ruleset>,
    jobs: &[Job],
    groups: &[Vec<usize>],
    population: &Population,
    now: Timestamp,
) -> Affected {
    let sides = Sides::new(base, head, jobs);
    let env = EvalEnv {
        now,
        rollouts: &InitialRollouts,
    };
    let tally = population.fold(
        |_| Tally::new(&sides, groups.len()),
        |t, _, ctx| t.user(&sides, groups, ctx, &env),
        Tally::merge,
    );
    tally.result(&sides)
}
