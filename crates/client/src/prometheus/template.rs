//! Query templates: `{{name}}` placeholders filled per flag, variant and
//! stage. The rollout health checks and the experiment conversions queries
//! share them, so a template means the same in `flags.toml`, flagd and
//! flagctl.

/// The values substituted into query templates.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateVars<'a> {
    /// The flag key.
    pub flag: &'a str,
    /// The variant being rolled out.
    pub variant: &'a str,
    /// The stage number, from 1.
    pub stage: u32,
    /// The live percentage.
    pub percentage: f64,
}

/// Fills `{{flag}}`, `{{variant}}`, `{{stage}}` and `{{percentage}}`
/// (spaces inside the braces allowed). Unknown placeholders were refused at
/// validation, so they are left as they are.
pub fn render(template: &str, vars: &TemplateVars<'_>) -> String {
    render_with(template, |name| match name {
        "flag" => Some(vars.flag.to_owned()),
        "variant" => Some(vars.variant.to_owned()),
        "stage" => Some(vars.stage.to_string()),
        "percentage" => Some(vars.percentage.to_string()),
        _ => None,
    })
}

/// Fills each `{{name}}` (spaces inside the braces allowed) with
/// `value(name)`; placeholders it does not know are left as they are.
pub fn render_with(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match value(after[..end].trim()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let vars = TemplateVars {
            flag: "checkout",
            variant: "on",
            stage: 2,
            percentage: 12.5,
        };
        assert_eq!(
            render(
                "rate(x{flag=\"{{flag}}\",v=\"{{ variant }}\"}[1m]) * {{stage}} / {{percentage}} {{",
                &vars
            ),
            "rate(x{flag=\"checkout\",v=\"on\"}[1m]) * 2 / 12.5 {{"
        );
    }
}
