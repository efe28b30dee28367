//! Conditions: operand checks per operator, lowered to [`Cond`] (a flat
//! list of tests, `ruleset::cond`).

use jiff::Timestamp;
use serde_json::Value;

use super::{Compiler, time};
use crate::diagnostic::KeyPath;
use crate::model::{AttrCondition, Condition, Op, Operands, TimeWindow};
use crate::ruleset::{AttrTest, Cond, NumOp, Scalar, StrSet, TimeRange};
use crate::version::parse_version;

impl Compiler<'_> {
    /// Lowers a condition; `None` after reporting what is wrong.
    pub(super) fn condition(&mut self, cond: &Condition, path: &KeyPath) -> Option<Cond> {
        match cond {
            Condition::Attr(a) => self.attr_condition(a, path),
            Condition::Segment(name) => self
                .segment_ref(name, path.key("segment"))
                .map(Cond::segment),
            Condition::All(items) => self
                .condition_list(items, &path.key("all"), "all")
                .map(Cond::all),
            Condition::Any(items) => self
                .condition_list(items, &path.key("any"), "any")
                .map(Cond::any),
            Condition::Not(inner) => self.condition(inner, &path.key("not")).map(Cond::not),
            Condition::Time(window) => self.time_window(window, &path.key("time")).map(Cond::time),
            Condition::Percentage(p) => self.percentage(p, &path.key("percentage")),
            Condition::Flag(f) => self.flag_condition(f, &path.key("flag")),
        }
    }

    fn condition_list(
        &mut self,
        items: &[Condition],
        path: &KeyPath,
        what: &str,
    ) -> Option<Vec<Cond>> {
        if items.is_empty() {
            self.error(
                path.clone(),
                format!("`{what}` needs at least one condition"),
            );
            return None;
        }
        let lowered: Vec<Option<Cond>> = items
            .iter()
            .enumerate()
            .map(|(i, c)| self.condition(c, &path.index(i)))
            .collect();
        lowered.into_iter().collect()
    }

    fn time_window(&mut self, w: &TimeWindow, path: &KeyPath) -> Option<TimeRange> {
        if w.after.is_none() && w.before.is_none() {
            self.error(
                path.clone(),
                "a time condition needs `after`, `before` or both",
            );
            return None;
        }
        self.time_range(
            w.after.as_deref(),
            w.before.as_deref(),
            w.timezone.as_deref(),
            path,
            ("after", "before"),
        )
    }

    /// Parses a `[start, end)` pair with an optional zone; shared by time
    /// conditions and scheduled rollouts.
    pub(super) fn time_range(
        &mut self,
        start: Option<&str>,
        end: Option<&str>,
        zone: Option<&str>,
        path: &KeyPath,
        names: (&str, &str),
    ) -> Option<TimeRange> {
        let zone = match zone.map(time::zone) {
            Some(Err((msg, hint))) => {
                self.error_hint(path.key("timezone"), msg, hint);
                return None;
            }
            Some(Ok(z)) => Some(z),
            None => None,
        };
        let mut parse = |text: Option<&str>, key: &str| -> Result<Option<Timestamp>, ()> {
            match text.map(|t| time::instant(t, zone.as_ref())) {
                None => Ok(None),
                Some(Ok(ts)) => Ok(Some(ts)),
                Some(Err(msg)) => {
                    self.error(path.key(key), msg);
                    Err(())
                }
            }
        };
        let after = parse(start, names.0);
        let before = parse(end, names.1);
        let (Ok(after), Ok(before)) = (after, before) else {
            return None;
        };
        if let (Some(a), Some(b)) = (after, before)
            && a >= b
        {
            self.error(
                path.key(names.1),
                format!("`{}` must be later than `{}`", names.1, names.0),
            );
            return None;
        }
        Some(TimeRange { after, before })
    }

    fn attr_condition(&mut self, a: &AttrCondition, path: &KeyPath) -> Option<Cond> {
        if a.attr.trim().is_empty() {
            self.error(path.key("attr"), "`attr` is empty");
            return None;
        }
        let operands_path = match &a.operands {
            Operands::Many(_) => path.key("values"),
            _ => path.key("value"),
        };
        let values = a.operands.as_slice();
        if a.op == Op::Exists {
            if !matches!(a.operands, Operands::None) {
                self.error(
                    operands_path,
                    "`exists` takes no `value`; wrap it in `not` to test absence",
                );
                return None;
            }
            return Some(attr(a, AttrTest::Exists));
        }
        if let Operands::One(Value::Array(_)) = &a.operands {
            self.error_hint(
                operands_path,
                "`value` takes one operand, not a list",
                Some("write several operands as `values: [...]`".into()),
            );
            return None;
        }
        if matches!(a.operands, Operands::None) {
            self.error(
                path.clone(),
                format!("`{}` needs `value` or `values`", a.op),
            );
            return None;
        }
        if values.is_empty() {
            self.error(operands_path, "`values` is empty");
            return None;
        }
        let operand_path = |i: usize| match &a.operands {
            Operands::Many(_) => path.key("values").index(i),
            _ => path.key("value"),
        };
        let test = match a.op {
            Op::Eq | Op::Neq | Op::In | Op::NotIn => {
                let scalars = self.each(values, &operand_path, scalar)?;
                let (strings, others): (Vec<_>, Vec<_>) = scalars
                    .into_iter()
                    .partition(|s| matches!(s, Scalar::Str(_)));
                let strings = strings
                    .into_iter()
                    .filter_map(|s| match s {
                        Scalar::Str(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                AttrTest::Equals {
                    negated: a.op.is_negated(),
                    strings: StrSet::new(strings),
                    others: others.into_boxed_slice(),
                }
            }
            Op::Contains => {
                AttrTest::Contains(self.each(values, &operand_path, scalar)?.into_boxed_slice())
            }
            Op::StartsWith => {
                AttrTest::StartsWith(self.each(values, &operand_path, string)?.into_boxed_slice())
            }
            Op::EndsWith => {
                AttrTest::EndsWith(self.each(values, &operand_path, string)?.into_boxed_slice())
            }
            Op::Matches => {
                let patterns = self.each(values, &operand_path, string)?;
                let mut regexes = Vec::with_capacity(patterns.len());
                for (i, p) in patterns.iter().enumerate() {
                    match self.regex(p) {
                        Ok(r) => regexes.push(r),
                        Err(msg) => {
                            self.error(operand_path(i), msg);
                            return None;
                        }
                    }
                }
                AttrTest::Matches(regexes.into_boxed_slice())
            }
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => AttrTest::Compare(
                num_op(a.op),
                self.each(values, &operand_path, number)?.into_boxed_slice(),
            ),
            Op::SemverEq | Op::SemverGt | Op::SemverGte | Op::SemverLt | Op::SemverLte => {
                AttrTest::Semver(
                    num_op(a.op),
                    self.each(values, &operand_path, version)?
                        .into_boxed_slice(),
                )
            }
            Op::Before | Op::After => AttrTest::Instant {
                before: a.op == Op::Before,
                operands: self
                    .each(values, &operand_path, instant)?
                    .into_boxed_slice(),
            },
            Op::InCidr => AttrTest::Cidr(
                self.each(values, &operand_path, network)?
                    .into_boxed_slice(),
            ),
            Op::Exists => AttrTest::Exists,
        };
        Some(attr(a, test))
    }

    /// Converts every operand, reporting each one that does not fit.
    fn each<T>(
        &mut self,
        values: &[Value],
        path: &dyn Fn(usize) -> KeyPath,
        convert: fn(&Value) -> Result<T, String>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::with_capacity(values.len());
        let mut ok = true;
        for (i, v) in values.iter().enumerate() {
            match convert(v) {
                Ok(t) => out.push(t),
                Err(msg) => {
                    self.error(path(i), msg);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

fn attr(a: &AttrCondition, test: AttrTest) -> Cond {
    Cond::attr(a.attr.as_str().into(), test)
}

fn num_op(op: Op) -> NumOp {
    match op {
        Op::Gt | Op::SemverGt => NumOp::Gt,
        Op::Gte | Op::SemverGte => NumOp::Gte,
        Op::Lt | Op::SemverLt => NumOp::Lt,
        Op::Lte | Op::SemverLte => NumOp::Lte,
        _ => NumOp::Eq,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a map".into(),
        other => other.to_string(),
    }
}

fn scalar(v: &Value) -> Result<Scalar, String> {
    match v {
        Value::String(s) => Ok(Scalar::Str(s.as_str().into())),
        Value::Bool(b) => Ok(Scalar::Bool(*b)),
        Value::Number(n) => n
            .as_f64()
            .map(Scalar::Num)
            .ok_or_else(|| format!("{n} is not a usable number")),
        other => Err(format!(
            "operand must be a string, number or boolean, not {}",
            describe(other)
        )),
    }
}

fn string(v: &Value) -> Result<Box<str>, String> {
    v.as_str()
        .map(Into::into)
        .ok_or_else(|| format!("operand must be a string, not {}", describe(v)))
}

fn number(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("operand must be a number, not {}", describe(v)))
}

fn version(v: &Value) -> Result<semver::Version, String> {
    let s = v.as_str().ok_or_else(|| match v {
        // `value: 2.4` in YAML is a number; versions are strings.
        Value::Number(n) => {
            format!("operand must be a version string such as \"2.4.0\", not the number {n}")
        }
        _ => format!("operand must be a version string, not {}", describe(v)),
    })?;
    parse_version(s)
        .ok_or_else(|| format!("`{s}` is not a semantic version (MAJOR.MINOR.PATCH, e.g. 2.4.0)"))
}

/// A CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or one address (`/32`,
/// `/128`).
fn network(v: &Value) -> Result<ipnet::IpNet, String> {
    let s = v.as_str().ok_or_else(|| {
        format!(
            "operand must be a CIDR block such as \"10.0.0.0/8\", not {}",
            describe(v)
        )
    })?;
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            format!("`{s}` is neither a CIDR block (10.0.0.0/8, 2001:db8::/32) nor an IP address")
        })
}

fn instant(v: &Value) -> Result<Timestamp, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("operand must be an RFC 3339 time, not {}", describe(v)))?;
    time::instant(s, None)
}
