//! An experiment's data: per variant exposures and what was observed,
//! read from the data file of `docs/experiments.md` (every shape error
//! located at `file:line:col`) or assembled by a caller.

use indexmap::IndexMap;
use serde::Deserialize;

use hotswap_flags_core::diagnostic::{Diagnostic, KeyPath};
use hotswap_flags_core::parse::{Format, Node, from_node, parse_document};

use crate::StatsError;

/// What was observed of one variant besides its exposures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observed {
    /// Units that converted.
    Conversions(f64),
    /// `Σx` and `Σx²` of the metric over the exposed units.
    Sums {
        /// `Σx`.
        sum: f64,
        /// `Σx²`.
        sum_squares: f64,
    },
}

/// One variant's cumulative counts.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantData {
    /// The variant's name.
    pub name: String,
    /// Units exposed to it.
    pub exposures: f64,
    /// Their outcome.
    pub observed: Observed,
}

/// All variants' counts at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VariantCounts {
    /// A label for messages (e.g. a date); not used in computations.
    pub at: Option<String>,
    /// The variants, in the order given.
    pub variants: Vec<VariantData>,
}

/// An experiment's data: the latest counts and, optionally, earlier ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExperimentData {
    /// The control named by the data, if any.
    pub control: Option<String>,
    /// The latest cumulative counts.
    pub current: VariantCounts,
    /// Earlier cumulative counts, oldest first.
    pub history: Vec<VariantCounts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    control: Option<String>,
    variants: IndexMap<String, RawVariant>,
    #[serde(default)]
    history: Vec<RawVariantCounts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariantCounts {
    #[serde(default)]
    at: Option<String>,
    variants: IndexMap<String, RawVariant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawVariant {
    #[serde(default, deserialize_with = "number")]
    exposures: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    conversions: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    sum: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    sum_squares: Option<f64>,
}

/// A count or sum: any JSON number ("expected a number", not serde's "f64").
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct Number;
    impl serde::de::Visitor<'_> for Number {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number")
        }
        fn visit_f64<E>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
    }
    d.deserialize_f64(Number).map(Some)
}

/// The snapshot under `path` (`variants`, `history[0].variants`) of the
/// data file `doc`; shape errors are located at the variant.
fn snapshot(
    doc: &Node,
    path: &KeyPath,
    at: Option<String>,
    raw: IndexMap<String, RawVariant>,
) -> Result<VariantCounts, StatsError> {
    let mut variants = Vec::with_capacity(raw.len());
    for (name, v) in raw {
        let here = path.key(name.as_str());
        let error = |message: String| {
            StatsError::File(
                Diagnostic::error(here.clone(), message).at(doc.report_position(&here)),
            )
        };
        let missing = |field: &str| error(format!("variant `{name}` has no `{field}`"));
        let exposures = v.exposures.ok_or_else(|| missing("exposures"))?;
        let observed = match (v.conversions, v.sum, v.sum_squares) {
            (Some(c), None, None) => Observed::Conversions(c),
            (None, Some(sum), Some(sum_squares)) => Observed::Sums { sum, sum_squares },
            (None, Some(_), None) => return Err(missing("sumSquares")),
            (None, None, Some(_)) => return Err(missing("sum")),
            (None, None, None) => {
                return Err(error(format!(
                    "variant `{name}` needs `conversions` (a conversion metric) or `sum` and `sumSquares` (a continuous metric)"
                )));
            }
            (Some(_), _, _) => {
                return Err(error(format!(
                    "variant `{name}` has both `conversions` and `sum`/`sumSquares`: give one metric"
                )));
            }
        };
        variants.push(VariantData {
            name,
            exposures,
            observed,
        });
    }
    Ok(VariantCounts { at, variants })
}

impl ExperimentData {
    /// Reads the JSON data file format (see `docs/experiments.md`). Only
    /// the shape is checked here; [`analyze`](super::analyze) checks the numbers. The file
    /// is read like a flag file (strict JSON, duplicate keys refused), so a
    /// shape error says where: line, column and key path
    /// ([`StatsError::File`]).
    pub fn from_json(text: &str) -> Result<Self, StatsError> {
        let doc = parse_document(text, Format::Json)
            .map_err(|e| StatsError::File(e.into_diagnostic()))?;
        let raw: RawFile =
            from_node(&doc).map_err(|e| StatsError::File(e.into_diagnostic(&KeyPath::root())))?;
        let mut history = Vec::with_capacity(raw.history.len());
        for (i, h) in raw.history.into_iter().enumerate() {
            let path = KeyPath::root().key("history").index(i).key("variants");
            history.push(snapshot(&doc, &path, h.at, h.variants)?);
        }
        Ok(ExperimentData {
            control: raw.control,
            current: snapshot(&doc, &KeyPath::root().key("variants"), None, raw.variants)?,
            history,
        })
    }
}
