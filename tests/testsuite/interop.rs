//! A real OpenFeature client against the real flagd: the Node SDK
//! (`@openfeature/server-sdk`) with the OFREP provider, pinned by
//! tests/interop/package-lock.json and installed by `npm ci` (scripts/test.sh).

use std::path::Path;
use std::process::Command;

use crate::support::flagd::*;
use crate::support::require_that;

#[test]
fn openfeature_node_sdk_evaluates_every_type_over_ofrep() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let Some(node) = require("node") else { return };
    let Some(()) = require_that(
        interop
            .join("node_modules/@openfeature/ofrep-provider")
            .is_dir(),
        "tests/interop has no node_modules (run `npm ci` there; scripts/test.sh does)",
    ) else {
        return;
    };
    let flags = std::fs::read_to_string(interop.join("flags.yaml")).unwrap();
    let repo = TempRepo::new(&[("envs/prod/flags.yaml", &flags)]);
    let d = Daemon::on_repo(&repo, &[]);
    d.wait_ready();

    let out = Command::new(node)
        .arg("ofrep.mjs")
        .arg(&d.base)
        .current_dir(&interop)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "node failed:\n{stdout}\n{stderr}\nflagd:\n{}",
        d.logs()
    );
    assert!(
        stdout.contains("ok: 16 OpenFeature checks passed"),
        "{stdout}"
    );
}
