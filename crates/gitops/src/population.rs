//! The users `simulate` and `diff` evaluate: synthetic keys, or contexts
//! read from a JSON-lines file.
//!
//! Both commands answer "how many users …" by evaluating every user of one
//! population, so the population is defined once here and walked in
//! parallel by [`Population::fold`]. Synthetic contexts are built on the fly
//! inside each worker: a million users never sit in memory at once.

use std::borrow::Cow;
use std::io::BufRead;

use std::ops::Range;

use serde_json::Value;

use hotswap_flags_core::escape::Words;
use hotswap_flags_core::eval::Context;

/// The default number of synthetic users.
pub const DEFAULT_USERS: usize = 10_000;

/// Who gets evaluated.
#[derive(Debug, Clone)]
pub struct Population {
    users: usize,
    /// Contexts from a file (empty for a synthetic population).
    sample: Vec<Context>,
    source: Words,
}

/// Why a contexts file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PopulationError {
    /// The file could not be read.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why the file could not be read.
        error: std::io::Error,
    },
    /// A line is not a JSON object usable as a context.
    #[error("{path}:{line}: {message}")]
    BadLine {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file has no contexts.
    #[error("{0} holds no contexts (one JSON object per line)")]
    Empty(String),
    /// Zero users were asked for.
    #[error("the population needs at least one user")]
    NoUsers,
}

impl Population {
    /// `users` synthetic users with keys `user-0 … user-{users-1}` and no
    /// other attributes.
    pub fn synthetic(users: usize) -> Result<Self, PopulationError> {
        if users == 0 {
            return Err(PopulationError::NoUsers);
        }
        Ok(Population {
            users,
            sample: Vec::new(),
            source: Words::new().ours(format!("{users} synthetic users (targetingKey only)")),
        })
    }

    /// Contexts from JSON lines (one object per line; blank lines skipped).
    /// A line without `targetingKey`/`userId` gets the key `user-<i>`, `i`
    /// being its index among the contexts.
    ///
    /// `users` (default: one user per line) picks the first `users` lines,
    /// or, when larger than the file, repeats the lines in order; each
    /// repetition gets the synthetic key `user-<i>` in place of the file's,
    /// so users stay distinct while attributes follow the file's mix.
    pub fn from_jsonl(
        path: &str,
        mut reader: impl BufRead,
        users: Option<usize>,
    ) -> Result<Self, PopulationError> {
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|error| PopulationError::Io {
                path: path.to_owned(),
                error,
            })?;
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .collect();
        // Parsing dominates for large files: split it over the cores.
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 16);
        let chunk = lines.len().div_ceil(workers).max(1);
        let parse = |part: &[(usize, &str)]| -> Result<Vec<Context>, PopulationError> {
            part.iter()
                .map(|(n, line)| {
                    let bad = |message: String| PopulationError::BadLine {
                        path: path.to_owned(),
                        line: n + 1,
                        message,
                    };
                    let value: Value =
                        serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
                    Context::from_json_inline(value).map_err(|e| bad(e.to_string()))
                })
                .collect()
        };
        let parts: Vec<Result<Vec<Context>, PopulationError>> = std::thread::scope(|s| {
            let handles: Vec<_> = lines
                .chunks(chunk)
                .map(|part| s.spawn(move || parse(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| match h.join() {
                    Ok(r) => r,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        });
        let mut sample = Vec::with_capacity(lines.len());
        for part in parts {
            sample.extend(part?);
        }
        for (i, ctx) in sample.iter_mut().enumerate() {
            if ctx.targeting_key().is_none() {
                *ctx = std::mem::take(ctx).with_key(synthetic_key(i));
            }
        }
        if sample.is_empty() {
            return Err(PopulationError::Empty(path.to_owned()));
        }
        let lines = sample.len();
        let users = users.unwrap_or(lines);
        if users == 0 {
            return Err(PopulationError::NoUsers);
        }
        sample.truncate(users);
        let source = Words::new().ours(format!("{users} users from ")).bare(path);
        let source = if users > lines {
            source.ours(format!(" ({lines} contexts repeated)"))
        } else {
            source
        };
        Ok(Population {
            users,
            sample,
            source,
        })
    }

    /// Reads a contexts file from disk (see [`Population::from_jsonl`]).
    pub fn from_file(path: &str, users: Option<usize>) -> Result<Self, PopulationError> {
        let file = std::fs::File::open(path).map_err(|error| PopulationError::Io {
            path: path.to_owned(),
            error,
        })?;
        Population::from_jsonl(path, std::io::BufReader::new(file), users)
    }

    /// How many users.
    pub fn len(&self) -> usize {
        self.users
    }

    /// Never true: a population has at least one user.
    pub fn is_empty(&self) -> bool {
        self.users == 0
    }

    /// Where the users come from, in words.
    pub fn describe(&self) -> &Words {
        &self.source
    }

    /// True when users carry only a key (rules on attributes never match).
    pub fn is_synthetic(&self) -> bool {
        self.sample.is_empty()
    }

    /// User `i`'s context.
    pub fn context(&self, i: usize) -> Cow<'_, Context> {
        if self.sample.is_empty() {
            return Cow::Owned(Context::new().with_key(synthetic_key(i)));
        }
        match self.sample.get(i) {
            Some(ctx) => Cow::Borrowed(ctx),
            None => Cow::Owned(
                self.sample[i % self.sample.len()]
                    .clone()
                    .with_key(synthetic_key(i)),
            ),
        }
    }

    /// Folds every user into an accumulator, splitting the users into
    /// contiguous ranges over the machine's cores. `fold` sees each user's
    /// index and context; `merge` combines the workers' accumulators in
    /// index order, so results are deterministic.
    pub fn fold<A, I, F, M>(&self, init: I, fold: F, merge: M) -> A
    where
        A: Send,
        I: Fn(Range<usize>) -> A + Sync,
        F: Fn(&mut A, usize, &Context) + Sync,
        M: Fn(A, A) -> A,
    {
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, 64);
        // Small populations are not worth a thread.
        let workers = if self.users < 20_000 { 1 } else { workers };
        let chunk = self.users.div_ceil(workers);
        let ranges: Vec<Range<usize>> = (0..workers)
            .map(|w| (w * chunk).min(self.users)..((w + 1) * chunk).min(self.users))
            .filter(|r| !r.is_empty())
            .collect();
        let run = |range: Range<usize>| {
            let mut acc = init(range.clone());
            for i in range {
                fold(&mut acc, i, &self.context(i));
            }
            acc
        };
        let mut parts: Vec<A> = if ranges.len() <= 1 {
            ranges.into_iter().map(run).collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = ranges
                    .into_iter()
                    .map(|r| {
                        let run = &run;
                        s.spawn(move || run(r))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| match h.join() {
                        Ok(acc) => acc,
                        Err(panic) => std::panic::resume_unwind(panic),
                    })
                    .collect()
            })
        };
        let first = if parts.is_empty() {
            init(0..0)
        } else {
            parts.remove(0)
        };
        parts.into_iter().fold(first, merge)
    }
}

