//! Strategies, constraints and segments into our conditions, each as
//! `unleash-client` 6.12.2 decides it (`lib/strategy/*.js`).

use hotswap_flags_core::diagnostic::KeyPath;
use serde_json::{Value, json};

use super::{Res, Segments, bad, skip};

/// A condition, or one known to always or never hold (which the rules
/// leave out rather than spell).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Always,
    Never,
    When(Value),
}

impl Cond {
    pub(crate) fn all(items: Vec<Cond>) -> Cond {
        let mut out = Vec::new();
        for c in items {
            match c {
                Cond::Never => return Cond::Never,
                Cond::Always => {}
                Cond::When(v) => out.push(v),
            }
        }
        match out.len() {
            0 => Cond::Always,
            1 => Cond::When(out.remove(0)),
            _ => Cond::When(json!({ "all": out })),
        }
    }

    pub(crate) fn any(items: Vec<Cond>) -> Cond {
        let mut out = Vec::new();
        for c in items {
            match c {
                Cond::Always => return Cond::Always,
                Cond::Never => {}
                Cond::When(v) => out.push(v),
            }
        }
        match out.len() {
            0 => Cond::Never,
            1 => Cond::When(out.remove(0)),
            _ => Cond::When(json!({ "any": out })),
        }
    }

    pub(crate) fn not(self) -> Cond {
        match self {
            Cond::Always => Cond::Never,
            Cond::Never => Cond::Always,
            Cond::When(v) => Cond::When(json!({ "not": v })),
        }
    }
}

fn attr(field: &str, op: &str, operand: Value) -> Cond {
    let key = if operand.is_array() {
        "values"
    } else {
        "value"
    };
    Cond::When(json!({ "attr": field, "op": op, key: operand }))
}

/// Unleash's `cleanValues`: empty values dropped, the rest trimmed.
fn clean(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().to_owned())
        .collect()
}

/// A JavaScript `Number(text)` for the decimal forms; `None` for NaN.
fn js_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return Some(0.0);
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A parameter read as JavaScript's `Number(p)` reads it.
fn number_param(params: &Value, key: &str) -> Option<f64> {
    match params.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => js_number(s),
        _ => None,
    }
}

fn str_param<'a>(params: &'a Value, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str)
}

/// Unleash's `split(/\s*,\s*/)`.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',').map(|s| s.trim().to_owned()).collect()
}

/// One constraint.
pub(crate) fn constraint(c: &Value, path: &KeyPath) -> Res<Cond> {
    let Some(field) = c.get("contextName").and_then(Value::as_str) else {
        return bad(
            &path.key("contextName"),
            "a constraint needs a `contextName`",
        );
    };
    let Some(op) = c.get("operator").and_then(Value::as_str) else {
        return bad(&path.key("operator"), "a constraint needs an `operator`");
    };
    let values = match c.get("values") {
        Some(Value::Array(vs)) => clean(vs),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return bad(&path.key("values"), "`values` must be a list"),
    };
    let value = c.get("value").and_then(Value::as_str);
    let case_insensitive = c.get("caseInsensitive").and_then(Value::as_bool) == Some(true);
    let inverted = c.get("inverted").and_then(Value::as_bool) == Some(true);
    let cond = match op {
        "IN" | "NOT_IN" => {
            let is_in = if values.is_empty() {
                Cond::Never
            } else {
                attr(field, "in", json!(values))
            };
            if op == "IN" { is_in } else { is_in.not() }
        }
        "STR_STARTS_WITH" | "STR_ENDS_WITH" | "STR_CONTAINS" => {
            string_op(field, op, &values, case_insensitive)
        }
        "NUM_EQ" | "NUM_GT" | "NUM_GTE" | "NUM_LT" | "NUM_LTE" => {
            match value
                .and_then(js_number)
                .or_else(|| c.get("value").and_then(Value::as_f64))
            {
                None => Cond::Never,
                Some(n) => {
                    let ours = match op {
                        "NUM_EQ" => "eq",
                        "NUM_GT" => "gt",
                        "NUM_GTE" => "gte",
                        "NUM_LT" => "lt",
                        _ => "lte",
                    };
                    attr(field, ours, json!(n))
                }
            }
        }
        "DATE_AFTER" | "DATE_BEFORE" => date(op == "DATE_AFTER", value, &path.key("value"))?,
        "SEMVER_EQ" | "SEMVER_GT" | "SEMVER_GTE" | "SEMVER_LT" | "SEMVER_LTE" => {
            match value.filter(|v| hotswap_flags_core::eval::parse_version(v).is_some()) {
                // semver throws on an invalid operand: the constraint fails.
                None => Cond::Never,
                Some(v) => Cond::all(vec![
                    attr(field, &op.to_ascii_lowercase(), json!(v)),
                    // Unleash refuses a leading `v`, and semver an upper-case `V`.
                    attr(field, "matches", json!("^v|^\\s*V")).not(),
                ]),
            }
        }
        "REGEX" => {
            let Some(pattern) = value else {
                return bad(&path.key("value"), "a REGEX constraint needs a `value`");
            };
            let pattern = if case_insensitive {
                format!("(?i){pattern}")
            } else {
                pattern.to_owned()
            };
            // RE2 (unleash-client's re2js) and Rust's regex share their
            // syntax: a pattern neither compiles (look-around,
            // backreferences, a syntax error) fails the constraint.
            if regex::Regex::new(&pattern).is_err() {
                Cond::Never
            } else {
                attr(field, "matches", json!(pattern))
            }
        }
        "IN_CIDR" => {
            let nets: Vec<String> = values.into_iter().filter(|v| is_network(v)).collect();
            if nets.is_empty() {
                Cond::Never
            } else {
                attr(field, "in_cidr", json!(nets))
            }
        }
        // Every Unleash SDK fails a constraint whose operator it does not
        // know (a newer server's) rather than the whole document.
        _ => Cond::Never,
    };
    Ok(if inverted { cond.not() } else { cond })
}

