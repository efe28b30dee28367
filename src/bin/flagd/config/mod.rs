//! flagd's options: command line first, then `--config flagd.toml`, then
//! defaults. The config file uses the long option names as keys.
//!
//! Each option is declared once, as a field of [`Args`], which is both
//! clap's parser and the file's format. The command line goes over the
//! file through clap's own `update_from_arg_matches`, which sets on a
//! struct the options an `ArgMatches` holds: handed only what the command
//! line set, it leaves every other value the file's. Written out field by
//! field, that merge named every option once more, and an option missing
//! from it was silently dropped from the file; a macro generating it would
//! have to wrap the whole struct, out of rustfmt's reach. And what the
//! command line set is clap's to say (`ArgMatches::value_source`), not a
//! guess from the value: `false` and an empty list are also what a flag
//! or a list left off reads. Defaults are applied after the merge, in
//! `settings`, so that none hides the file's value.

mod args;
mod cluster;
mod security;
mod settings;
mod telemetry;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::Context as _;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _};

pub use args::{Args, LogFormat, UiMode};
pub use cluster::ClusterSettings;
pub use security::KeyFile;
pub use settings::Settings;

/// The command line: its options, and which of them it gave.
pub struct CommandLine {
    pub args: Args,
    /// The options given, without the values clap fills in itself.
    given: ArgMatches,
}

impl CommandLine {
    /// The process's arguments; a usage error exits, as `Parser::parse` does.
    pub fn parse() -> CommandLine {
        CommandLine::from_matches(Args::command().get_matches()).unwrap_or_else(|e| e.exit())
    }

    /// `flagd` with `args`, for tests.
    #[cfg(test)]
    pub fn try_parse_from(args: &[&str]) -> clap::error::Result<CommandLine> {
        let argv = std::iter::once("flagd").chain(args.iter().copied());
        CommandLine::from_matches(Args::command().try_get_matches_from(argv)?)
    }

    fn from_matches(matches: ArgMatches) -> clap::error::Result<CommandLine> {
        let args = Args::from_arg_matches(&matches).map_err(|e| e.format(&mut Args::command()))?;
        Ok(CommandLine {
            args,
            given: given_only(matches),
        })
    }

    /// The config file (if any) under the command line, resolved.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let mut args = match &self.args.config {
            Some(path) => read_file(path)?,
            None => Args::default(),
        };
        // A source on the command line replaces the file's as a whole (its
        // `ref` and `git-path` aside), so that the two never combine into
        // something neither says.
        if self.given.contains_id("source") {
            (args.repo, args.git_url, args.bundle) = (None, None, None);
        }
        args.update_from_arg_matches(&self.given)?;
        Settings::from_args(args)
    }
}

/// `matches` without the values clap supplies for options left off (a
/// flag's `false`), which would otherwise hide the file's.
fn given_only(mut matches: ArgMatches) -> ArgMatches {
    let defaulted: Vec<String> = matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::DefaultValue))
        .map(|id| id.to_string())
        .collect();
    for id in defaulted {
        // Flags are the only options clap gives a default (`tests` checks).
        matches.remove_one::<bool>(&id);
    }
    matches
}

fn read_file(path: &Path) -> anyhow::Result<Args> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        // `file:line:col: message`, like every other file error of ours.
        let at = e.span().map_or(0, |span| span.start);
        let before = text.get(..at).unwrap_or(&text);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message())
    })
}
