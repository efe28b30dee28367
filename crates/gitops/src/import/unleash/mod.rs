//! Unleash features into our flags: the input documents here, strategies
//! and constraints in `strategy`, a feature's variants and rules in
//! `feature`.
//!
//! Three inputs are read, each normalized into the client API's shape
//! first: a client-API features document (`/api/client/features`:
//! `features` with their `strategies`, `segments`), an export
//! (`features-batch/export`: `features`, `featureStrategies`,
//! `featureEnvironments`, `segments`, `dependencies`) and the delta API's
//! events (`events`: `hydration`, `feature-updated`, …).
//!
//! The semantics followed are those of `unleash-client` 6.12.2 (Node),
//! which `tests/testsuite/import_unleash.rs` runs Unleash's client
//! specification and a differential test against (docs/migrating.md,
//! "From Unleash").

mod feature;
mod strategy;

use hotswap_flags_core::diagnostic::{KeyPath, Pos};
use hotswap_flags_core::parse::{Format, parse_document};
use indexmap::IndexMap;
use serde_json::Value;

pub use super::InputError;
use super::{LeftOut, Pointer, Translation, Untranslatable};

/// A problem found while translating: bad input (nothing is written), or
/// a construct without an exact translation (its flag is left out).
#[derive(Debug)]
pub(crate) enum Problem {
    /// Not valid Unleash input, at this path of the document.
    Bad(KeyPath, String),
    /// Valid, but not expressible exactly.
    Skip(KeyPath, String),
}

pub(crate) type Res<T> = Result<T, Problem>;

pub(crate) fn bad<T>(path: &KeyPath, message: impl Into<String>) -> Res<T> {
    Err(Problem::Bad(path.clone(), message.into()))
}

pub(crate) fn skip<T>(path: &KeyPath, message: impl Into<String>) -> Res<T> {
    Err(Problem::Skip(path.clone(), message.into()))
}

/// A feature in the client API's shape, with the paths of its parts in
/// the input.
pub(crate) struct Feature {
    pub name: String,
    pub path: KeyPath,
    pub enabled: bool,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub strategies: Vec<(Value, KeyPath)>,
    pub variants: Vec<(Value, KeyPath)>,
    pub dependencies: Vec<(Value, KeyPath)>,
}

/// Segments by id: their constraints (with their path), or `None` when
/// the input names a segment without giving its constraints.
pub(crate) type Segments = IndexMap<i64, (String, Option<(Vec<Value>, KeyPath)>)>;

/// Translates one Unleash document named `source`.
pub fn translate(source: &str, text: &str) -> Result<Translation, InputError> {
    let fail = |pos: Pos, message: String| InputError {
        source_name: source.to_owned(),
        pos,
        message,
    };
    let doc = parse_document(text, Format::Json).map_err(|e| fail(e.pos, e.message))?;
    let json = doc.to_json();
    let mut out = Translation::empty(source, "unleash");
    let located = |path: &KeyPath| doc.report_position(path);
    let (features, segments) = match normalize(&json) {
        Ok(x) => x,
        Err(Problem::Bad(path, msg) | Problem::Skip(path, msg)) => {
            return Err(fail(located(&path), msg));
        }
    };
    match feature::translate_all(&features, &segments, source, &mut out) {
        Ok(()) => Ok(out),
        Err(Problem::Bad(path, msg) | Problem::Skip(path, msg)) => Err(fail(located(&path), msg)),
    }
}

/// The JSON pointer of a key path, for the report.
pub(crate) fn pointer(path: &KeyPath) -> Pointer {
    let mut p = Pointer::root();
    for seg in &path.0 {
        p = match seg {
            hotswap_flags_core::diagnostic::PathSeg::Key(k) => p.push(k),
            hotswap_flags_core::diagnostic::PathSeg::Index(i) => p.push(i),
        };
    }
    p
}

