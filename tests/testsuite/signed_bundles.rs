//! Signed bundles end to end: `flagctl keygen`, `flagctl bundle --sign-key`,
//! and the real flagd with `--bundle-public-key` refusing unsigned, tampered
//! and foreign bundles while the last good ruleset keeps serving — visible in
//! `/api/v1/ruleset` and `/metrics`. Plus the documented signed message,
//! checked with OpenSSL as a tool other than ours would.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::files::run_ok;
use crate::support::flagd::*;
use crate::support::gitops::flagctl;
use hotswap_flags_core::bundle::{Bundle, content_hash};
use serde_json::{Value, json};

/// `flagctl keygen -o PRIVATE` (the public key goes next to it).
fn keygen_to(private: &Path) -> assert_cmd::Command {
    let mut cmd = flagctl(Path::new("."));
    cmd.arg("keygen").arg("-o").arg(private);
    cmd
}

/// `flagctl keygen -o DIR/NAME`, returning (private, public) paths.
fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(name);
    keygen_to(&private).assert().success();
    let public = dir.join(format!("{name}.pub"));
    (private, public)
}

/// Bundles `repo` into the file `name` inside it, signed with `key` if
/// given, and returns the file's path.
fn bundled(repo: &TempRepo, name: &str, key: Option<&Path>) -> PathBuf {
    let file = repo.path().join(name);
    bundle(repo, &file, key);
    file
}

#[test]
fn keygen_writes_a_private_and_a_public_key_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("signing.key");
    let out = run_ok(keygen_to(&private).args(["--format", "json"]));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["algorithm"], "ed25519");
    assert_eq!(report["keyId"].as_str().unwrap().len(), 16);
    let private_pem = std::fs::read_to_string(&private).unwrap();
    let public = dir.path().join("signing.key.pub");
    assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----\n")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&private), 0o600);
        assert_eq!(mode(&public), 0o644);
    }

    // A second keygen to the same place is refused, and changes nothing.
    keygen_to(&private)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    assert_eq!(std::fs::read_to_string(&private).unwrap(), private_pem);
    // So is one whose public half alone exists.
    std::fs::remove_file(&private).unwrap();
    keygen_to(&private)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("signing.key.pub already exists"));
    assert!(!private.exists());
}

#[test]
fn flagd_with_a_public_key_serves_only_bundles_signed_with_it() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "ci.key");
    let (stranger, _) = keygen(keys.path(), "stranger.key");
    let repo = TempRepo::with_banner("one");
    let file = bundled(&repo, "prod.bundle.json", Some(&private));
    let d = Daemon::prod(&[
        "--bundle",
        file.to_str().unwrap(),
        "--bundle-public-key",
        public.to_str().unwrap(),
    ]);
    d.await_value(DEADLINE, "banner", json!("one"));
    assert!(d.logs().contains("bundle signature verified"));

    // Each refusal: lastError says why, the counter has its reason, and
    // the last good ruleset keeps serving.
    let mut expected_failures = 0;
    let mut refused = |bytes: Vec<u8>, reason: &str, says: &str| {
        let before = d.get("/api/v1/ruleset").1["reloadsFailed"]
            .as_u64()
            .unwrap();
        replace_file(&file, &bytes);
        let status = eventually(DEADLINE, reason, || {
            let (_, s) = d.get("/api/v1/ruleset");
            (s["reloadsFailed"].as_u64().unwrap() > before).then_some(s)
        });
        let error = &status["lastError"];
        assert_eq!(error["signatureFailure"], reason, "{status}");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{status}"
        );
        expected_failures += 1;
        assert_eq!(status["signatureFailures"][reason], 1, "{status}");
        let metrics = d.get_text("/metrics");
        let series = format!("flagd_bundle_signature_failures_total{{reason=\"{reason}\"}}");
        assert_eq!(metric(&metrics, &series), Some(1.0), "{metrics}");
        assert_eq!(d.value("banner"), Some(json!("one")));
    };

    // Unsigned.
    repo.save_banner("two");
    let unsigned = bundled(&repo, "unsigned.json", None);
    refused(std::fs::read(&unsigned).unwrap(), "unsigned", "not signed");

    // Signed, then changed: content and content hash rewritten together.
    let signed = bundled(&repo, "signed.json", Some(&private));
    let mut tampered = Bundle::parse(&std::fs::read(&signed).unwrap()).unwrap();
    let flag = tampered.content.model.flags.get_mut("banner").unwrap();
    *flag.variants.get_mut("current").unwrap() = json!("evil");
    tampered.content_hash = content_hash(&tampered.content);
    refused(tampered.to_bytes(), "invalid", "does not verify");

    // Signed by a key flagd does not trust.
    let foreign = bundled(&repo, "foreign.json", Some(&stranger));
    refused(
        std::fs::read(&foreign).unwrap(),
        "unknown_key",
        "not trusted",
    );
    assert_eq!(expected_failures, 3);

    // Signed with the trusted key: served, and the error is cleared.
    replace_file(&file, &std::fs::read(&signed).unwrap());
    d.await_value(DEADLINE, "banner", json!("two"));
    let status = d.get("/api/v1/ruleset").1;
    assert!(status["lastError"].is_null(), "{status}");
    assert_eq!(
        metric(
            &d.get_text("/metrics"),
            "flagd_reloads_total{result=\"failure\"}"
        ),
        Some(3.0)
    );
}