fn is_network(v: &str) -> bool {
    v.parse::<ipnet::IpNet>().is_ok() || v.parse::<std::net::IpAddr>().is_ok()
}

fn string_op(field: &str, op: &str, values: &[String], case_insensitive: bool) -> Cond {
    if values.is_empty() {
        return Cond::Never;
    }
    if case_insensitive {
        let alternatives = values
            .iter()
            .map(|v| regex::escape(v))
            .collect::<Vec<_>>()
            .join("|");
        let pattern = match op {
            "STR_STARTS_WITH" => format!("(?i)^(?:{alternatives})"),
            "STR_ENDS_WITH" => format!("(?i)(?:{alternatives})$"),
            _ => format!("(?i)(?:{alternatives})"),
        };
        return attr(field, "matches", json!(pattern));
    }
    let ours = match op {
        "STR_STARTS_WITH" => "starts_with",
        "STR_ENDS_WITH" => "ends_with",
        _ => "contains",
    };
    attr(field, ours, json!(values))
}

/// DATE_AFTER / DATE_BEFORE compare `currentTime` (the context's, else
/// now) with the operand, whatever the constraint's `contextName`:
/// strictly after or strictly before, at JavaScript's millisecond
/// resolution (so "after t" is "at or after t + 1 ms").
fn date(after: bool, value: Option<&str>, path: &KeyPath) -> Res<Cond> {
    let Some(text) = value else {
        return Ok(Cond::Never);
    };
    let Ok(t) = text.trim().parse::<jiff::Timestamp>() else {
        return skip(
            path,
            format!(
                "`{text}` is not an RFC 3339 time; JavaScript's Date reads it in ways of its own"
            ),
        );
    };
    let (op, bound) = if after {
        ("after", t + jiff::SignedDuration::from_millis(1))
    } else {
        ("before", t)
    };
    let bound = bound.to_string();
    let window = if after {
        json!({ "time": { "after": bound } })
    } else {
        json!({ "time": { "before": bound } })
    };
    Ok(Cond::any(vec![
        attr("currentTime", op, json!(bound)),
        Cond::all(vec![
            attr("currentTime", "exists", Value::Null).not(),
            Cond::When(window),
        ]),
    ]))
}