pub(crate) fn untranslatable(
    source: &str,
    flag: &str,
    path: &KeyPath,
    reason: String,
) -> Untranslatable {
    Untranslatable {
        source: source.to_owned(),
        flag: Some(flag.to_owned()),
        pointer: pointer(path).as_str().to_owned(),
        reason,
        left_out: LeftOut::Flag,
    }
}

/// Which document this is, by its keys, and its features and segments.
fn normalize(doc: &Value) -> Res<(Vec<Feature>, Segments)> {
    let root = KeyPath::root();
    let Some(obj) = doc.as_object() else {
        return bad(&root, "an Unleash document is a JSON object");
    };
    if obj.contains_key("featureStrategies") {
        export(doc)
    } else if obj.contains_key("events") {
        events(doc)
    } else if obj.contains_key("features") {
        client_features(doc, &root)
    } else {
        bad(
            &root,
            "not an Unleash document: expected `features` (client API), `featureStrategies` (an export) or `events` (the delta API)",
        )
    }
}

pub(crate) fn array<'a>(v: &'a Value, key: &str, path: &KeyPath) -> Res<Vec<(&'a Value, KeyPath)>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, item)| (item, path.key(key).index(i)))
            .collect()),
        Some(_) => bad(&path.key(key), format!("`{key}` must be a list")),
    }
}

pub(crate) fn string(v: &Value, key: &str, path: &KeyPath) -> Res<String> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => bad(&path.key(key), format!("`{key}` must be a string")),
    }
}

fn segment_list(doc: &Value, path: &KeyPath, segments: &mut Segments) -> Res<()> {
    for (seg, p) in array(doc, "segments", path)? {
        let Some(id) = seg.get("id").and_then(Value::as_i64) else {
            return bad(&p.key("id"), "a segment needs a numeric `id`");
        };
        let name = seg
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("segment-{id}"), str::to_owned);
        let constraints = match seg.get("constraints") {
            Some(Value::Array(cs)) => Some((cs.clone(), p.key("constraints"))),
            None | Some(Value::Null) => None,
            Some(_) => return bad(&p.key("constraints"), "`constraints` must be a list"),
        };
        segments.insert(id, (name, constraints));
    }
    Ok(())
}

fn feature_of(f: &Value, p: &KeyPath) -> Res<Feature> {
    if !f.is_object() {
        return bad(p, "a feature is a JSON object");
    }
    let name = string(f, "name", p)?;
    let enabled = match f.get("enabled") {
        Some(Value::Bool(b)) => *b,
        None => true,
        Some(_) => return bad(&p.key("enabled"), "`enabled` must be true or false"),
    };
    let owned =
        |items: Vec<(&Value, KeyPath)>| items.into_iter().map(|(v, p)| (v.clone(), p)).collect();
    Ok(Feature {
        enabled,
        description: f
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        kind: f.get("type").and_then(Value::as_str).map(str::to_owned),
        strategies: owned(array(f, "strategies", p)?),
        variants: owned(array(f, "variants", p)?),
        dependencies: owned(array(f, "dependencies", p)?),
        name,
        path: p.clone(),
    })
}

/// `/api/client/features`: `{version, features, segments?}`.
fn client_features(doc: &Value, root: &KeyPath) -> Res<(Vec<Feature>, Segments)> {
    let mut segments = Segments::new();
    segment_list(doc, root, &mut segments)?;
    let features = array(doc, "features", root)?
        .into_iter()
        .map(|(f, p)| feature_of(f, &p))
        .collect::<Res<_>>()?;
    Ok((features, segments))
}

