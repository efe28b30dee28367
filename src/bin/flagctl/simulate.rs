//! `flagctl simulate FLAG --env E [--users N] [--contexts FILE.jsonl] [--percentage P]…`

use std::path::PathBuf;

use clap::Args;
use hotswap_flags_gitops::diff::fields::num;
use hotswap_flags_gitops::population::{DEFAULT_USERS, Population};
use hotswap_flags_gitops::simulate::{Simulation, simulate};
use jiff::Timestamp;

use crate::cli::{OutputFormat, RepoArgs};
use crate::output::{self, Col};
use crate::repo_dir;
use crate::{Failure, Outcome, fail};

/// Who to evaluate (shared by `simulate` and `diff`).
#[derive(Debug, Clone, Args)]
pub struct PopulationArgs {
    /// Number of users (default 10000; with --contexts, one per line).
    #[arg(long, value_name = "N")]
    pub users: Option<usize>,

    /// Contexts to evaluate, one JSON object per line. With --users N the
    /// first N lines are used, or the lines repeat (with fresh keys) to reach N.
    #[arg(long, value_name = "FILE.jsonl")]
    pub contexts: Option<PathBuf>,

    /// Evaluate at this time: RFC 3339 or a zoned time
    /// (`2025-12-24T18:00[America/New_York]`). Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

impl PopulationArgs {
    /// The population these options describe.
    pub fn population(&self) -> anyhow::Result<Population> {
        Ok(match &self.contexts {
            Some(path) => Population::from_file(&path.display().to_string(), self.users)?,
            None => Population::synthetic(self.users.unwrap_or(DEFAULT_USERS))?,
        })
    }

    /// The evaluation instant.
    pub fn now(&self) -> anyhow::Result<Timestamp> {
        match &self.at {
            Some(text) => crate::eval::parse_at(text),
            None => Ok(Timestamp::now()),
        }
    }
}

/// `flagctl simulate`
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The flag key.
    pub flag: String,

    /// The environment.
    #[arg(long, short, value_name = "ENV")]
    pub env: String,

    /// A rollout percentage to simulate (repeatable; default: each canary
    /// stage, a linear ramp's from/step points/to, else the current state).
    #[arg(long = "percentage", value_name = "P")]
    pub percentages: Vec<f64>,

    #[command(flatten)]
    pub population: PopulationArgs,

    #[command(flatten)]
    pub repo: RepoArgs,
}

pub fn run(args: &SimulateArgs) -> Result<Outcome, Failure> {
    let ruleset = repo_dir::ruleset(args.repo.repo.as_deref(), &args.env)?;
    ruleset.find_flag(&args.flag)?;
    if let Some(p) = args
        .percentages
        .iter()
        .find(|p| !(0.0..=100.0).contains(*p))
    {
        fail!("--percentage {p} is not between 0 and 100");
    }
    let population = args.population.population()?;
    let now = args.population.now()?;
    let given = (!args.percentages.is_empty()).then_some(args.percentages.as_slice());
    let sim = simulate(&ruleset, &args.flag, &population, given, now)?;
    match args.repo.format {
        OutputFormat::Json => output::print_json(&sim),
        OutputFormat::Table => print_table(&sim),
    }
    Ok(Outcome::Ok)
}

fn share(n: u64, users: usize) -> String {
    format!("{} ({:.1} %)", n, n as f64 * 100.0 / users as f64)
}

fn print_table(sim: &Simulation) {
    println!("{} in {}: {}", sim.flag, sim.env, sim.population);
    let names: Vec<&String> = sim
        .rows
        .first()
        .map(|r| r.variants.keys().collect())
        .unwrap_or_default();
    let errors = sim.rows.iter().any(|r| r.errors > 0);
    let mut header: Vec<String> = vec!["rollout".into()];
    header.extend(names.iter().map(|n| (*n).clone()));
    if errors {
        header.push("errors".into());
    }
    header.extend(["joined".into(), "switched".into()]);
    let rows = sim.rows.iter().enumerate().map(|(i, r)| {
        let mut row = vec![
            r.percentage
                .map_or_else(|| "–".to_owned(), |p| format!("{} %", num(p))),
        ];
        row.extend(r.variants.values().map(|n| share(*n, sim.users)));
        if errors {
            row.push(share(r.errors, sim.users));
        }
        let first = i == 0;
        row.push(if first {
            "–".into()
        } else {
            r.joined.to_string()
        });
        row.push(if first {
            "–".into()
        } else {
            r.switchers.to_string()
        });
        row
    });
    println!(
        "{}",
        output::table(&[Col::Id], std::iter::once(header).chain(rows))
    );
    let mark = if sim.switchers == 0 { "✓" } else { "✗" };
    println!(
        "{mark} switchers: {} (users whose variant changes between stages other than by joining the rollout)",
        sim.switchers
    );
    match &sim.chi_square {
        Some(c) => println!(
            "chi-square fit of the {}: χ² = {:.3}, df = {}, p = {:.4}{}",
            c.tested,
            c.statistic,
            c.df,
            c.p_value,
            if c.p_value < 0.001 {
                " (the split does not match its weights)"
            } else {
                ""
            }
        ),
        None => println!("chi-square fit: no split or partial rollout to test"),
    }
}