/// What a strategy decides beyond its constraints.
pub(crate) fn strategy_test(
    name: &str,
    params: &Value,
    feature: &str,
    path: &KeyPath,
) -> Res<Cond> {
    let at = path.key("parameters");
    Ok(match name {
        "default" => Cond::Always,
        "userWithId" => match str_param(params, "userIds") {
            Some(ids) if !ids.is_empty() => attr("userId", "in", json!(comma_list(ids))),
            _ => Cond::Never,
        },
        "gradualRolloutUserId" | "gradualRolloutSessionId" => {
            let by = if name == "gradualRolloutUserId" {
                "userId"
            } else {
                "sessionId"
            };
            let group = str_param(params, "groupId").unwrap_or("");
            percentage(number_param(params, "percentage"), group, json!(by))
        }
        "gradualRolloutRandom" => random(number_param(params, "percentage"), 1.0, &at)?,
        "flexibleRollout" => {
            let group = match str_param(params, "groupId") {
                Some(g) if !g.is_empty() => g,
                _ => "",
            };
            let p = number_param(params, "rollout");
            match str_param(params, "stickiness").unwrap_or("default") {
                "default" | "" => match p {
                    // Without userId and sessionId Unleash draws a random
                    // number, inside at 100 % whatever it is.
                    Some(p) if p >= 100.0 => Cond::Always,
                    _ => percentage(p, group, json!(["userId", "sessionId"])),
                },
                "random" => random(p, 1.0, &at)?,
                field => percentage(p, group, json!(field)),
            }
        }
        "remoteAddress" => match str_param(params, "IPs") {
            None => Cond::Never,
            Some(ips) => {
                let ranges = comma_list(ips);
                let v4: Vec<&String> = ranges
                    .iter()
                    .filter(|r| {
                        r.parse::<ipnet::Ipv4Net>().is_ok()
                            || r.parse::<std::net::Ipv4Addr>().is_ok()
                    })
                    .collect();
                Cond::any(vec![
                    attr("remoteAddress", "in", json!(ranges)),
                    if v4.is_empty() {
                        Cond::Never
                    } else {
                        attr("remoteAddress", "in_cidr", json!(v4))
                    },
                ])
            }
        },
        "applicationHostname" => match str_param(params, "hostNames") {
            None => Cond::Never,
            Some(names) => attr("hostname", "in", json!(comma_list(&names.to_lowercase()))),
        },
        other => {
            let _ = feature;
            return skip(
                &path.key("name"),
                format!(
                    "custom strategy `{other}`: its code lives in the applications, not in the export"
                ),
            );
        }
    })
}

/// `percentage > 0 && normalized ≤ percentage` for a context with a key.
fn percentage(p: Option<f64>, group: &str, by: Value) -> Cond {
    match p {
        Some(p) if p > 0.0 => Cond::When(json!({
            "percentage": { "value": p.min(100.0), "salt": group, "bucketBy": by }
        })),
        _ => Cond::Never,
    }
}

/// A percentage of random draws in `min..=100`: exact only at the ends.
fn random(p: Option<f64>, min: f64, path: &KeyPath) -> Res<Cond> {
    match p {
        Some(p) if p >= 100.0 => Ok(Cond::Always),
        Some(p) if p < min => Ok(Cond::Never),
        None => Ok(Cond::Never),
        Some(p) => skip(
            path,
            format!(
                "a random rollout of {p} %: Unleash draws a new random number on every evaluation, which no deterministic evaluator can reproduce"
            ),
        ),
    }
}

/// The strategy's segments: their constraints, all of which must hold.
pub(crate) fn segments(strategy: &Value, path: &KeyPath, all: &Segments) -> Res<Cond> {
    let mut out = Vec::new();
    for (id, p) in super::array(strategy, "segments", path)? {
        let Some(id) = id.as_i64() else {
            return bad(&p, "a segment reference is a number");
        };
        match all.get(&id) {
            // A segment the client does not know fails the strategy.
            None => out.push(Cond::Never),
            Some((_, None)) => {
                return skip(
                    &p,
                    format!("segment {id}'s constraints are not in the input"),
                );
            }
            Some((_, Some((constraints, cpath)))) => {
                for (i, c) in constraints.iter().enumerate() {
                    out.push(constraint(c, &cpath.index(i))?);
                }
            }
        }
    }
    Ok(Cond::all(out))
}