#[test]
fn the_stored_copy_must_be_signed_too_and_signatures_are_optional_without_a_key() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "ci.key");
    let repo = TempRepo::with_banner("stored");
    let file = repo.path().join("prod.bundle.json");
    let (_state, state) = state_dir();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--env",
            "prod",
            "--bundle",
            file.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        Daemon::start(&args)
    };
    let with_key = ["--bundle-public-key", public.to_str().unwrap()];
    // The stored copy is written just after a load: wait for it.
    let stored = |signed: bool| {
        eventually(DEADLINE, "the stored copy", || {
            let bytes = std::fs::read(state.join("last-good.json")).ok()?;
            let stored: Value = serde_json::from_slice(&bytes).ok()?;
            (stored["signature"].is_object() == signed).then_some(stored)
        })
    };

    // A flagd without a key serves a signed bundle like any other.
    bundle(&repo, &file, Some(&private));
    let d = run(&[]);
    d.await_value(DEADLINE, "banner", json!("stored"));
    // The stored copy is the bundle as received, signature included, so a
    // flagd with the key serves it while the source is gone.
    assert!(stored(true)["signature"]["value"].is_string());
    drop(d);
    std::fs::remove_file(&file).unwrap();
    let d = run(&with_key);
    eventually(DEADLINE, "the signed stored copy", || {
        d.get("/api/v1/ruleset").1["offline"]
            .is_string()
            .then_some(())
    });
    assert_eq!(d.value("banner"), Some(json!("stored")));
    drop(d);

    // An unsigned stored copy (written before signatures were required) is
    // not served by a flagd that requires them.
    bundle(&repo, &file, None);
    let d = run(&[]);
    d.await_value(DEADLINE, "banner", json!("stored"));
    stored(false);
    drop(d);
    std::fs::remove_file(&file).unwrap();
    let d = run(&with_key);
    let logs = eventually(DEADLINE, "the refused stored copy", || {
        let logs = d.logs();
        logs.contains("no usable stored ruleset").then_some(logs)
    });
    assert!(logs.contains("not signed"), "{logs}");
    assert_eq!(d.get("/readyz").0, 503);
}

#[test]
fn public_keys_go_with_bundle_sources_and_must_be_public_keys() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "k");
    let repo = TempRepo::with_banner("x");
    let flagd = || assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("flagd"));
    flagd()
        .args(["--env", "prod", "--repo", repo.path_str()])
        .arg("--bundle-public-key")
        .arg(&public)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--bundle-public-key goes with --bundle",
        ));
    flagd()
        .args([
            "--env",
            "prod",
            "--bundle",
            "b.json",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--state-dir")
        .arg(keys.path().join("state"))
        .arg("--bundle-public-key")
        .arg(&private)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("this is a private key"));
    // And signing needs the private key.
    bundle_command(&repo)
        .args(["-o", "-"])
        .arg("--sign-key")
        .arg(&public)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("this is a public key"));
}

/// The signed message rebuilt from a bundle's JSON by the rules of
/// docs/flagd.md, as another tool would.
fn documented_message(bundle: &Value) -> String {
    format!(
        "hotswap-flags-bundle-signature/1\nformatVersion={}\nenv={}\nversion={}\nsourceCommit={}\ncontentHash={}\n",
        bundle["formatVersion"],
        bundle["env"].as_str().unwrap(),
        bundle["version"].as_str().unwrap(),
        bundle["sourceCommit"].as_str().unwrap_or(""),
        bundle["contentHash"].as_str().unwrap(),
    )
}

