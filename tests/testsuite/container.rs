//! The container image (docs/deploy.md, "The container image"): the shipped
//! `Containerfile`, built with podman and run as the docs say.
//!
//! No image registry is reachable here, so the build gets its base images
//! as build arguments, both made by the test: a runtime base holding only
//! what the binaries link (what `ldd` lists), `/etc/passwd` and the CA
//! certificates — distroless's `cc` image in miniature — and the debug
//! binaries this test run already built, as the `BINARIES` image (compiling
//! in a container takes minutes). `--pull=never` makes the build fail if it
//! reached for the `source` stage's Rust image, which it must skip.
//!
//! Podman gets a storage root and a `containers.conf` of its own in a temp
//! dir, so no image or volume outlives the test; the conf names what this
//! machine's podman needs (runc, cgroupfs, no default ulimits) and the host
//! network, on which flagd listens on an ephemeral port.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::files::{copy_dir, replace_file};
use crate::support::flagd::{client, metric, string_flag};
use crate::support::{DEADLINE, IMAGE, eventually, free_port, require};
use serde_json::Value;

/// The uid (and gid) the image runs as: distroless's `nonroot`.
const NONROOT: &str = "65532";

/// The usual grace Kubernetes and `podman stop` give before SIGKILL; flagd
/// must be gone well within it.
const GRACE: Duration = Duration::from_secs(30);

