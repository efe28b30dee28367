//! `flagctl rollout status|pause|resume|promote|abort [FLAG] [--daemon URL] [--token T]`
//!
//! `--daemon` is optional: `$FLAGCTL_DAEMON`, else `http://127.0.0.1:8013`.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::Value;

use crate::cli::OutputFormat;
use crate::output;
use crate::{Failure, Outcome};

/// `flagctl rollout`
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: RolloutAction,

    /// The flagd to talk to.
    #[arg(
        long,
        global = true,
        env = "FLAGCTL_DAEMON",
        default_value = "http://127.0.0.1:8013",
        value_name = "URL"
    )]
    pub daemon: String,

    /// Bearer token for flagd's API (when it requires one).
    #[arg(
        long,
        global = true,
        env = "FLAGCTL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// Output for people (table) or scripts (json).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Rollout steering.
#[derive(Debug, Subcommand)]
pub enum RolloutAction {
    /// Show every rollout, or one in detail.
    Status {
        /// A flag key (default: all rollouts).
        flag: Option<String>,
    },
    /// Hold a rollout where it is.
    Pause {
        /// The flag key.
        flag: String,
    },
    /// Continue a paused rollout.
    Resume {
        /// The flag key.
        flag: String,
    },
    /// Move to the next stage now (with --full: to 100 %).
    Promote {
        /// The flag key.
        flag: String,
        /// Go straight to the last stage.
        #[arg(long)]
        full: bool,
    },
    /// Roll back to 0 % until the rollout spec changes.
    Abort {
        /// The flag key.
        flag: String,
    },
}

pub fn run(args: &RolloutArgs) -> Result<Outcome, Failure> {
    let base = args.daemon.trim_end_matches('/');
    let (method, path) = match &args.action {
        RolloutAction::Status { flag: None } => ("GET", "/api/v1/rollouts".to_owned()),
        RolloutAction::Status { flag: Some(f) } => ("GET", format!("/api/v1/rollouts/{f}")),
        RolloutAction::Pause { flag } => ("POST", format!("/api/v1/rollouts/{flag}/pause")),
        RolloutAction::Resume { flag } => ("POST", format!("/api/v1/rollouts/{flag}/resume")),
        RolloutAction::Promote { flag, full } => (
            "POST",
            format!("/api/v1/rollouts/{flag}/promote?full={full}"),
        ),
        RolloutAction::Abort { flag } => ("POST", format!("/api/v1/rollouts/{flag}/abort")),
    };
    let (status, body) = request(method, &format!("{base}{path}"), args.token.as_deref())?;
    if !(200..300).contains(&status) {
        let message = body["error"]["message"]
            .as_str()
            .map_or_else(|| body.to_string(), str::to_owned);
        return match args.format {
            OutputFormat::Json => {
                output::print_json(&body);
                Ok(Outcome::Findings)
            }
            OutputFormat::Table => Err(Failure::Findings(format!(
                "error: {message} (HTTP {status})"
            ))),
        };
    }
    match args.format {
        OutputFormat::Json => output::print_json(&body),
        OutputFormat::Table => match body.get("rollouts").and_then(Value::as_array) {
            Some(list) => print_list(list),
            None => print_one(&body),
        },
    }
    Ok(Outcome::Ok)
}

/// One HTTP call on a small runtime of its own (flagctl is otherwise synchronous).
fn request(method: &str, url: &str, token: Option<&str>) -> anyhow::Result<(u16, Value)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = hotswap_flags::client::client().map_err(anyhow::Error::msg)?;
        let mut req = match method {
            "POST" => client.post(url),
            _ => client.get(url),
        }
        .timeout(std::time::Duration::from_secs(10));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach flagd at {url}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.context("reading flagd's answer")?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, body))
    })
}

fn stage(r: &Value) -> String {
    match (r["stage"].as_u64(), r["stages"].as_u64()) {
        (Some(s), Some(n)) => format!("{}/{n}", s + 1),
        _ => "–".into(),
    }
}

fn checks(r: &Value) -> String {
    let list = r["checks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if list.is_empty() {
        return "–".into();
    }
    list.iter()
        .map(|c| {
            let value = c["value"]
                .as_f64()
                .map_or_else(|| "no data".to_owned(), |v| format!("{v:.4}"));
            format!(
                "{} {} ({})",
                c["name"].as_str().unwrap_or("?"),
                value,
                c["outcome"].as_str().unwrap_or("?")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| "–".into(), str::to_owned)
}

fn print_list(list: &[Value]) {
    if list.is_empty() {
        println!("no rollouts");
        return;
    }
    let header = [
        "flag",
        "strategy",
        "phase",
        "stage",
        "percentage",
        "stage ends",
        "checks",
    ]
    .map(String::from)
    .to_vec();
    let rows = std::iter::once(header).chain(list.iter().map(|r| {
        vec![
            text(&r["flag"]),
            text(&r["strategy"]),
            text(&r["phase"]),
            stage(r),
            format!("{}%", r["percentage"]),
            text(&r["stageEndsAt"]),
            checks(r),
        ]
    }));
    println!("{}", output::table(rows));
}

fn print_one(r: &Value) {
    if r.get("flag").is_none() {
        println!("{r}");
        return;
    }
    println!(
        "{}",
        output::fields([
            ("flag", text(&r["flag"])),
            ("strategy", text(&r["strategy"])),
            ("phase", text(&r["phase"])),
            ("stage", stage(r)),
            ("percentage", format!("{}%", r["percentage"])),
            ("serves", text(&r["serve"])),
            ("started", text(&r["startedAt"])),
            ("stage started", text(&r["stageStartedAt"])),
            ("stage ends", text(&r["stageEndsAt"])),
            (
                "checks",
                format!(
                    "{} passed, {} failed (limit {})",
                    r["checksPassed"], r["checksFailed"], r["failureLimit"]
                ),
            ),
            ("reason", text(&r["reason"])),
        ])
    );
    if let Some(list) = r["checks"].as_array().filter(|l| !l.is_empty()) {
        let header = ["check", "value", "outcome", "at", "message"]
            .map(String::from)
            .to_vec();
        let rows = std::iter::once(header).chain(list.iter().map(|c| {
            vec![
                text(&c["name"]),
                c["value"]
                    .as_f64()
                    .map_or_else(|| "–".into(), |v| v.to_string()),
                text(&c["outcome"]),
                text(&c["at"]),
                text(&c["message"]),
            ]
        }));
        println!("\n{}", output::table(rows));
    }
}
