//! A feature into one flag whose answer reads back as both of Unleash's:
//! its value is what `getVariant` returns (`name`, `enabled`,
//! `feature_enabled`, `payload`), and `isEnabled` is its `feature_enabled`
//! (docs/migrating.md, "From Unleash").

use hotswap_flags_core::compile::check_key;
use hotswap_flags_core::diagnostic::KeyPath;
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::strategy::{self, Cond};
use super::{Feature, Problem, Res, Segments, bad, skip, untranslatable};
use crate::import::Translation;

/// The variant served when the feature is off.
const DISABLED: &str = "disabled";
/// The variant served when it is on without a variant of its own.
const ENABLED: &str = "enabled";

/// Every feature; the flags of those that translate, the others reported.
pub(crate) fn translate_all(
    features: &[Feature],
    segments: &Segments,
    source: &str,
    out: &mut Translation,
) -> Res<()> {
    let by_name: IndexMap<&str, &Feature> = features.iter().map(|f| (f.name.as_str(), f)).collect();
    for f in features {
        match flag(f, &by_name, segments) {
            Ok(flag) => {
                out.flags.insert(f.name.clone(), flag);
            }
            Err(Problem::Skip(path, reason)) => {
                out.untranslatable
                    .push(untranslatable(source, &f.name, &path, reason));
            }
            Err(bad) => return Err(bad),
        }
    }
    // A child whose parent was left out cannot be evaluated either.
    loop {
        let missing: Vec<(String, KeyPath, String)> = features
            .iter()
            .filter(|f| out.flags.contains_key(&f.name))
            .flat_map(|f| {
                f.dependencies.iter().filter_map(|(d, p)| {
                    let parent = d.get("feature")?.as_str()?;
                    (by_name.contains_key(parent) && !out.flags.contains_key(parent))
                        .then(|| (f.name.clone(), p.clone(), parent.to_owned()))
                })
            })
            .collect();
        if missing.is_empty() {
            break;
        }
        for (child, path, parent) in missing {
            if out.flags.shift_remove(&child).is_some() {
                out.untranslatable.push(untranslatable(
                    source,
                    &child,
                    &path,
                    format!("it depends on `{parent}`, which was left out"),
                ));
            }
        }
    }
    Ok(())
}

/// The variants a feature may serve, by our name: their value is
/// `getVariant`'s answer.
struct Variants {
    values: IndexMap<String, Value>,
}

impl Variants {
    fn new() -> Self {
        let mut values = IndexMap::new();
        values.insert(
            DISABLED.to_owned(),
            json!({ "name": "disabled", "enabled": false, "feature_enabled": false }),
        );
        // Always there, so that a dependent feature may name it.
        values.insert(
            ENABLED.to_owned(),
            json!({ "name": "disabled", "enabled": false, "feature_enabled": true }),
        );
        Variants { values }
    }

    fn enabled(&mut self) -> String {
        self.values.entry(ENABLED.to_owned()).or_insert_with(
            || json!({ "name": "disabled", "enabled": false, "feature_enabled": true }),
        );
        ENABLED.to_owned()
    }

    /// An Unleash variant; the same name twice must carry the same payload.
    fn add(&mut self, v: &Value, path: &KeyPath) -> Res<String> {
        let Some(name) = v.get("name").and_then(Value::as_str) else {
            return bad(&path.key("name"), "a variant needs a `name`");
        };
        if name == DISABLED || name == ENABLED {
            return skip(
                &path.key("name"),
                format!(
                    "a variant named `{name}`: the name stands for the feature's own state here"
                ),
            );
        }
        let mut value = Map::new();
        value.insert("name".into(), json!(name));
        value.insert("enabled".into(), json!(true));
        value.insert("feature_enabled".into(), json!(true));
        if let Some(payload) = v.get("payload").filter(|p| !p.is_null()) {
            value.insert("payload".into(), payload.clone());
        }
        let value = Value::Object(value);
        match self.values.get(name) {
            Some(existing) if *existing != value => skip(
                &path.key("payload"),
                format!("variant `{name}` appears twice with different payloads"),
            ),
            _ => {
                self.values.insert(name.to_owned(), value);
                Ok(name.to_owned())
            }
        }
    }
}

