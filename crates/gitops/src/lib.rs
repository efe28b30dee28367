//! HotSwap Flags over git: a flags repository as a directory or a commit
//! ([`repo`], [`git`]), the review workflow `flagctl` runs on it — what a
//! change does to a population before it merges ([`simulate`],
//! [`population`]), what it changes ([`diff`]), carrying it to the next
//! environment as a branch to review ([`promote`]), removing a flag the same
//! way ([`retire`]), both through one branch step ([`branch`]), a new
//! repository ([`scaffold`]), flags brought from another tool ([`import`]) — and the evidence that asks the running
//! system: which flags can go ([`lifecycle`]) and an experiment's live
//! counts ([`experiment`]).
//!
//! ```text
//! fsutil ◀─ git ◀─ repo ◀─ simulate, population, diff, scaffold
//!                   repo ◀─ branch ◀─ promote ◀─ retire
//!                   repo ◀─ lifecycle ◀─ retire
//!                   repo ◀─ experiment
//! ```
//!
//! flagd uses [`repo`] (a commit's snapshot, remotes) and [`fsutil`];
//! everything else here runs in flagctl only.

#![warn(missing_docs)]

pub mod fsutil;
pub mod git;
pub mod repo;

pub mod branch;
pub mod diff;
pub mod experiment;
pub mod import;
pub mod lifecycle;
pub mod population;
pub mod promote;
pub mod retire;
pub mod scaffold;
pub mod simulate;