/// The key of synthetic user `i`.
pub fn synthetic_key(i: usize) -> String {
    format!("user-{i}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_users_have_deterministic_keys() {
        let p = Population::synthetic(3).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p.context(2).targeting_key(), Some(&"user-2".into()));
        assert!(Population::synthetic(0).is_err());
    }

    #[test]
    fn jsonl_lines_keys_and_repetition() {
        let text = "{\"country\": \"DE\"}\n\n{\"targetingKey\": \"k\", \"country\": \"FR\"}\n";
        let p = Population::from_jsonl("f", text.as_bytes(), None).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.context(0).targeting_key(), Some(&"user-0".into()));
        assert_eq!(p.context(1).targeting_key(), Some(&"k".into()));

        let p = Population::from_jsonl("f", text.as_bytes(), Some(5)).unwrap();
        assert_eq!(p.len(), 5);
        let c3 = p.context(3);
        assert_eq!(c3.targeting_key(), Some(&"user-3".into()));
        assert_eq!(c3.get("country"), Some(&"FR".into()));

        let p = Population::from_jsonl("f", text.as_bytes(), Some(1)).unwrap();
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn bad_lines_are_located() {
        let err = Population::from_jsonl("ctx.jsonl", "{}\n[1]\n".as_bytes(), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ctx.jsonl:2: the context must be a JSON object, not an array"
        );
        assert!(matches!(
            Population::from_jsonl("e", "\n".as_bytes(), None),
            Err(PopulationError::Empty(_))
        ));
    }

    #[test]
    fn fold_visits_every_user_once_in_order() {
        let p = Population::synthetic(50_001).unwrap();
        let seen = p.fold(
            |_| Vec::new(),
            |acc: &mut Vec<usize>, i, _| acc.push(i),
            |mut a, b| {
                a.extend(b);
                a
            },
        );
        assert_eq!(seen, (0..50_001).collect::<Vec<_>>());
    }
}