/// What a block of rules serves: Unleash's weighted selection over some
/// variants (overrides first), or `enabled` when it selects none.
fn selection(
    variants: &[(Value, KeyPath)],
    salt: &str,
    stickiness: Option<&str>,
    names: &mut Variants,
) -> Res<(Vec<(String, Cond)>, Value)> {
    let mut split = Map::new();
    let mut overrides = Vec::new();
    let mut total: u64 = 0;
    for (v, p) in variants {
        let name = names.add(v, p)?;
        let weight = match v.get("weight") {
            Some(w) if w.as_u64().is_some() => w.as_u64().unwrap_or(0),
            None => 0,
            Some(_) => {
                return bad(
                    &p.key("weight"),
                    "a variant's `weight` is a whole number ≥ 0",
                );
            }
        };
        total += weight;
        if weight > 0 {
            let prior = split.get(&name).and_then(Value::as_u64).unwrap_or(0);
            split.insert(name.clone(), json!(prior + weight));
        }
        let mut any = Vec::new();
        for (o, op) in super::array(v, "overrides", p)? {
            let field = super::string(o, "contextName", &op)?;
            let values: Vec<&str> = super::array(o, "values", &op)?
                .into_iter()
                .filter_map(|(v, _)| v.as_str())
                .collect();
            if !values.is_empty() {
                any.push(Cond::When(
                    json!({ "attr": field, "op": "in", "values": values }),
                ));
            }
        }
        let any = Cond::any(any);
        if any != Cond::Never {
            overrides.push((name, any));
        }
    }
    if total == 0 {
        // Unleash selects nothing: the feature is on without a variant.
        return Ok((Vec::new(), json!(names.enabled())));
    }
    let by: Value = match stickiness.unwrap_or("default") {
        "default" | "" => json!(["userId", "sessionId", "remoteAddress"]),
        field => json!(field),
    };
    let serve = if split.len() == 1 {
        json!(split.keys().next().cloned().unwrap_or_default())
    } else {
        json!({ "split": split, "salt": salt, "bucketBy": by })
    };
    Ok((overrides, serve))
}

/// A strategy's rules: their name, the strategy's condition, the strategy
/// (none for a feature without strategies, on for everyone).
type Block<'a> = (String, Cond, Option<&'a (Value, KeyPath)>);

fn rule(name: String, when: Value, serve: Value) -> Value {
    json!({ "name": name, "when": when, "serve": serve })
}