#[test]
fn the_image_serves_a_mounted_repository_as_non_root_and_stops_on_sigterm() {
    let Some(podman) = Podman::new() else { return };
    let image = format!("{IMAGE}:{}", env!("CARGO_PKG_VERSION"));
    podman.build_shipped_image(&image);

    let info = podman.ok(&["image", "inspect", &image, "--format", "{{json .Config}}"]);
    let config: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(config["User"], format!("{NONROOT}:{NONROOT}"), "{config}");
    assert!(config["Volumes"]["/var/lib/flagd"].is_object(), "{config}");
    assert!(config["ExposedPorts"]["8013/tcp"].is_object(), "{config}");
    let size: u64 = podman
        .ok(&["image", "inspect", &image, "--format", "{{.Size}}"])
        .trim()
        .parse()
        .unwrap();
    eprintln!("{image}: {} MB (debug binaries)", size / 1_000_000);

    // A copy, so the test can edit what the container reads only.
    let flags = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("flags-example"),
        flags.path(),
    );
    let port = free_port();
    let container = podman.run(&[
        "--volume",
        &format!("{}:/flags:ro", flags.path().display()),
        "--volume",
        "flagd-state:/var/lib/flagd",
        &image,
        "--env",
        "production",
        "--repo",
        "/flags",
        "--listen",
        &format!("0.0.0.0:{port}"),
    ]);
    let base = format!("http://127.0.0.1:{port}");
    let http = client();
    let get = |path: &str| -> Option<(u16, String)> {
        let r = http.get(format!("{base}{path}")).send().ok()?;
        Some((r.status().as_u16(), r.text().ok()?))
    };
    eventually(DEADLINE, "the container's flagd to be ready", || {
        get("/readyz").filter(|(status, _)| *status == 200)
    });
    assert!(
        container
            .logs()
            .contains(&format!("flagd listening on http://0.0.0.0:{port}")),
        "{}",
        container.logs()
    );

    let (status, body) =
        get("/api/v1/flags/new-checkout-flow/evaluate?userId=user-42&email=ana@example.com")
            .unwrap();
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, &answer["value"]),
        (200, &Value::Bool(true)),
        "{body}"
    );
    assert_eq!(answer["rule"], "staff", "{body}");
    let (status, metrics) = get("/metrics").unwrap();
    assert_eq!(status, 200, "{metrics}");
    assert_eq!(
        metric(&metrics, "flagd_reloads_total{result=\"success\"}"),
        Some(1.0),
        "{metrics}"
    );

    // flagd itself is PID 1 (no init in between to pass SIGTERM on), and
    // runs as the image's user, not root.
    let status = std::fs::read_to_string(format!("/proc/{}/status", container.host_pid()))
        .expect("the container's process status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {status}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(field("Uid:"), [NONROOT; 4], "{status}");
    assert_eq!(field("NSpid:").last(), Some(&"1"), "{status}");
    // The state went to the volume, which the non-root user could write.
    let volume = PathBuf::from(
        podman
            .ok(&[
                "volume",
                "inspect",
                "flagd-state",
                "--format",
                "{{.Mountpoint}}",
            ])
            .trim(),
    );
    eventually(DEADLINE, "last-good.json on the state volume", || {
        volume.join("last-good.json").is_file().then_some(())
    });

    // An edit in the mounted directory is served without a restart.
    let flag = "/api/v1/flags/container-banner/evaluate?userId=u1";
    assert_eq!(get(flag).unwrap().0, 404);
    let file = flags.path().join("envs/production/container.yaml");
    replace_file(&file, string_flag("container-banner", "edited").as_bytes());
    eventually(DEADLINE, "the edit to be served", || {
        let (status, body) = get(flag)?;
        (status == 200 && body.contains(r#""value":"edited""#)).then_some(())
    });

    // `podman stop` sends SIGTERM, and SIGKILL only after the grace.
    let start = Instant::now();
    podman.ok(&[
        "stop",
        "--time",
        &GRACE.as_secs().to_string(),
        &container.name,
    ]);
    let took = start.elapsed();
    let exit = podman.ok(&[
        "inspect",
        &container.name,
        "--format",
        "{{.State.ExitCode}}",
    ]);
    assert_eq!(exit.trim(), "0", "{}", container.logs());
    assert!(
        took < GRACE / 3,
        "stopping took {took:?}; {}",
        container.logs()
    );
    assert!(
        container.logs().contains("shutting down"),
        "{}",
        container.logs()
    );
}

/// Podman with a storage root and configuration of its own: whatever it
/// makes is removed on drop.
struct Podman {
    program: PathBuf,
    dir: tempfile::TempDir,
}

/// What podman needs on this kind of machine: crun and the default ulimits
/// are refused, and so is systemd's cgroup manager. Events are not logged:
/// the journal they would go to is not the test's.
const CONTAINERS_CONF: &str = r#"[containers]
default_ulimits = []
netns = "host"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
"#;

impl Podman {
    /// `None` when the test is skipped for want of podman or runc (see
    /// [`require`]).
    fn new() -> Option<Podman> {
        let program = require("podman")?;
        require("runc")?;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("containers.conf"), CONTAINERS_CONF).unwrap();
        Some(Podman { program, dir })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        let own = |name: &str| self.dir.path().join(name);
        cmd.env("CONTAINERS_CONF", own("containers.conf"))
            .arg("--root")
            .arg(own("root"))
            .arg("--runroot")
            .arg(own("run"))
            .arg("--tmpdir")
            .arg(own("tmp"))
            .args(args);
        cmd
    }

    /// Runs podman with `args` and returns its stdout, failing the test with
    /// its stderr unless it exits 0.
    fn ok(&self, args: &[&str]) -> String {
        let mut cmd = self.command(args);
        let out = cmd.output().expect("podman runs");
        assert!(
            out.status.success(),
            "{cmd:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Builds the shipped `Containerfile` from the repository as `image`,
    /// on the test's runtime base and with this run's binaries.
    fn build_shipped_image(&self, image: &str) {
        let flagd = assert_cmd::cargo::cargo_bin!("flagd");
        let flagctl = assert_cmd::cargo::cargo_bin!("flagctl");
        let runtime = "localhost/hotswap-test-runtime:latest";
        let base = self.dir.path().join("runtime");
        runtime_base(&base, &[flagd, flagctl]);
        self.build_from_scratch(runtime, &base, "/");
        let binaries = self.dir.path().join("binaries");
        std::fs::create_dir(&binaries).unwrap();
        for bin in [flagd, flagctl] {
            link_or_copy(bin, &binaries.join(bin.file_name().unwrap()));
        }
        let prebuilt = "localhost/hotswap-test-binaries:latest";
        self.build_from_scratch(prebuilt, &binaries, "/out/");

        let repo = env!("CARGO_MANIFEST_DIR");
        self.ok(&[
            "build",
            "--pull=never",
            "--file",
            &format!("{repo}/Containerfile"),
            "--build-arg",
            &format!("RUNTIME={runtime}"),
            "--build-arg",
            &format!("BINARIES={prebuilt}"),
            "--tag",
            image,
            repo,
        ]);
    }

    /// Builds `tag`: an image of nothing but `dir`'s files, at `dest`.
    fn build_from_scratch(&self, tag: &str, dir: &Path, dest: &str) {
        let file = dir.with_extension("Containerfile");
        std::fs::write(&file, format!("FROM scratch\nCOPY . {dest}\n")).unwrap();
        self.ok(&[
            "build",
            "--file",
            file.to_str().unwrap(),
            "--tag",
            tag,
            dir.to_str().unwrap(),
        ]);
    }

    /// Starts a container in the background: `podman run --detach ARGS`.
    fn run(&self, args: &[&str]) -> Container<'_> {
        let name = "flagd-container-test".to_owned();
        let mut all = vec!["run", "--detach", "--name", &name];
        all.extend_from_slice(args);
        self.ok(&all);
        Container { podman: self, name }
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // The storage root is the temp dir's: emptied here, so no mount
        // stays under it, and removed with it.
        for args in [
            &["rm", "--all", "--force", "--time", "0"][..],
            &["volume", "rm", "--all", "--force"],
            &["rmi", "--all", "--force"],
        ] {
            let _ = self.command(args).output();
        }
    }
}

/// A container started by [`Podman::run`].
struct Container<'a> {
    podman: &'a Podman,
    name: String,
}

impl Container<'_> {
    /// What flagd printed: stdout and stderr.
    fn logs(&self) -> String {
        let out = self
            .podman
            .command(&["logs", &self.name])
            .output()
            .expect("podman logs");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The container's main process, as the host sees it.
    fn host_pid(&self) -> String {
        let pid = self
            .podman
            .ok(&["inspect", &self.name, "--format", "{{.State.Pid}}"]);
        pid.trim().to_owned()
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- logs of container {} ---\n{}", self.name, self.logs());
        }
    }
}