/// The delta API's events, applied in order.
fn events(doc: &Value) -> Res<(Vec<Feature>, Segments)> {
    let root = KeyPath::root();
    let mut features: IndexMap<String, Feature> = IndexMap::new();
    let mut segments = Segments::new();
    for (event, p) in array(doc, "events", &root)? {
        match event.get("type").and_then(Value::as_str) {
            Some("hydration") => {
                features.clear();
                segments.clear();
                segment_list(event, &p, &mut segments)?;
                for (f, fp) in array(event, "features", &p)? {
                    let f = feature_of(f, &fp)?;
                    features.insert(f.name.clone(), f);
                }
            }
            Some("feature-updated") => {
                let Some(f) = event.get("feature") else {
                    return bad(&p, "a `feature-updated` event needs a `feature`");
                };
                let f = feature_of(f, &p.key("feature"))?;
                features.insert(f.name.clone(), f);
            }
            Some("feature-removed") => {
                let name = string(event, "featureName", &p)?;
                features.shift_remove(&name);
            }
            Some("segment-updated") => {
                let Some(s) = event.get("segment") else {
                    return bad(&p, "a `segment-updated` event needs a `segment`");
                };
                let wrapped = serde_json::json!({ "segments": [s] });
                let mut one = Segments::new();
                segment_list(&wrapped, &p, &mut one)?;
                // Paths into the wrapper are not the input's: point at the event.
                for (id, (name, cs)) in one {
                    let cs = cs.map(|(c, _)| (c, p.key("segment").key("constraints")));
                    segments.insert(id, (name, cs));
                }
            }
            Some("segment-removed") => {
                if let Some(id) = event.get("segmentId").and_then(Value::as_i64) {
                    segments.shift_remove(&id);
                }
            }
            other => {
                return bad(
                    &p.key("type"),
                    format!(
                        "unknown delta event type {}",
                        other.map_or("(none)".into(), |t| format!("`{t}`"))
                    ),
                );
            }
        }
    }
    Ok((features.into_values().collect(), segments))
}

/// `features-batch/export`: the features, their strategies and
/// environment (one, the exported one), segments and dependencies, each
/// in a list of its own.
fn export(doc: &Value) -> Res<(Vec<Feature>, Segments)> {
    let root = KeyPath::root();
    let mut segments = Segments::new();
    segment_list(doc, &root, &mut segments)?;
    let mut features: IndexMap<String, Feature> = IndexMap::new();
    for (f, p) in array(doc, "features", &root)? {
        let mut feature = feature_of(f, &p)?;
        // An export's features carry their strategies elsewhere.
        feature.strategies.clear();
        feature.variants.clear();
        feature.enabled = false;
        features.insert(feature.name.clone(), feature);
    }
    let mut strategies: Vec<(f64, usize, String, Value, KeyPath)> = Vec::new();
    for (i, (s, p)) in array(doc, "featureStrategies", &root)?
        .into_iter()
        .enumerate()
    {
        let name = string(s, "featureName", &p)?;
        if s.get("disabled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let order = s.get("sortOrder").and_then(Value::as_f64).unwrap_or(0.0);
        strategies.push((order, i, name, s.clone(), p));
    }
    strategies.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, _, name, s, p) in strategies {
        match features.get_mut(&name) {
            Some(f) => f.strategies.push((s, p)),
            None => {
                return bad(
                    &p.key("featureName"),
                    format!("no feature `{name}` in `features`"),
                );
            }
        }
    }
    for (e, p) in array(doc, "featureEnvironments", &root)? {
        let name = string(e, "featureName", &p)?;
        let Some(f) = features.get_mut(&name) else {
            return bad(
                &p.key("featureName"),
                format!("no feature `{name}` in `features`"),
            );
        };
        f.enabled = e.get("enabled").and_then(Value::as_bool).unwrap_or(false);
        f.variants = array(e, "variants", &p)?
            .into_iter()
            .map(|(v, p)| (v.clone(), p))
            .collect();
    }
    for (d, p) in array(doc, "dependencies", &root)? {
        let name = string(d, "feature", &p)?;
        let Some(f) = features.get_mut(&name) else {
            return bad(
                &p.key("feature"),
                format!("no feature `{name}` in `features`"),
            );
        };
        f.dependencies = array(d, "dependencies", &p)?
            .into_iter()
            .map(|(v, p)| (v.clone(), p))
            .collect();
    }
    Ok((features.into_values().collect(), segments))
}
