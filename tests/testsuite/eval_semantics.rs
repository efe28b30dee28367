//! Evaluation semantics (docs/flag-format.md §8 Conditions, §10 Evaluation), table-driven,
//! on rulesets compiled from inline YAML through `load_files` + `check`.

use hotswap_flags_core::eval::bucket::bucket_for;
use hotswap_flags_core::eval::{EvalEnv, FixedRollouts, InitialRollouts, RolloutState};
use hotswap_flags_core::model::Op;
use hotswap_flags_core::ruleset::Ruleset;
use hotswap_flags_core::{Context, EvalError, Reason};
use jiff::Timestamp;
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

const NOW: &str = "2025-06-15T12:00:00Z";

fn compile(yaml: &str) -> Ruleset {
    crate::support::rulesets::compile_file("envs/test/flags.yaml", yaml)
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn ctx(v: Value) -> Context {
    Context::from_json(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// What an evaluation came to, in a form that compares well.
#[derive(Debug, Clone, PartialEq)]
struct Out {
    variant: String,
    value: Value,
    reason: Reason,
    rule: Option<String>,
}

fn eval_with<R: RolloutState>(
    rs: &Ruleset,
    flag: &str,
    c: Value,
    now: &str,
    rollouts: &R,
) -> Result<Out, EvalError> {
    let env = EvalEnv {
        now: ts(now),
        rollouts,
    };
    rs.evaluate(flag, &ctx(c), &env).map(|ev| Out {
        variant: ev.variant_name().to_owned(),
        value: ev.value().clone(),
        reason: ev.reason,
        rule: ev.rule_name().map(str::to_owned),
    })
}

fn eval(rs: &Ruleset, flag: &str, c: Value) -> Result<Out, EvalError> {
    eval_with(rs, flag, c, NOW, &InitialRollouts)
}

fn out(variant: &str, reason: Reason, rule: Option<&str>) -> Out {
    let value = match variant {
        "on" => json!(true),
        "off" => json!(false),
        other => json!(other),
    };
    Out {
        variant: variant.into(),
        value,
        reason,
        rule: rule.map(str::to_owned),
    }
}

/// A boolean flag serving `on` when `when` holds, else `off`.
fn rule_flag(key: &str, when: &str) -> String {
    format!(
        "  {key}:\n    type: boolean\n    variants: {{on: true, off: false}}\n    default: off\n    rules:\n      - name: r\n        when: {when}\n        serve: on\n"
    )
}

/// Whether the rule of flag `key` matched `c`.
fn holds(rs: &Ruleset, key: &str, c: &Value) -> bool {
    let o = eval(rs, key, c.clone()).unwrap_or_else(|e| panic!("{key} {c}: {e}"));
    match (o.variant.as_str(), o.reason) {
        ("on", Reason::TargetingMatch) => {
            assert_eq!(o.rule.as_deref(), Some("r"));
            true
        }
        ("off", Reason::Default) => {
            assert_eq!(o.rule, None);
            false
        }
        _ => panic!("{key} {c}: unexpected {o:?}"),
    }
}

/// Compiles `prefix` (segments, or nothing) and a [`rule_flag`] for each
/// `(key, when)`.
fn compile_rule_flags<K: AsRef<str>, W: AsRef<str>>(
    prefix: &str,
    flags: impl IntoIterator<Item = (K, W)>,
) -> Ruleset {
    let mut yaml = format!("{prefix}flags:\n");
    for (key, when) in flags {
        yaml += &rule_flag(key.as_ref(), when.as_ref());
    }
    compile(&yaml)
}

/// For each `(flag, context, expected)`: the flag's rule holds for the
/// context exactly when expected.
fn assert_holds(rs: &Ruleset, table: &[(&str, Value, bool)]) {
    for (flag, c, expected) in table {
        assert_eq!(holds(rs, flag, c), *expected, "{flag} with {c}");
    }
}

/// A key whose bucket under `salt` satisfies `pred`.
fn key_where(salt: &str, pred: impl Fn(u32) -> bool) -> String {
    (0..1_000_000)
        .map(|i| format!("user-{i}"))
        .find(|k| pred(bucket_for(salt, k)))
        .expect("a key")
}

// ---------------------------------------------------------------- operators

/// One operator with its operand: contexts (JSON, attribute `a`) where it
/// holds, where it does not, and where the attribute has the wrong type.
/// Missing (`{}`, `{"a": null}`, only another attribute) is added for every
/// row and must be false (true under `not`).
struct OpCase {
    op: &'static str,
    when: &'static str,
    holds: &'static [&'static str],
    fails: &'static [&'static str],
    mistyped: &'static [&'static str],
}

