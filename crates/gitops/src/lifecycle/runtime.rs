//! Evidence from a running system (docs/lifecycle.md, "Evidence"): the
//! rollouts flagd runs, and the evaluations counted by environment, flag
//! and variant — by Prometheus over the window, or by flagd since it
//! started.

use std::collections::BTreeMap;

use serde_json::Value;

use super::evidence::RolloutEvidence;
use super::stale::RuntimeEvidence;
use hotswap_flags_client::flagd::{FlagdClient, FlagdError};
use hotswap_flags_client::prometheus::client::{Prometheus, QueryError};
use hotswap_flags_client::wire::Phase;
use hotswap_flags_core::model::DurationSpec;

/// Why the running system could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// flagd did not answer as expected.
    #[error(transparent)]
    Flagd(#[from] FlagdError),
    /// Prometheus could not be asked.
    #[error("asking Prometheus for evaluations: {0}")]
    Prometheus(#[from] QueryError),
    /// Prometheus answered, but not with a vector.
    #[error("Prometheus answered `{query}` with {answer}")]
    BadAnswer {
        /// The query.
        query: String,
        /// What came back, in short.
        answer: String,
    },
}

/// The rollouts of the flagd at `client`, and the evaluations it counted
/// since it started (when it says when that was), filed under the
/// environment it serves.
pub async fn from_flagd(client: &FlagdClient) -> Result<RuntimeEvidence, RuntimeError> {
    let served = client.served().await?;
    let env = served.env;
    let list = client.rollouts().await?;
    let counted = match served.started_at {
        Some(since) => client.evaluations().await?.map(|counts| (since, counts)),
        None => None,
    };
    let rollouts = list
        .rollouts
        .into_iter()
        .map(|r| {
            let completed = r.phase == Phase::Completed;
            let evidence = RolloutEvidence {
                phase: r.phase.as_str().to_owned(),
                serve: r.serve,
                percentage: r.percentage,
                completed_at: completed.then_some(r.stage_started_at),
            };
            (r.flag, evidence)
        })
        .collect();
    let (evaluations_since, evaluations) = match counted {
        Some((since, counts)) => {
            let by_flag = counts
                .into_iter()
                .map(|(flag, by_variant)| {
                    let counted = by_variant
                        .into_iter()
                        .filter(|(_, n)| *n > 0)
                        .map(|(variant, n)| (variant, n as f64))
                        .collect();
                    (flag, counted)
                })
                .filter(|(_, counted): &(String, BTreeMap<String, f64>)| !counted.is_empty())
                .collect();
            (Some(since), BTreeMap::from([(env.clone(), by_flag)]))
        }
        None => (None, BTreeMap::new()),
    };
    Ok(RuntimeEvidence {
        source: format!("flagd {}", client.base()),
        rollouts: BTreeMap::from([(env, rollouts)]),
        evaluations,
        evaluations_since,
    })
}

/// The PromQL counting evaluations over `window` by environment, flag and
/// variant: flagd's `flagd_evaluations_total`, labelled with the
/// environment of the ruleset each flagd serves (`flagd_ruleset_info`).
pub fn evaluations_query(window: &DurationSpec) -> String {
    let secs = window.get().as_secs().max(1);
    format!(
        "sum by (env, flag, variant) (increase(flagd_evaluations_total[{secs}s]) * on (instance, job) group_left (env) flagd_ruleset_info)"
    )
}

/// Evaluations over `window` from the Prometheus at `base`. An environment
/// with no series at all is left out (nothing known); a flag missing from
/// an environment that has series was not evaluated there.
pub async fn from_prometheus(
    prometheus: &Prometheus,
    base: &str,
    window: &DurationSpec,
) -> Result<RuntimeEvidence, RuntimeError> {
    let query = evaluations_query(window);
    let answer = prometheus.instant_json(base, &query).await?;
    let evaluations = read_vector(&answer).ok_or_else(|| RuntimeError::BadAnswer {
        query: query.clone(),
        answer: short(&answer),
    })?;
    Ok(RuntimeEvidence {
        source: format!("Prometheus {}", base.trim_end_matches('/')),
        rollouts: BTreeMap::new(),
        evaluations,
        evaluations_since: None,
    })
}

type ByEnv = BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>;

/// `{"status":"success","data":{"resultType":"vector","result":[…]}}` as
/// counts by env, flag and variant; `None` for anything else.
fn read_vector(answer: &Value) -> Option<ByEnv> {
    if answer["status"] != "success" || answer["data"]["resultType"] != "vector" {
        return None;
    }
    let mut out = ByEnv::new();
    for series in answer["data"]["result"].as_array()? {
        let label = |name: &str| series["metric"][name].as_str().map(str::to_owned);
        let (Some(env), Some(flag), Some(variant)) =
            (label("env"), label("flag"), label("variant"))
        else {
            continue;
        };
        let value: f64 = series["value"][1].as_str()?.parse().ok()?;
        let by_flag = out.entry(env).or_default();
        if value >= 0.5 {
            *by_flag.entry(flag).or_default().entry(variant).or_default() += value;
        }
    }
    Some(out)
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        format!("{}…", &s[..s.floor_char_boundary(200)])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vectors_by_env_flag_and_variant() {
        let answer = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"env": "prod", "flag": "a", "variant": "on"}, "value": [1, "12.5"]},
            {"metric": {"env": "prod", "flag": "a", "variant": "off"}, "value": [1, "3"]},
            {"metric": {"env": "prod", "flag": "b", "variant": "on"}, "value": [1, "0"]},
        ]}});
        let by_env = read_vector(&answer).unwrap();
        assert_eq!(by_env["prod"]["a"]["on"], 12.5);
        assert_eq!(by_env["prod"]["a"].len(), 2);
        // Present with nothing counted: not evaluated.
        assert!(!by_env["prod"].contains_key("b"));
        assert!(read_vector(&json!({"status": "error"})).is_none());
    }
}