#[test]
fn openssl_verifies_our_signatures_and_its_keys_sign_for_us() {
    let (Some(openssl_bin), Some(_)) = (require("openssl"), require("git")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let openssl = |args: &[&str]| {
        Command::new(&openssl_bin)
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("openssl runs")
    };
    let (private, public) = keygen(dir.path(), "ci.key");
    let repo = TempRepo::with_banner("x");
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "flags"]);
    let file = dir.path().join("b.json");
    bundle_command(&repo)
        .args(["--rev", "HEAD"])
        .arg("-o")
        .arg(&file)
        .arg("--sign-key")
        .arg(&private)
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["sourceCommit"].as_str().unwrap().len(), 40);
    std::fs::write(dir.path().join("message"), documented_message(&json)).unwrap();
    let signature = hex::decode(json["signature"]["value"].as_str().unwrap()).unwrap();
    std::fs::write(dir.path().join("sig"), signature).unwrap();
    let pubkey = public.to_str().unwrap();
    let verify = |message: &str| {
        openssl(&[
            "pkeyutl", "-verify", "-pubin", "-inkey", pubkey, "-rawin", "-in", message, "-sigfile",
            "sig",
        ])
    };
    let out = verify("message");
    assert!(
        out.status.success(),
        "openssl: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        dir.path().join("other"),
        documented_message(&json).replace("env=prod", "env=production"),
    )
    .unwrap();
    assert!(!verify("other").status.success());
    // The key id: SHA-256 of the raw 32 key bytes (the DER's last 32).
    let der = openssl(&["pkey", "-pubin", "-in", pubkey, "-outform", "DER"]).stdout;
    let id = hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(&der[der.len() - 32..])[..8]);
    assert_eq!(json["signature"]["keyId"], id.as_str());

    // A key made by OpenSSL signs bundles that flagd accepts with
    // OpenSSL's public key.
    assert!(
        openssl(&["genpkey", "-algorithm", "ed25519", "-out", "ossl.key"])
            .status
            .success()
    );
    assert!(
        openssl(&["pkey", "-in", "ossl.key", "-pubout", "-out", "ossl.pub"])
            .status
            .success()
    );
    let theirs = dir.path().join("theirs.json");
    bundle(&repo, &theirs, Some(&dir.path().join("ossl.key")));
    let d = Daemon::prod(&[
        "--bundle",
        theirs.to_str().unwrap(),
        "--bundle-public-key",
        dir.path().join("ossl.pub").to_str().unwrap(),
    ]);
    d.await_value(DEADLINE, "banner", json!("x"));
}

#[test]
fn the_config_file_takes_one_key_or_a_list() {
    let keys = tempfile::tempdir().unwrap();
    let (old, old_pub) = keygen(keys.path(), "old.key");
    let (_new, new_pub) = keygen(keys.path(), "new.key");
    let repo = TempRepo::with_banner("rotated");
    let file = bundled(&repo, "b.json", Some(&old));
    let d = Daemon::from_config(&format!(
        "bundle = {:?}\nbundle-public-key = [{:?}, {:?}]\n",
        file.to_str().unwrap(),
        new_pub.to_str().unwrap(),
        old_pub.to_str().unwrap(),
    ));
    d.await_value(DEADLINE, "banner", json!("rotated"));
}

/// `flagctl verify-bundle … --format json`: (exit code, report).
fn verify(file: &Path, args: &[&str]) -> (i32, Value) {
    let out = flagctl(Path::new("."))
        .arg("verify-bundle")
        .arg(file)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

#[test]
fn verify_bundle_makes_flagds_checks_before_a_bundle_ships() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = keygen(keys.path(), "ci.key");
    let (_, stranger) = keygen(keys.path(), "stranger.key");
    let repo = TempRepo::with_banner("one");
    let file = bundled(&repo, "prod.bundle.json", Some(&private));
    let public = public.to_str().unwrap();

    let (code, report) = verify(&file, &["--public-key", public, "--env", "prod"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["valid"], true);
    assert_eq!(report["signatureVerified"], true);
    assert_eq!(report["env"], "prod");
    assert_eq!(report["flags"], 1);
    // Without keys the signature is reported but not vouched for.
    let (code, report) = verify(&file, &[]);
    assert_eq!((code, &report["signatureVerified"]), (0, &json!(false)));

    let refused = |file: &Path, args: &[&str], says: &str| {
        let (code, report) = verify(file, args);
        assert_eq!(code, 1, "{report}");
        assert_eq!(report["valid"], false);
        let error = report["error"].as_str().unwrap();
        assert!(error.contains(says), "{says:?} not in {error:?}");
    };
    refused(
        &file,
        &["--public-key", stranger.to_str().unwrap()],
        "not trusted",
    );
    refused(
        &file,
        &["--env", "staging"],
        "of environment `prod`, not `staging`",
    );

    // Tampered content: the hash (and with a key, the signature) no longer fit.
    let mut tampered: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    tampered["content"]["model"]["flags"]["banner"]["variants"]["current"] = json!("evil");
    let tampered_file = repo.path().join("tampered.json");
    std::fs::write(&tampered_file, tampered.to_string()).unwrap();
    refused(&tampered_file, &[], "content hash mismatch");
    refused(
        &tampered_file,
        &["--public-key", public],
        "changed after it was signed",
    );

    // A consistent bundle whose definitions do not compile.
    let mut broken: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    broken["content"]["model"]["flags"]["banner"]["default"] = json!("missing");
    broken.as_object_mut().unwrap().remove("signature");
    let content: hotswap_flags_core::bundle::BundleContent =
        serde_json::from_value(broken["content"].clone()).unwrap();
    broken["contentHash"] = json!(content_hash(&content));
    let broken_file = repo.path().join("broken.json");
    std::fs::write(&broken_file, broken.to_string()).unwrap();
    refused(&broken_file, &[], "does not validate");
    refused(&broken_file, &["--public-key", public], "not signed");

    // Unreadable input is a usage error (2), not a finding.
    flagctl(Path::new("."))
        .arg("verify-bundle")
        .arg(repo.path().join("absent.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read"));
}