const OP_CASES: &[OpCase] = &[
    OpCase {
        op: "eq",
        when: "{attr: a, op: eq, value: x}",
        holds: &[r#"{"a": "x"}"#],
        fails: &[r#"{"a": "y"}"#, r#"{"a": "X"}"#, r#"{"a": ""}"#],
        mistyped: &[
            r#"{"a": ["x"]}"#,
            r#"{"a": {"x": 1}}"#,
            r#"{"a": 1}"#,
            r#"{"a": true}"#,
        ],
    },
    OpCase {
        op: "eq",
        when: "{attr: a, op: eq, value: 30}",
        holds: &[
            r#"{"a": 30}"#,
            r#"{"a": 30.0}"#,
            r#"{"a": "30"}"#,
            r#"{"a": " 30 "}"#,
        ],
        fails: &[r#"{"a": 31}"#, r#"{"a": "31"}"#],
        mistyped: &[r#"{"a": "thirty"}"#, r#"{"a": true}"#, r#"{"a": [30]}"#],
    },
    OpCase {
        op: "eq",
        when: "{attr: a, op: eq, value: true}",
        holds: &[r#"{"a": true}"#, r#"{"a": "true"}"#],
        fails: &[r#"{"a": false}"#, r#"{"a": "false"}"#],
        mistyped: &[
            r#"{"a": 1}"#,
            r#"{"a": "TRUE"}"#,
            r#"{"a": "yes"}"#,
            r#"{"a": [true]}"#,
        ],
    },
    OpCase {
        op: "neq",
        when: "{attr: a, op: neq, value: x}",
        holds: &[r#"{"a": "y"}"#, r#"{"a": 5}"#],
        fails: &[r#"{"a": "x"}"#],
        mistyped: &[r#"{"a": ["y"]}"#, r#"{"a": {"y": 1}}"#],
    },
    OpCase {
        op: "in",
        when: "{attr: a, op: in, values: [DE, FR]}",
        holds: &[r#"{"a": "DE"}"#, r#"{"a": "FR"}"#],
        fails: &[r#"{"a": "US"}"#, r#"{"a": "de"}"#],
        mistyped: &[r#"{"a": ["DE"]}"#, r#"{"a": 49}"#],
    },
    OpCase {
        op: "not_in",
        when: "{attr: a, op: not_in, values: [DE, FR]}",
        holds: &[r#"{"a": "US"}"#],
        fails: &[r#"{"a": "DE"}"#, r#"{"a": "FR"}"#],
        mistyped: &[r#"{"a": ["US"]}"#, r#"{"a": {"c": "US"}}"#],
    },
    OpCase {
        op: "contains",
        when: "{attr: a, op: contains, value: beta}",
        holds: &[
            r#"{"a": "the beta group"}"#,
            r#"{"a": "beta"}"#,
            r#"{"a": ["alpha", "beta"]}"#,
        ],
        fails: &[
            r#"{"a": "alpha"}"#,
            r#"{"a": ["alpha", "betamax"]}"#,
            r#"{"a": []}"#,
        ],
        mistyped: &[r#"{"a": 5}"#, r#"{"a": true}"#, r#"{"a": {"beta": 1}}"#],
    },
    OpCase {
        op: "contains",
        when: "{attr: a, op: contains, value: 3}",
        holds: &[r#"{"a": [1, 2, 3]}"#, r#"{"a": ["3"]}"#],
        fails: &[r#"{"a": [1, 2]}"#, r#"{"a": "123"}"#],
        mistyped: &[r#"{"a": 3}"#],
    },
    OpCase {
        op: "starts_with",
        when: "{attr: a, op: starts_with, value: 'v2.'}",
        holds: &[r#"{"a": "v2.1"}"#, r#"{"a": "v2."}"#],
        fails: &[r#"{"a": "v3.0"}"#, r#"{"a": "xv2.1"}"#],
        mistyped: &[r#"{"a": 2.1}"#, r#"{"a": ["v2.1"]}"#],
    },
    OpCase {
        op: "ends_with",
        when: "{attr: a, op: ends_with, value: '@example.com'}",
        holds: &[r#"{"a": "ann@example.com"}"#],
        fails: &[
            r#"{"a": "ann@example.org"}"#,
            r#"{"a": "@example.com.evil"}"#,
        ],
        mistyped: &[r#"{"a": 42}"#, r#"{"a": ["ann@example.com"]}"#],
    },
    OpCase {
        op: "matches",
        when: r"{attr: a, op: matches, value: '^[a-z]+-\d+$'}",
        holds: &[r#"{"a": "user-1"}"#, r#"{"a": "acct-42"}"#],
        fails: &[
            r#"{"a": "User-1"}"#,
            r#"{"a": "user-"}"#,
            r#"{"a": "x user-1"}"#,
        ],
        mistyped: &[r#"{"a": 12}"#, r#"{"a": ["user-1"]}"#],
    },
    OpCase {
        op: "matches",
        when: "{attr: a, op: matches, value: beta}",
        holds: &[r#"{"a": "my-beta-box"}"#],
        fails: &[r#"{"a": "alpha"}"#],
        mistyped: &[r#"{"a": false}"#],
    },
    OpCase {
        op: "gt",
        when: "{attr: a, op: gt, value: 18}",
        holds: &[r#"{"a": 19}"#, r#"{"a": 18.5}"#, r#"{"a": "19"}"#],
        fails: &[r#"{"a": 18}"#, r#"{"a": -1}"#, r#"{"a": "18"}"#],
        mistyped: &[
            r#"{"a": "abc"}"#,
            r#"{"a": true}"#,
            r#"{"a": [19]}"#,
            r#"{"a": "NaN"}"#,
        ],
    },
    OpCase {
        op: "gte",
        when: "{attr: a, op: gte, value: 18}",
        holds: &[
            r#"{"a": 18}"#,
            r#"{"a": 18.0}"#,
            r#"{"a": "18"}"#,
            r#"{"a": 1e3}"#,
        ],
        fails: &[r#"{"a": 17.99}"#, r#"{"a": "17"}"#],
        mistyped: &[r#"{"a": "eighteen"}"#, r#"{"a": {"n": 18}}"#],
    },
    OpCase {
        op: "lt",
        when: "{attr: a, op: lt, value: 18}",
        holds: &[r#"{"a": 17}"#, r#"{"a": -5}"#, r#"{"a": "17.5"}"#],
        fails: &[r#"{"a": 18}"#, r#"{"a": 100}"#],
        mistyped: &[r#"{"a": "seventeen"}"#, r#"{"a": false}"#],
    },
    OpCase {
        op: "lte",
        when: "{attr: a, op: lte, value: 18}",
        holds: &[r#"{"a": 18}"#, r#"{"a": 0}"#],
        fails: &[r#"{"a": 18.5}"#, r#"{"a": "19"}"#],
        mistyped: &[r#"{"a": ""}"#, r#"{"a": [1]}"#],
    },
    OpCase {
        op: "semver_eq",
        when: "{attr: a, op: semver_eq, value: '2.4.0'}",
        holds: &[
            r#"{"a": "2.4.0"}"#,
            r#"{"a": "v2.4.0"}"#,
            r#"{"a": "2.4.0+build.7"}"#,
        ],
        fails: &[r#"{"a": "2.4.1"}"#, r#"{"a": "2.4.0-rc.1"}"#],
        mistyped: &[r#"{"a": "2.4"}"#, r#"{"a": 2.4}"#, r#"{"a": "latest"}"#],
    },
    OpCase {
        op: "semver_gt",
        when: "{attr: a, op: semver_gt, value: '2.4.0'}",
        holds: &[
            r#"{"a": "2.10.0"}"#,
            r#"{"a": "2.4.1"}"#,
            r#"{"a": "3.0.0-alpha"}"#,
        ],
        fails: &[
            r#"{"a": "2.4.0"}"#,
            r#"{"a": "2.4.0-rc.1"}"#,
            r#"{"a": "2.3.99"}"#,
        ],
        mistyped: &[r#"{"a": 3}"#, r#"{"a": "three"}"#],
    },
    OpCase {
        op: "semver_gte",
        when: "{attr: a, op: semver_gte, value: '2.4.0'}",
        holds: &[r#"{"a": "2.4.0"}"#, r#"{"a": "10.0.0"}"#],
        fails: &[r#"{"a": "2.3.9"}"#, r#"{"a": "2.4.0-beta"}"#],
        mistyped: &[r#"{"a": "2"}"#, r#"{"a": ["2.4.0"]}"#],
    },
    OpCase {
        op: "semver_lt",
        when: "{attr: a, op: semver_lt, value: '2.4.0'}",
        holds: &[r#"{"a": "2.4.0-rc.1"}"#, r#"{"a": "1.99.99"}"#],
        fails: &[r#"{"a": "2.4.0"}"#, r#"{"a": "2.10.0"}"#],
        mistyped: &[r#"{"a": 1}"#, r#"{"a": "1.x"}"#],
    },
    OpCase {
        op: "semver_lte",
        when: "{attr: a, op: semver_lte, value: '2.4.0'}",
        holds: &[r#"{"a": "2.4.0"}"#, r#"{"a": "0.1.0"}"#],
        fails: &[r#"{"a": "2.4.1"}"#],
        mistyped: &[r#"{"a": true}"#, r#"{"a": ""}"#],
    },
    OpCase {
        op: "before",
        when: "{attr: a, op: before, value: '2025-01-01T00:00:00Z'}",
        holds: &[
            r#"{"a": "2024-12-31T23:59:59Z"}"#,
            r#"{"a": "2025-01-01T00:00:00+01:00"}"#,
            r#"{"a": 1735689599}"#,
        ],
        fails: &[r#"{"a": "2025-01-01T00:00:00Z"}"#, r#"{"a": 1735689600}"#],
        mistyped: &[
            r#"{"a": "yesterday"}"#,
            r#"{"a": true}"#,
            r#"{"a": ["2024-01-01T00:00:00Z"]}"#,
        ],
    },
    OpCase {
        op: "after",
        when: "{attr: a, op: after, value: '2025-01-01T00:00:00Z'}",
        holds: &[
            r#"{"a": "2025-01-01T00:00:00Z"}"#,
            r#"{"a": "2025-06-01T00:00:00-05:00"}"#,
            r#"{"a": 1735689600}"#,
            r#"{"a": 1735689600.5}"#,
        ],
        fails: &[r#"{"a": "2024-12-31T23:59:59Z"}"#, r#"{"a": 0}"#],
        mistyped: &[r#"{"a": "2025-13-01T00:00:00Z"}"#, r#"{"a": {"t": 1}}"#],
    },
    OpCase {
        op: "in_cidr",
        when: "{attr: a, op: in_cidr, values: [10.0.0.0/8, '2001:db8::/32', 192.168.1.7]}",
        holds: &[
            r#"{"a": "10.20.30.40"}"#,
            r#"{"a": "192.168.1.7"}"#,
            r#"{"a": "2001:db8::1"}"#,
        ],
        fails: &[
            r#"{"a": "11.0.0.1"}"#,
            r#"{"a": "192.168.1.8"}"#,
            r#"{"a": "::1"}"#,
        ],
        mistyped: &[
            r#"{"a": "10.0.0"}"#,
            r#"{"a": 167772161}"#,
            r#"{"a": ["10.0.0.1"]}"#,
        ],
    },
    OpCase {
        op: "exists",
        when: "{attr: a, op: exists}",
        // `exists` has no wrong type: any present, non-null value exists.
        holds: &[
            r#"{"a": "x"}"#,
            r#"{"a": ""}"#,
            r#"{"a": 0}"#,
            r#"{"a": false}"#,
            r#"{"a": []}"#,
            r#"{"a": {}}"#,
        ],
        fails: &[r#"{"b": "x"}"#],
        mistyped: &[],
    },
];

fn op_ruleset() -> Ruleset {
    let mut yaml = String::from("flags:\n");
    for (i, case) in OP_CASES.iter().enumerate() {
        yaml += &rule_flag(&format!("op-{i}"), case.when);
        yaml += &rule_flag(&format!("not-op-{i}"), &format!("{{not: {}}}", case.when));
    }
    compile(&yaml)
}

#[test]
fn every_operator_is_covered() {
    for op in crate::support::props::ALL_OPS.map(Op::as_str) {
        let cases: Vec<&OpCase> = OP_CASES.iter().filter(|c| c.op == op).collect();
        assert!(!cases.is_empty(), "no case for `{op}`");
        assert!(
            cases.iter().any(|c| !c.holds.is_empty()),
            "{op}: no true case"
        );
        assert!(
            cases.iter().any(|c| !c.fails.is_empty()),
            "{op}: no false case"
        );
        if op != "exists" {
            assert!(
                cases.iter().any(|c| !c.mistyped.is_empty()),
                "{op}: no mistyped case"
            );
        }
        for c in &cases {
            assert!(c.when.contains(&format!("op: {op}")), "{}", c.when);
        }
    }
}

#[test]
fn operator_table() {
    let rs = op_ruleset();
    let mut wrong = Vec::new();
    for (i, case) in OP_CASES.iter().enumerate() {
        let key = format!("op-{i}");
        let not_key = format!("not-op-{i}");
        let missing = [r#"{}"#, r#"{"a": null}"#, r#"{"b": 1, "A": "x"}"#];
        let groups: [(&str, &[&str], bool); 4] = [
            ("holds", case.holds, true),
            ("fails", case.fails, false),
            ("mistyped", case.mistyped, false),
            ("missing", &missing, false),
        ];
        for (group, contexts, expected) in groups {
            for text in contexts {
                let c: Value = serde_json::from_str(text).unwrap();
                if holds(&rs, &key, &c) != expected {
                    wrong.push(format!(
                        "{} with {text} ({group}): expected {expected}",
                        case.when
                    ));
                }
                // `not` inverts, and a missing attribute makes `not` true.
                if holds(&rs, &not_key, &c) == expected {
                    wrong.push(format!(
                        "not {} with {text} ({group}): expected {}",
                        case.when, !expected
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// `values` means any of them; for `neq` and `not_in`, none of them.
#[test]
fn value_versus_values() {
    let conds = [
        ("eq-any", "{attr: a, op: eq, values: [x, y]}"),
        ("neq-none", "{attr: a, op: neq, values: [x, y]}"),
        ("in-one", "{attr: a, op: in, value: x}"),
        ("not-in-one", "{attr: a, op: not_in, value: x}"),
        ("gt-any", "{attr: a, op: gt, values: [100, 10]}"),
        ("lt-any", "{attr: a, op: lt, values: [0, 5]}"),
        (
            "sw-any",
            "{attr: a, op: starts_with, values: [alpha-, beta-]}",
        ),
        (
            "contains-any",
            "{attr: a, op: contains, values: [red, blue]}",
        ),
        (
            "matches-any",
            "{attr: a, op: matches, values: ['^a$', '^b$']}",
        ),
        (
            "semver-any",
            "{attr: a, op: semver_eq, values: ['1.0.0', '2.0.0']}",
        ),
        ("mixed-eq", "{attr: a, op: eq, values: [x, 7, true]}"),
        // more than a handful of strings: looked up in a hash set
        (
            "in-many",
            "{attr: a, op: in, values: [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, '10']}",
        ),
        (
            "not-in-many",
            "{attr: a, op: not_in, values: [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9]}",
        ),
    ];
    let rs = compile_rule_flags("", conds);
    let table: &[(&str, Value, bool)] = &[
        ("eq-any", json!({"a": "x"}), true),
        ("eq-any", json!({"a": "y"}), true),
        ("eq-any", json!({"a": "z"}), false),
        ("neq-none", json!({"a": "z"}), true),
        ("neq-none", json!({"a": "x"}), false),
        ("neq-none", json!({"a": "y"}), false),
        ("neq-none", json!({}), false),
        ("in-one", json!({"a": "x"}), true),
        ("in-one", json!({"a": "y"}), false),
        ("not-in-one", json!({"a": "y"}), true),
        ("not-in-one", json!({"a": "x"}), false),
        ("gt-any", json!({"a": 50}), true),
        ("gt-any", json!({"a": 5}), false),
        ("lt-any", json!({"a": 3}), true),
        ("lt-any", json!({"a": 5}), false),
        ("sw-any", json!({"a": "beta-7"}), true),
        ("sw-any", json!({"a": "gamma-7"}), false),
        ("contains-any", json!({"a": ["green", "blue"]}), true),
        ("contains-any", json!({"a": "reddish"}), true),
        ("contains-any", json!({"a": ["green"]}), false),
        ("matches-any", json!({"a": "b"}), true),
        ("matches-any", json!({"a": "ab"}), false),
        ("semver-any", json!({"a": "2.0.0"}), true),
        ("semver-any", json!({"a": "3.0.0"}), false),
        ("mixed-eq", json!({"a": "x"}), true),
        ("mixed-eq", json!({"a": 7}), true),
        ("mixed-eq", json!({"a": "7"}), true),
        ("mixed-eq", json!({"a": true}), true),
        ("mixed-eq", json!({"a": "true"}), true),
        ("mixed-eq", json!({"a": false}), false),
        ("mixed-eq", json!({"a": 8}), false),
        ("in-many", json!({"a": "a7"}), true),
        ("in-many", json!({"a": 10}), true),
        ("in-many", json!({"a": "b7"}), false),
        ("not-in-many", json!({"a": "a9"}), false),
        ("not-in-many", json!({"a": "b9"}), true),
        ("not-in-many", json!({}), false),
    ];
    assert_holds(&rs, table);
}

/// Query strings and headers carry strings: a string attribute is read as a
/// number or boolean when the operand is one; a number attribute compares
/// with a string operand in its JSON form.
#[test]
fn string_coercion() {
    let rs = compile_rule_flags(
        "",
        [
            ("age", "{attr: age, op: gte, value: 18}"),
            ("score", "{attr: score, op: eq, value: 2.5}"),
            ("beta", "{attr: beta, op: eq, value: false}"),
            ("zip", "{attr: zip, op: eq, value: '01234'}"),
            ("plan", "{attr: plan, op: in, values: ['42', '1.5']}"),
            ("cohort", "{attr: cohort, op: neq, value: 3}"),
        ],
    );
    let table: &[(&str, Value, bool)] = &[
        ("age", json!({"age": "30"}), true),
        ("age", json!({"age": "18.0"}), true),
        ("age", json!({"age": "17"}), false),
        ("age", json!({"age": "thirty"}), false),
        ("age", json!({"age": "inf"}), false),
        ("score", json!({"score": "2.5"}), true),
        ("score", json!({"score": "2.50"}), true),
        ("score", json!({"score": 2.5}), true),
        ("score", json!({"score": "2.6"}), false),
        ("beta", json!({"beta": "false"}), true),
        ("beta", json!({"beta": false}), true),
        ("beta", json!({"beta": "0"}), false),
        ("beta", json!({"beta": "False"}), false),
        // A string operand is compared as a string: no numeric reading.
        ("zip", json!({"zip": "01234"}), true),
        ("zip", json!({"zip": 1234}), false),
        // A number attribute against string operands: its JSON form.
        ("plan", json!({"plan": 42}), true),
        ("plan", json!({"plan": 1.5}), true),
        ("plan", json!({"plan": 43}), false),
        ("cohort", json!({"cohort": "3"}), false),
        ("cohort", json!({"cohort": "4"}), true),
    ];
    assert_holds(&rs, table);
}

// ---------------------------------------------------------------- combinators

#[test]
fn all_any_not() {
    let rs = compile_rule_flags(
        "",
        [
            (
                "all",
                "{all: [{attr: a, op: eq, value: 1}, {attr: b, op: eq, value: 2}]}",
            ),
            (
                "any",
                "{any: [{attr: a, op: eq, value: 1}, {attr: b, op: eq, value: 2}]}",
            ),
            ("not", "{not: {attr: a, op: eq, value: 1}}"),
            ("not-exists", "{not: {attr: a, op: exists}}"),
            (
                "nested",
                "{any: [{all: [{attr: country, op: in, values: [DE, FR]}, {not: {attr: plan, op: eq, value: free}}]}, {attr: staff, op: eq, value: true}]}",
            ),
        ],
    );
    let table: &[(&str, Value, bool)] = &[
        ("all", json!({"a": 1, "b": 2}), true),
        ("all", json!({"a": 1, "b": 3}), false),
        ("all", json!({"a": 1}), false),
        ("all", json!({}), false),
        ("any", json!({"a": 1, "b": 3}), true),
        ("any", json!({"b": 2}), true),
        ("any", json!({"a": 0, "b": 0}), false),
        ("any", json!({}), false),
        ("not", json!({"a": 2}), true),
        ("not", json!({"a": 1}), false),
        ("not", json!({}), true),
        ("not", json!({"a": null}), true),
        ("not", json!({"a": [1]}), true),
        ("not-exists", json!({}), true),
        ("not-exists", json!({"a": null}), true),
        ("not-exists", json!({"a": 0}), false),
        ("nested", json!({"country": "DE", "plan": "pro"}), true),
        ("nested", json!({"country": "DE"}), true),
        ("nested", json!({"country": "DE", "plan": "free"}), false),
        ("nested", json!({"country": "US", "plan": "pro"}), false),
        ("nested", json!({"country": "US", "staff": "true"}), true),
        ("nested", json!({}), false),
    ];
    assert_holds(&rs, table);
}

#[test]
fn time_conditions_use_the_evaluation_time() {
    let rs = compile_rule_flags(
        "",
        [
            (
                "holidays",
                "{time: {after: '2025-12-01T00:00:00', before: '2026-01-01T00:00:00', timezone: America/New_York}}",
            ),
            ("launch", "{time: {after: '2025-06-01T09:00:00+02:00'}}"),
            ("sunset", "{time: {before: '2025-06-30T00:00:00Z'}}"),
        ],
    );
    let table: &[(&str, &str, bool)] = &[
        // New York is UTC−5 in December: the window is [05:00Z Dec 1, 05:00Z Jan 1).
        ("holidays", "2025-12-01T04:59:59Z", false),
        ("holidays", "2025-12-01T05:00:00Z", true),
        ("holidays", "2025-12-24T18:00:00Z", true),
        ("holidays", "2026-01-01T04:59:59Z", true),
        ("holidays", "2026-01-01T05:00:00Z", false),
        ("launch", "2025-06-01T06:59:59Z", false),
        ("launch", "2025-06-01T07:00:00Z", true),
        ("sunset", "2025-06-29T23:59:59Z", true),
        ("sunset", "2025-06-30T00:00:00Z", false),
    ];
    for (flag, now, expected) in table {
        let o = eval_with(&rs, flag, json!({}), now, &InitialRollouts).unwrap();
        assert_eq!(o.variant == "on", *expected, "{flag} at {now}: {o:?}");
    }
}

// ---------------------------------------------------------------- rules and segments

#[test]
fn first_matching_rule_wins() {
    let rs = compile(
        "
flags:
  ordered:
    type: string
    variants: {gold: gold, silver: silver, bronze: bronze, none: none}
    default: none
    rules:
      - name: vip
        when: {attr: tier, op: eq, value: vip}
        serve: gold
      - name: paying
        when: {attr: plan, op: in, values: [pro, team]}
        serve: silver
      - name: anyone-with-plan
        when: {attr: plan, op: exists}
        serve: bronze
",
    );
    let table: &[(Value, &str, Option<&str>)] = &[
        (json!({"tier": "vip", "plan": "pro"}), "gold", Some("vip")),
        (json!({"tier": "vip"}), "gold", Some("vip")),
        (json!({"plan": "pro"}), "silver", Some("paying")),
        (json!({"plan": "free"}), "bronze", Some("anyone-with-plan")),
        (json!({"tier": "basic"}), "none", None),
    ];
    for (c, variant, rule) in table {
        let o = eval(&rs, "ordered", c.clone()).unwrap();
        let reason = if rule.is_some() {
            Reason::TargetingMatch
        } else {
            Reason::Default
        };
        assert_eq!(o, out(variant, reason, *rule), "{c}");
    }
}

const SEGMENTS: &str = "
segments:
  staff:
    keys: [u-1, u-2, '7']
  beta:
    when: {attr: role, op: eq, value: beta-tester}
  pilots:
    keys: [acct-9]
    when: {attr: plan, op: eq, value: enterprise}
  early:
    when: {any: [{segment: staff}, {segment: beta}]}
  early-not-blocked:
    when: {all: [{segment: early}, {not: {segment: blocked}}]}
  blocked:
    keys: [u-2]
flags:
";

#[test]
fn segments_by_keys_when_and_nesting() {
    let mut yaml = SEGMENTS.to_owned();
    for seg in ["staff", "beta", "pilots", "early", "early-not-blocked"] {
        yaml += &rule_flag(&format!("seg-{seg}"), &format!("{{segment: {seg}}}"));
    }
    yaml += &rule_flag("not-staff", "{not: {segment: staff}}");
    let rs = compile(&yaml);
    let table: &[(&str, Value, bool)] = &[
        // keys: targetingKey, its userId alias, numbers in their JSON form
        ("seg-staff", json!({"targetingKey": "u-1"}), true),
        ("seg-staff", json!({"userId": "u-2"}), true),
        ("seg-staff", json!({"targetingKey": 7}), true),
        ("seg-staff", json!({"targetingKey": "u-3"}), false),
        ("seg-staff", json!({"targetingKey": "U-1"}), false),
        ("seg-staff", json!({"email": "u-1"}), false),
        ("seg-staff", json!({}), false),
        // when
        ("seg-beta", json!({"role": "beta-tester"}), true),
        (
            "seg-beta",
            json!({"role": "admin", "targetingKey": "u-1"}),
            false,
        ),
        ("seg-beta", json!({}), false),
        // keys and when: either one admits
        ("seg-pilots", json!({"targetingKey": "acct-9"}), true),
        (
            "seg-pilots",
            json!({"targetingKey": "acct-1", "plan": "enterprise"}),
            true,
        ),
        (
            "seg-pilots",
            json!({"targetingKey": "acct-1", "plan": "pro"}),
            false,
        ),
        // nested segments
        ("seg-early", json!({"targetingKey": "u-1"}), true),
        ("seg-early", json!({"role": "beta-tester"}), true),
        (
            "seg-early",
            json!({"targetingKey": "u-9", "role": "user"}),
            false,
        ),
        (
            "seg-early-not-blocked",
            json!({"targetingKey": "u-1"}),
            true,
        ),
        (
            "seg-early-not-blocked",
            json!({"targetingKey": "u-2"}),
            false,
        ),
        (
            "seg-early-not-blocked",
            json!({"targetingKey": "u-2", "role": "beta-tester"}),
            false,
        ),
        (
            "seg-early-not-blocked",
            json!({"role": "beta-tester"}),
            true,
        ),
        ("not-staff", json!({"targetingKey": "u-1"}), false),
        ("not-staff", json!({"targetingKey": "u-9"}), true),
        ("not-staff", json!({}), true),
    ];
    assert_holds(&rs, table);
}

// ---------------------------------------------------------------- reasons

const REASONS: &str = "
segments:
  beta:
    when: {attr: role, op: eq, value: beta}
flags:
  static:
    type: string
    variants: {a: alpha}
    default: a
  static-split:
    type: string
    variants: {a: a, b: b}
    default: {split: {a: 50, b: 50}}
    offVariant: a
  targeted:
    type: boolean
    variants: {on: true, off: false}
    default: off
    rules:
      - name: staff
        when: {attr: email, op: ends_with, value: '@example.com'}
        serve: on
  rule-split:
    type: string
    variants: {a: a, b: b, c: c}
    default: c
    rules:
      - name: eu
        when: {attr: country, op: in, values: [DE, FR]}
        serve: {split: {a: 1, b: 1}}
  killed:
    type: boolean
    variants: {on: true, off: false}
    default: on
    enabled: false
    offVariant: off
    rules:
      - name: everyone
        when: {attr: targetingKey, op: exists}
        serve: on
  killed-no-off:
    type: string
    variants: {x: x, y: y}
    default: y
    enabled: false
    rules:
      - name: everyone
        when: {attr: targetingKey, op: exists}
        serve: x
  killed-split:
    type: string
    variants: {x: x, y: y}
    default: {split: {x: 1, y: 1}}
    enabled: false
    offVariant: y
  canary:
    type: boolean
    variants: {on: true, off: false}
    default: off
    rules:
      - name: staff
        when: {attr: staff, op: eq, value: true}
        serve: off
    rollout:
      strategy: canary
      serve: on
      stages:
        - {percentage: 10, duration: 1h}
        - {percentage: 50, duration: 2h}
        - {percentage: 100}
  direct:
    type: boolean
    variants: {on: true, off: false}
    default: off
    rollout: {strategy: direct, serve: on}
  scheduled:
    type: boolean
    variants: {on: true, off: false}
    default: off
    rollout: {strategy: scheduled, serve: on, start: '2025-06-01T00:00:00Z', end: '2025-07-01T00:00:00Z'}
  by-segment:
    type: boolean
    variants: {on: true, off: false}
    default: off
    rollout: {strategy: segment, serve: on, segments: [beta]}
  linear:
    type: boolean
    variants: {on: true, off: false}
    default: off
    rollout: {strategy: linear, serve: on, from: 20, to: 100, over: 10h}
  split-and-rollout:
    type: string
    variants: {a: a, b: b, new: new}
    default: {split: {a: 1, b: 1}}
    offVariant: a
    rollout: {strategy: canary, serve: new, stages: [{percentage: 30}]}
";

#[test]
fn static_default_and_targeting_match() {
    let rs = compile(REASONS);
    assert_eq!(
        eval(&rs, "static", json!({})).unwrap(),
        Out {
            variant: "a".into(),
            value: json!("alpha"),
            reason: Reason::Static,
            rule: None
        }
    );
    assert_eq!(
        eval(&rs, "targeted", json!({"email": "ann@example.com"})).unwrap(),
        out("on", Reason::TargetingMatch, Some("staff"))
    );
    assert_eq!(
        eval(&rs, "targeted", json!({"email": "ann@example.org"})).unwrap(),
        out("off", Reason::Default, None)
    );
    assert_eq!(
        eval(&rs, "targeted", json!({})).unwrap(),
        out("off", Reason::Default, None)
    );
    let wire: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        wire,
        [
            "STATIC",
            "DEFAULT",
            "TARGETING_MATCH",
            "SPLIT",
            "DISABLED",
            "ROLLOUT"
        ]
    );
}

#[test]
fn split_reason_and_buckets() {
    let rs = compile(REASONS);
    for i in 0..200 {
        let key = format!("user-{i}");
        let b = bucket_for("static-split", &key);
        let expected = if b < 50_000 { "a" } else { "b" };
        let env_ctx = json!({"targetingKey": key});
        let o = eval(&rs, "static-split", env_ctx.clone()).unwrap();
        // A flag with no rules whose default is a split: SPLIT, not STATIC.
        assert_eq!(o, out(expected, Reason::Split, None), "{key}");
        let ev = rs
            .evaluate("static-split", &ctx(env_ctx), &EvalEnv::now())
            .unwrap();
        assert_eq!(ev.split_bucket, Some(b));
        // A rule serving a split: SPLIT with the rule's name; salt = flag key.
        let b = bucket_for("rule-split", &key);
        let expected = if b < 50_000 { "a" } else { "b" };
        let o = eval(
            &rs,
            "rule-split",
            json!({"targetingKey": key, "country": "FR"}),
        )
        .unwrap();
        assert_eq!(o, out(expected, Reason::Split, Some("eu")), "{key}");
        let o = eval(
            &rs,
            "rule-split",
            json!({"targetingKey": key, "country": "US"}),
        )
        .unwrap();
        assert_eq!(o, out("c", Reason::Default, None), "{key}");
    }
}

#[test]
fn disabled_serves_off_variant_before_anything_else() {
    let rs = compile(REASONS);
    for c in [json!({"targetingKey": "u-1"}), json!({})] {
        assert_eq!(
            eval(&rs, "killed", c.clone()).unwrap(),
            out("off", Reason::Disabled, None)
        );
        // Without offVariant: the default variant.
        assert_eq!(
            eval(&rs, "killed-no-off", c.clone()).unwrap(),
            out("y", Reason::Disabled, None)
        );
        // A split default needs no key when the flag is off.
        assert_eq!(
            eval(&rs, "killed-split", c).unwrap(),
            out("y", Reason::Disabled, None)
        );
    }
}

#[test]
fn rollout_reasons_for_every_strategy() {
    let rs = compile(REASONS);
    // canary: first stage 10 % (InitialRollouts), salt "canary:rollout"
    let inside = key_where("canary:rollout", |b| b < 10_000);
    let later = key_where("canary:rollout", |b| (10_000..50_000).contains(&b));
    let never = key_where("canary:rollout", |b| b >= 99_000);
    assert_eq!(
        eval(&rs, "canary", json!({"targetingKey": inside})).unwrap(),
        out("on", Reason::Rollout, None)
    );
    assert_eq!(
        eval(&rs, "canary", json!({"targetingKey": later})).unwrap(),
        out("off", Reason::Default, None)
    );
    let stage2 = FixedRollouts(50_000);
    assert_eq!(
        eval_with(&rs, "canary", json!({"targetingKey": later}), NOW, &stage2).unwrap(),
        out("on", Reason::Rollout, None)
    );
    assert_eq!(
        eval_with(&rs, "canary", json!({"targetingKey": never}), NOW, &stage2).unwrap(),
        out("off", Reason::Default, None)
    );
    assert_eq!(
        eval_with(
            &rs,
            "canary",
            json!({"targetingKey": never}),
            NOW,
            &FixedRollouts(100_000)
        )
        .unwrap(),
        out("on", Reason::Rollout, None)
    );
    assert_eq!(
        eval_with(
            &rs,
            "canary",
            json!({"targetingKey": inside}),
            NOW,
            &FixedRollouts(0)
        )
        .unwrap(),
        out("off", Reason::Default, None)
    );
    // A rule comes before the rollout.
    assert_eq!(
        eval(
            &rs,
            "canary",
            json!({"targetingKey": inside, "staff": true})
        )
        .unwrap(),
        out("off", Reason::TargetingMatch, Some("staff"))
    );
    // No bucketing key: never inside a percentage rollout, and no error.
    assert_eq!(
        eval_with(&rs, "canary", json!({}), NOW, &FixedRollouts(100_000)).unwrap(),
        out("off", Reason::Default, None)
    );
    // The stage reported by FixedRollouts follows the threshold.
    let ev = rs
        .evaluate(
            "canary",
            &ctx(json!({"targetingKey": later})),
            &EvalEnv {
                now: ts(NOW),
                rollouts: &stage2,
            },
        )
        .unwrap();
    let outcome = ev.rollout.expect("rollout consulted");
    assert_eq!(outcome.position.stage, Some(1));
    assert_eq!(outcome.bucket, Some(bucket_for("canary:rollout", &later)));
    assert!(outcome.inside);

    // direct: everyone.
    assert_eq!(
        eval(&rs, "direct", json!({"targetingKey": never})).unwrap(),
        out("on", Reason::Rollout, None)
    );
    // The code serves `direct` even without a key (docs/flag-format.md §11: `direct`
    // serves everyone); no hashing is involved.
    assert_eq!(
        eval(&rs, "direct", json!({})).unwrap(),
        out("on", Reason::Rollout, None)
    );

    // scheduled: inside the window [start, end).
    for (now, inside) in [
        ("2025-05-31T23:59:59Z", false),
        ("2025-06-01T00:00:00Z", true),
        ("2025-06-30T23:59:59Z", true),
        ("2025-07-01T00:00:00Z", false),
    ] {
        let o = eval_with(
            &rs,
            "scheduled",
            json!({"targetingKey": "u"}),
            now,
            &InitialRollouts,
        )
        .unwrap();
        let expected = if inside {
            out("on", Reason::Rollout, None)
        } else {
            out("off", Reason::Default, None)
        };
        assert_eq!(o, expected, "scheduled at {now}");
    }

    // segment: members of the listed segments.
    assert_eq!(
        eval(
            &rs,
            "by-segment",
            json!({"targetingKey": "u", "role": "beta"})
        )
        .unwrap(),
        out("on", Reason::Rollout, None)
    );
    assert_eq!(
        eval(
            &rs,
            "by-segment",
            json!({"targetingKey": "u", "role": "ga"})
        )
        .unwrap(),
        out("off", Reason::Default, None)
    );

    // linear: starts at `from` (20 %).
    let lin_in = key_where("linear:rollout", |b| b < 20_000);
    let lin_out = key_where("linear:rollout", |b| b >= 20_000);
    assert_eq!(
        eval(&rs, "linear", json!({"targetingKey": lin_in})).unwrap(),
        out("on", Reason::Rollout, None)
    );
    assert_eq!(
        eval(&rs, "linear", json!({"targetingKey": lin_out})).unwrap(),
        out("off", Reason::Default, None)
    );
}

#[test]
fn outside_the_rollout_a_split_default_still_splits() {
    let rs = compile(REASONS);
    let inside = key_where("split-and-rollout:rollout", |b| b < 30_000);
    let outside = key_where("split-and-rollout:rollout", |b| b >= 30_000);
    let all = FixedRollouts(30_000);
    assert_eq!(
        eval_with(
            &rs,
            "split-and-rollout",
            json!({"targetingKey": inside}),
            NOW,
            &all
        )
        .unwrap(),
        out("new", Reason::Rollout, None)
    );
    let b = bucket_for("split-and-rollout", &outside);
    let expected = if b < 50_000 { "a" } else { "b" };
    assert_eq!(
        eval_with(
            &rs,
            "split-and-rollout",
            json!({"targetingKey": outside}),
            NOW,
            &all
        )
        .unwrap(),
        out(expected, Reason::Split, None)
    );
    // Without a key: not inside the rollout, and only the split could place it.
    assert_eq!(
        eval_with(&rs, "split-and-rollout", json!({"plan": "x"}), NOW, &all),
        Err(EvalError::TargetingKeyMissing)
    );
}

#[test]
fn both_eval_errors() {
    let rs = compile(REASONS);
    let e = eval(&rs, "no-such-flag", json!({"targetingKey": "u"})).unwrap_err();
    assert_eq!(e, EvalError::FlagNotFound);
    assert_eq!(e.code(), "FLAG_NOT_FOUND");

    let e = eval(&rs, "static-split", json!({})).unwrap_err();
    assert_eq!(e, EvalError::TargetingKeyMissing);
    assert_eq!(e.code(), "TARGETING_KEY_MISSING");
    // null is missing
    assert_eq!(
        eval(&rs, "static-split", json!({"targetingKey": null})),
        Err(EvalError::TargetingKeyMissing)
    );
    // a rule's split, too
    assert_eq!(
        eval(&rs, "rule-split", json!({"country": "DE"})),
        Err(EvalError::TargetingKeyMissing)
    );
    // but not when a variant is served without needing the key
    assert_eq!(
        eval(&rs, "rule-split", json!({"country": "US"})).unwrap(),
        out("c", Reason::Default, None)
    );
    assert_eq!(
        eval(&rs, "targeted", json!({})).unwrap(),
        out("off", Reason::Default, None)
    );
}

// ---------------------------------------------------------------- keys

#[test]
fn user_id_is_an_alias_of_targeting_key() {
    let rs = compile(&format!(
        "{SEGMENTS}{}{}",
        rule_flag("by-key-attr", "{attr: targetingKey, op: eq, value: u-5}"),
        "  split:\n    type: string\n    variants: {a: a, b: b, c: c}\n    default: {split: {a: 1, b: 1, c: 1}}\n    offVariant: a\n"
    ));
    assert!(holds(&rs, "by-key-attr", &json!({"userId": "u-5"})));
    assert!(holds(&rs, "by-key-attr", &json!({"targetingKey": "u-5"})));
    assert!(!holds(&rs, "by-key-attr", &json!({"userId": "u-6"})));
    // targetingKey wins over userId
    assert!(!holds(
        &rs,
        "by-key-attr",
        &json!({"targetingKey": "u-6", "userId": "u-5"})
    ));
    assert!(holds(
        &rs,
        "by-key-attr",
        &json!({"targetingKey": null, "userId": "u-5"})
    ));
    for i in 0..100 {
        let key = format!("k{i}");
        let via_alias = eval(&rs, "split", json!({"userId": key})).unwrap();
        let via_key = eval(&rs, "split", json!({"targetingKey": key})).unwrap();
        assert_eq!(via_alias, via_key);
        let both = eval(
            &rs,
            "split",
            json!({"targetingKey": key, "userId": "other"}),
        )
        .unwrap();
        assert_eq!(both, via_key);
    }
    // A targetingKey must be a string or a number.
    for bad in [json!(true), json!(["u"]), json!({"id": "u"})] {
        assert!(Context::from_json(json!({"targetingKey": bad.clone()})).is_err());
        assert!(Context::from_json(json!({"userId": bad})).is_err());
    }
}

const BUCKET_BY: &str = "
flags:
  by-account:
    type: string
    variants: {a: a, b: b}
    default: {split: {a: 50, b: 50}}
    offVariant: a
    bucketBy: accountId
  account-rollout:
    type: boolean
    variants: {on: true, off: false}
    default: off
    bucketBy: accountId
    rollout: {strategy: canary, serve: on, stages: [{percentage: 50}]}
";

#[test]
fn bucket_by_a_custom_attribute() {
    let rs = compile(BUCKET_BY);
    let split_bucket = |c: Value| {
        rs.evaluate("by-account", &ctx(c), &EvalEnv::now())
            .map(|ev| (ev.split_bucket, ev.variant_name().to_owned(), ev.reason))
    };
    let cases: &[(Value, &str)] = &[
        (json!("acct-1"), "acct-1"),
        (json!(12345), "12345"),
        (json!(-7), "-7"),
        (json!(1.5), "1.5"),
        (json!(u64::MAX), "18446744073709551615"),
        (json!(""), ""),
    ];
    for (value, text) in cases {
        let b = bucket_for("by-account", text);
        let expected = if b < 50_000 { "a" } else { "b" };
        // The targetingKey is ignored: the flag buckets by accountId.
        for key in ["u-1", "u-2"] {
            assert_eq!(
                split_bucket(json!({"targetingKey": key, "accountId": value})),
                Ok((Some(b), expected.to_owned(), Reason::Split)),
                "accountId {value}"
            );
        }
        // A number buckets like its JSON text as a string.
        assert_eq!(
            split_bucket(json!({"accountId": value})),
            split_bucket(json!({"accountId": text})),
            "{value} vs {text:?}"
        );
    }
    // No accountId: only the split could place the context.
    for c in [
        json!({"targetingKey": "u-1"}),
        json!({"accountId": null}),
        json!({"accountId": true}),
        json!({"accountId": ["acct-1"]}),
        json!({"accountId": {"id": 1}}),
    ] {
        assert_eq!(
            split_bucket(c.clone()),
            Err(EvalError::TargetingKeyMissing),
            "{c}"
        );
    }

    // Rollouts bucket by the same attribute, salt "<flag>:rollout".
    for value in [json!("acct-1"), json!(12345), json!(2.25)] {
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let b = bucket_for("account-rollout:rollout", &text);
        let c = json!({"targetingKey": "ignored", "accountId": value});
        let at = |t: u32| eval_with(&rs, "account-rollout", c.clone(), NOW, &FixedRollouts(t));
        assert_eq!(at(b).unwrap(), out("off", Reason::Default, None), "{value}");
        assert_eq!(
            at(b + 1).unwrap(),
            out("on", Reason::Rollout, None),
            "{value}"
        );
    }
    // Without the attribute, a targetingKey does not put anyone inside.
    assert_eq!(
        eval_with(
            &rs,
            "account-rollout",
            json!({"targetingKey": "u-1"}),
            NOW,
            &FixedRollouts(100_000)
        )
        .unwrap(),
        out("off", Reason::Default, None)
    );
}

#[test]
fn the_ruleset_version_is_reported() {
    let rs = compile(REASONS);
    assert_eq!(rs.version(), "v-test");
}
