//! Tracing's options (docs/observability.md): each `--otlp-*`/`--otel-*`
//! option, else the standard `OTEL_*` variable every OpenTelemetry
//! component reads, else the default. Off unless an endpoint is given
//! one way or the other (and not with `OTEL_SDK_DISABLED=true`).

use anyhow::{Context as _, bail};
use hotswap_flags_daemon::telemetry::{ExportProtocol, Sampling, TraceConfig};

use super::args::Args;

/// The trace export `args` and the environment (`var`) ask for, if any.
pub(super) fn trace_config(
    args: &Args,
    env: &str,
    var: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<TraceConfig>> {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let Some(endpoint) = endpoint(args, &var)? else {
        if args.otel_context_id {
            bail!("--otel-context-id goes with tracing: give --otlp-endpoint");
        }
        return Ok(None);
    };
    if disabled {
        return Ok(None);
    }
    let protocol = args
        .otlp_protocol
        .clone()
        .or_else(|| var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
        .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .map_or(Ok(ExportProtocol::HttpProtobuf), |p| p.trim().parse())
        .context("--otlp-protocol")?;
    let sampler = args
        .otel_sampler
        .clone()
        .or_else(|| var("OTEL_TRACES_SAMPLER"));
    let sampler_arg = args
        .otel_sampler_arg
        .clone()
        .or_else(|| var("OTEL_TRACES_SAMPLER_ARG"));
    let sampling = match &sampler {
        Some(name) => Sampling::parse(name, sampler_arg.as_deref()).context("--otel-sampler")?,
        None => Sampling::default(),
    };
    Ok(Some(TraceConfig {
        endpoint,
        protocol,
        service_name: args
            .otel_service_name
            .clone()
            .or_else(|| var("OTEL_SERVICE_NAME"))
            .unwrap_or_else(|| "flagd".to_owned()),
        sampling,
        context_id: args.otel_context_id,
        env: env.to_owned(),
    }))
}

/// The traces URL: `--otlp-endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT`
/// with `/v1/traces` appended, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as
/// it is (the specification's rule for the signal's own variable).
fn endpoint(args: &Args, var: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<String>> {
    let (url, option) = match (
        &args.otlp_endpoint,
        var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    ) {
        (Some(base), _) => (traces_url(base), "--otlp-endpoint"),
        (None, Some(full)) => (full, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        (None, None) => match var("OTEL_EXPORTER_OTLP_ENDPOINT") {
            Some(base) => (traces_url(&base), "OTEL_EXPORTER_OTLP_ENDPOINT"),
            None => return Ok(None),
        },
    };
    let url = url.trim().to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.parse::<reqwest::Url>().is_err()
    {
        bail!("{option} {url}: an http:// or https:// URL");
    }
    Ok(Some(url))
}

/// `base` with the traces path appended, as OTLP/HTTP names it.
fn traces_url(base: &str) -> String {
    format!("{}/v1/traces", base.trim().trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn resolve(args: &[&str], vars: &[(&str, &str)]) -> anyhow::Result<Option<TraceConfig>> {
        use clap::Parser as _;
        let argv = std::iter::once("flagd").chain(args.iter().copied());
        let args = Args::try_parse_from(argv)?;
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        trace_config(&args, "prod", |name| vars.get(name).cloned())
    }

    #[test]
    fn off_unless_an_endpoint_is_given() {
        assert_eq!(resolve(&[], &[]).unwrap(), None);
        assert!(resolve(&["--otel-context-id"], &[]).is_err());
        let off = resolve(
            &[],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_SDK_DISABLED", "true"),
            ],
        );
        assert_eq!(off.unwrap(), None);
    }

    #[test]
    fn options_over_variables_over_defaults() {
        let c = resolve(&[], &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")])
            .unwrap()
            .unwrap();
        assert_eq!(c.endpoint, "http://c:4318/v1/traces");
        assert_eq!(c.service_name, "flagd");
        assert_eq!(c.protocol, ExportProtocol::HttpProtobuf);
        assert_eq!(c.sampling, Sampling::default());
        assert!(!c.context_id);

        let c = resolve(
            &[
                "--otlp-endpoint",
                "http://a:4318",
                "--otel-sampler-arg",
                "0.5",
            ],
            &[
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b/traces"),
                ("OTEL_SERVICE_NAME", "flags"),
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.01"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "http://a:4318/v1/traces");
        assert_eq!((c.service_name.as_str(), c.sampling.ratio), ("flags", 0.5));
        assert_eq!(c.protocol, ExportProtocol::HttpJson);

        let c = resolve(
            &[],
            &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b/traces")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "http://b/traces");
    }

    #[test]
    fn bad_values_say_which_option() {
        let grpc = resolve(
            &["--otlp-endpoint", "http://a", "--otlp-protocol", "grpc"],
            &[],
        );
        assert!(format!("{:#}", grpc.unwrap_err()).contains("http/protobuf"));
        let url = resolve(&["--otlp-endpoint", "collector:4318"], &[]);
        assert!(format!("{:#}", url.unwrap_err()).starts_with("--otlp-endpoint"));
        let ratio = resolve(
            &[
                "--otlp-endpoint",
                "http://a",
                "--otel-sampler",
                "traceidratio",
                "--otel-sampler-arg",
                "x",
            ],
            &[],
        );
        assert!(ratio.is_err());
    }
}