/// A root file system for the image to run on: the shared libraries the
/// `binaries` link (as `ldd` finds them, at the same paths), `/etc/passwd`
/// and `/etc/group` naming root and the non-root user, `/tmp`, and the
/// host's CA certificates.
fn runtime_base(root: &Path, binaries: &[&Path]) {
    for binary in binaries {
        let out = Command::new("ldd").arg(binary).output().expect("ldd runs");
        assert!(out.status.success(), "ldd {}", binary.display());
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            // `libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x…)`, or the
            // loader's `/lib64/ld-linux-x86-64.so.2 (0x…)`; the vDSO has no
            // file.
            let Some(path) = line
                .split_whitespace()
                .find(|word| word.starts_with('/'))
                .map(Path::new)
            else {
                continue;
            };
            let dest = root.join(path.strip_prefix("/").unwrap());
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(path, &dest).unwrap();
        }
    }
    crate::support::files::write(
        root,
        "etc/passwd",
        &format!(
            "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{NONROOT}:{NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n"
        ),
    );
    crate::support::files::write(
        root,
        "etc/group",
        &format!("root:x:0:\nnonroot:x:{NONROOT}:\n"),
    );
    let certs = Path::new("/etc/ssl/certs/ca-certificates.crt");
    if certs.is_file() {
        std::fs::create_dir_all(root.join("etc/ssl/certs")).unwrap();
        std::fs::copy(certs, root.join("etc/ssl/certs/ca-certificates.crt")).unwrap();
    }
    for dir in ["tmp", "var/lib"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
}

/// A hard link when `to` is on the same file system (the debug binaries are
/// hundreds of megabytes), else a copy.
fn link_or_copy(from: &Path, to: &Path) {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).unwrap();
    }
}