/// One feature as our flag.
fn flag(f: &Feature, features: &IndexMap<&str, &Feature>, segments: &Segments) -> Res<Value> {
    if let Err(msg) = check_key("flag key", &f.name) {
        return skip(&f.path.key("name"), msg);
    }
    let mut names = Variants::new();
    let mut rules: Vec<Value> = Vec::new();
    if let Some(deps) = dependencies(f, features)? {
        rules.push(rule("dependencies".into(), deps, json!(DISABLED)));
    }
    // Blocks: a strategy's condition and what it serves, in order.
    let mut default = json!(DISABLED);
    let strategies: Vec<&(Value, KeyPath)> = f.strategies.iter().collect();
    let mut blocks: Vec<Block<'_>> = Vec::new();
    if strategies.is_empty() {
        blocks.push(("enabled".into(), Cond::Always, None));
    }
    for (i, entry) in strategies.iter().enumerate() {
        let (s, p) = entry;
        let name = super::string(s, "name", p)?;
        let params = s.get("parameters").cloned().unwrap_or(Value::Null);
        let mut parts = Vec::new();
        for (c, cp) in super::array(s, "constraints", p)? {
            parts.push(strategy::constraint(c, &cp)?);
        }
        parts.push(strategy::segments(s, p, segments)?);
        parts.push(strategy::strategy_test(&name, &params, &f.name, p)?);
        let cond = Cond::all(parts);
        if cond == Cond::Never {
            continue;
        }
        let title = s
            .get("title")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .map_or_else(
                || format!("{name}-{}", i + 1),
                |t| format!("{t} ({})", i + 1),
            );
        let always = cond == Cond::Always;
        blocks.push((title, cond, Some(entry)));
        if always {
            break;
        }
    }
    for (title, cond, strategy) in blocks {
        let own = strategy.and_then(|(s, p)| {
            let vs = super::array(s, "variants", p).ok()?;
            let total: u64 = vs
                .iter()
                .filter_map(|(v, _)| v.get("weight")?.as_u64())
                .sum();
            (!vs.is_empty() && total > 0).then_some((s, p, vs))
        });
        let (overrides, serve) = match own {
            Some((s, _, vs)) => {
                let params = s.get("parameters").cloned().unwrap_or(Value::Null);
                let vs: Vec<(Value, KeyPath)> =
                    vs.into_iter().map(|(v, p)| (v.clone(), p)).collect();
                let stickiness = vs[0]
                    .0
                    .get("stickiness")
                    .and_then(Value::as_str)
                    .or_else(|| str_of(&params, "stickiness"));
                // unleash-client hashes `${groupId}:…`: "undefined" without one.
                let salt = str_of(&params, "groupId").unwrap_or("undefined").to_owned();
                selection(&vs, &salt, stickiness, &mut names)?
            }
            None => {
                let stickiness = f
                    .variants
                    .first()
                    .and_then(|(v, _)| v.get("stickiness"))
                    .and_then(Value::as_str);
                selection(&f.variants, &f.name, stickiness, &mut names)?
            }
        };
        for (variant, when) in overrides {
            if let Cond::When(w) = Cond::all(vec![cond.clone(), when]) {
                rules.push(rule(
                    format!("{title}: override {variant}"),
                    w,
                    json!(variant),
                ));
            }
        }
        match cond {
            // Only the last block may always hold: later ones are cut.
            Cond::Always => default = serve,
            Cond::When(w) => rules.push(rule(title, w, serve)),
            Cond::Never => {}
        }
    }
    // Rule names are unique within a flag.
    let mut seen = std::collections::HashSet::new();
    for r in &mut rules {
        let base = r["name"].as_str().unwrap_or("rule").to_owned();
        let mut name = base.clone();
        let mut k = 2;
        while !seen.insert(name.clone()) {
            name = format!("{base} #{k}");
            k += 1;
        }
        r["name"] = json!(name);
    }
    let mut out = Map::new();
    out.insert(
        "description".into(),
        json!(
            f.description
                .clone()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| format!("Unleash feature `{}`", f.name))
        ),
    );
    out.insert("type".into(), json!("object"));
    out.insert("bucketing".into(), json!("unleash"));
    if let Some(kind) = f.kind.as_deref().filter(|k| {
        matches!(
            *k,
            "release" | "experiment" | "operational" | "permission" | "kill-switch"
        )
    }) {
        out.insert("kind".into(), json!(kind));
    }
    out.insert(
        "variants".into(),
        Value::Object(names.values.into_iter().collect()),
    );
    if !f.enabled {
        out.insert("enabled".into(), json!(false));
    }
    out.insert("offVariant".into(), json!(DISABLED));
    out.insert("default".into(), default);
    if !rules.is_empty() {
        out.insert("rules".into(), Value::Array(rules));
    }
    Ok(Value::Object(out))
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The condition under which a dependency is *not* satisfied (served
/// `disabled`), or `None` without dependencies.
fn dependencies(f: &Feature, features: &IndexMap<&str, &Feature>) -> Res<Option<Value>> {
    if f.dependencies.is_empty() {
        return Ok(None);
    }
    let mut holds = Vec::new();
    for (d, p) in &f.dependencies {
        let parent = super::string(d, "feature", p)?;
        let Some(pf) = features.get(parent.as_str()) else {
            // Unleash: a missing parent fails the dependency.
            holds.push(Cond::Never);
            continue;
        };
        if !pf.dependencies.is_empty() {
            // Unleash evaluates one level of dependencies only.
            holds.push(Cond::Never);
            continue;
        }
        let enabled = d.get("enabled").and_then(Value::as_bool) != Some(false);
        let wanted: Vec<String> = super::array(d, "variants", p)?
            .into_iter()
            .filter_map(|(v, _)| v.as_str().map(str::to_owned))
            .collect();
        let on_parent = |variants: Vec<String>| {
            Cond::When(json!({ "flag": { "key": parent, "variants": variants } }))
        };
        holds.push(if !enabled {
            on_parent(vec![DISABLED.into()])
        } else if wanted.is_empty() {
            on_parent(vec![DISABLED.into()]).not()
        } else {
            // `featureEnabled && variants.includes(name)`: an enabled parent
            // without a variant answers the name `disabled`, our `enabled`.
            let known: Vec<String> = wanted
                .into_iter()
                .filter_map(|w| {
                    if w == DISABLED {
                        Some(ENABLED.to_owned())
                    } else {
                        (w != ENABLED && parent_has_variant(pf, &w)).then_some(w)
                    }
                })
                .collect();
            if known.is_empty() {
                Cond::Never
            } else {
                on_parent(known)
            }
        });
    }
    Ok(match Cond::all(holds).not() {
        Cond::Never => None,
        Cond::Always => Some(always_json()),
        Cond::When(v) => Some(v),
    })
}

/// A condition that always holds: `not` of a percentage of 0, which holds
/// for nobody.
fn always_json() -> Value {
    json!({ "not": { "percentage": { "value": 0 } } })
}

fn parent_has_variant(parent: &Feature, name: &str) -> bool {
    let named = |vs: &[(Value, KeyPath)]| {
        vs.iter()
            .any(|(v, _)| v.get("name").and_then(Value::as_str) == Some(name))
    };
    named(&parent.variants)
        || parent.strategies.iter().any(|(s, _)| {
            s.get("variants")
                .and_then(Value::as_array)
                .is_some_and(|vs| {
                    vs.iter()
                        .any(|v| v.get("name").and_then(Value::as_str) == Some(name))
                })
        })
}
