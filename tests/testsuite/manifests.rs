//! The Kubernetes manifests of `deploy/kubernetes/` (docs/deploy.md),
//! checked without a cluster: every file parses and every file a
//! kustomization names exists; the overlays are rendered here (the few
//! kustomize features they use: resources, strategic-merge patches,
//! generated ConfigMaps, images, namespace) and flagd itself judges the
//! options they pass (`--check-config`); the probes are answered by a real
//! flagd started with those options; ports and the image agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::support::IMAGE;
use crate::support::etcd::Etcd;
use crate::support::files::copy_dir;
use crate::support::flagd::*;

const OVERLAYS: &[&str] = &["overlays/single", "overlays/cluster"];

/// What `--cluster-replica=$(POD_NAME)` becomes in a pod.
const POD_NAME: &str = "flagd-5d8c7b9f4-x2x7q";

fn kubernetes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

/// Every YAML document of `path`, as JSON.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

/// The one document of `path`.
fn document(path: &Path) -> Value {
    let mut docs = documents(path);
    assert_eq!(docs.len(), 1, "{}: one document expected", path.display());
    docs.remove(0)
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().expect("a string")).collect())
        .unwrap_or_default()
}

/// What kustomize builds from directory `dir`, for the features these
/// manifests use; any other kustomization field fails the test rather
/// than be ignored. (Checked against `kubectl kustomize` when written.)
fn build(dir: &Path) -> Vec<Value> {
    let k = document(&dir.join("kustomization.yaml"));
    for field in k.as_object().expect("a kustomization is a map").keys() {
        assert!(
            [
                "apiVersion",
                "kind",
                "resources",
                "patches",
                "configMapGenerator",
                "images",
                "namespace",
            ]
            .contains(&field.as_str()),
            "{}: this test does not render `{field}`; teach it to",
            dir.display()
        );
    }
    let mut objects = Vec::new();
    for resource in strings(&k["resources"]) {
        let path = dir.join(resource);
        if path.is_dir() {
            objects.extend(build(&path));
        } else {
            objects.extend(documents(&path));
        }
    }
    for generator in k["configMapGenerator"].as_array().into_iter().flatten() {
        let data: serde_json::Map<String, Value> = strings(&generator["literals"])
            .into_iter()
            .map(|l| {
                let (key, value) = l.split_once('=').expect("a literal is KEY=VALUE");
                (key.to_owned(), json!(value))
            })
            .collect();
        objects.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": generator["name"]}, "data": data,
        }));
    }
    for patch in k["patches"].as_array().into_iter().flatten() {
        let path = patch["path"].as_str().expect("patches name files");
        let patch = document(&dir.join(path));
        let target = objects
            .iter_mut()
            .find(|o| {
                o["kind"] == patch["kind"] && o["metadata"]["name"] == patch["metadata"]["name"]
            })
            .unwrap_or_else(|| panic!("{path} patches nothing"));
        merge(target, &patch);
    }
    for image in k["images"].as_array().into_iter().flatten() {
        for object in &mut objects {
            let containers = object
                .pointer_mut("/spec/template/spec/containers")
                .and_then(Value::as_array_mut);
            for c in containers.into_iter().flatten() {
                let current = c["image"].as_str().unwrap_or_default();
                let name = current.split(':').next().unwrap_or_default();
                if name == image["name"] {
                    let name = image["newName"].as_str().unwrap_or(name);
                    let tag = image["newTag"].as_str().expect("images set a tag");
                    c["image"] = json!(format!("{name}:{tag}"));
                }
            }
        }
    }
    if let Some(namespace) = k["namespace"].as_str() {
        for object in &mut objects {
            object["metadata"]["namespace"] = json!(namespace);
        }
    }
    objects
}

/// A strategic-merge patch: maps merge, the lists Kubernetes merges by a
/// key merge by it, other lists (`args`) are replaced.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (key, value) in p {
                let merge_key = match key.as_str() {
                    "containers" | "volumes" | "env" => Some("name"),
                    "volumeMounts" => Some("mountPath"),
                    "ports" => Some("containerPort"),
                    _ => None,
                };
                match (t.get_mut(key), merge_key) {
                    (Some(Value::Array(items)), Some(k)) => {
                        for item in value.as_array().expect("a list patches a list") {
                            match items.iter_mut().find(|i| i[k] == item[k]) {
                                Some(existing) => merge(existing, item),
                                None => items.push(item.clone()),
                            }
                        }
                    }
                    (Some(existing), _) => merge(existing, value),
                    (None, _) => {
                        t.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// An overlay, rendered.
struct Overlay {
    name: &'static str,
    objects: Vec<Value>,
}

impl Overlay {
    fn build(name: &'static str) -> Overlay {
        Overlay {
            name,
            objects: build(&kubernetes_dir().join(name)),
        }
    }

    fn object(&self, kind: &str, name: &str) -> &Value {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{}: no {kind} {name}", self.name))
    }

    fn flagd(&self) -> &Value {
        let containers =
            &self.object("Deployment", "flagd")["spec"]["template"]["spec"]["containers"];
        containers
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "flagd"))
            .unwrap_or_else(|| panic!("{}: no flagd container", self.name))
    }

    /// The flagd container's arguments as the kubelet passes them: each
    /// `$(NAME)` replaced by the container's variable (a ConfigMap key, or
    /// the pod's name).
    fn args(&self) -> Vec<String> {
        let flagd = self.flagd();
        let mut vars = BTreeMap::new();
        for var in flagd["env"].as_array().into_iter().flatten() {
            let name = var["name"].as_str().unwrap();
            let from = &var["valueFrom"];
            let value = if let Some(v) = var["value"].as_str() {
                v.to_owned()
            } else if from["fieldRef"]["fieldPath"] == "metadata.name" {
                POD_NAME.to_owned()
            } else if from["configMapKeyRef"].is_object() {
                let r = &from["configMapKeyRef"];
                let map = self.object("ConfigMap", r["name"].as_str().unwrap());
                map["data"][r["key"].as_str().unwrap()]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}: ConfigMap has no {}", self.name, r["key"]))
                    .to_owned()
            } else {
                panic!("{}: this test cannot fill in {var}", self.name)
            };
            vars.insert(format!("$({name})"), value);
        }
        strings(&flagd["args"])
            .into_iter()
            .map(|arg| {
                let mut arg = arg.to_owned();
                for (name, value) in &vars {
                    arg = arg.replace(name, value);
                }
                assert!(
                    !arg.contains("$("),
                    "{}: {arg} names no variable",
                    self.name
                );
                arg
            })
            .collect()
    }

    /// The port a probe or Service names (a number, or a name of the flagd
    /// container's ports).
    fn port(&self, port: &Value) -> u64 {
        if let Some(n) = port.as_u64() {
            return n;
        }
        self.flagd()["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == *port)
            .and_then(|p| p["containerPort"].as_u64())
            .unwrap_or_else(|| panic!("{}: no container port {port}", self.name))
    }
}

/// `flagd --check-config ARGS`: its exit status and what it printed.
fn check_config(args: &[String]) -> (bool, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("flagd"))
        .arg("--check-config")
        .args(args)
        .output()
        .expect("flagd runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The value of `name: value` in `--check-config`'s answer.
fn setting<'a>(answer: &'a str, name: &str) -> &'a str {
    answer
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no {name} in:\n{answer}"))
}

/// Every YAML file parses, every file a kustomization names exists, and
/// every file under deploy/kubernetes is used by some kustomization.
#[test]
fn every_manifest_parses_and_every_named_file_exists() {
    let root = kubernetes_dir();
    let mut yaml = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                yaml.push(path);
            }
        }
    }
    let mut named = vec![];
    for path in &yaml {
        for doc in documents(path) {
            assert!(
                doc["apiVersion"].is_string() && doc["kind"].is_string(),
                "{}: a manifest has apiVersion and kind: {doc}",
                path.display()
            );
            if doc["kind"] != "Kustomization" {
                continue;
            }
            let dir = path.parent().unwrap();
            let patches = doc["patches"].as_array().into_iter().flatten();
            let files = strings(&doc["resources"])
                .into_iter()
                .chain(patches.map(|p| p["path"].as_str().expect("a patch file")));
            for file in files {
                let target = dir.join(file);
                assert!(
                    target.is_file() || target.join("kustomization.yaml").is_file(),
                    "{} names {file}, which is neither a file nor a kustomization",
                    path.display()
                );
                named.push(target.canonicalize().unwrap());
            }
        }
    }
    for path in &yaml {
        let path = path.canonicalize().unwrap();
        let used = path.ends_with("kustomization.yaml") || named.contains(&path);
        assert!(used, "{} is used by no kustomization", path.display());
    }
    assert!(yaml.len() >= 10, "found only {yaml:?}");
}

/// The image is the one the Containerfile builds, tagged with the crate's
/// version: a release that forgets the manifests fails here.
#[test]
fn the_image_is_the_containerfiles_at_the_crates_version() {
    let expected = format!("{IMAGE}:{}", env!("CARGO_PKG_VERSION"));
    for name in OVERLAYS {
        let overlay = Overlay::build(name);
        assert_eq!(overlay.flagd()["image"], expected, "{name}");
    }
}

/// flagd accepts every option the manifests pass, as the kubelet expands
/// them, and reads them as meant: listening beyond loopback on the
/// container's port, with tokens required, in cluster mode (as the pod's
/// name) only in the cluster overlay.
#[test]
fn flagd_accepts_the_options_of_every_overlay() {
    for name in OVERLAYS {
        let overlay = Overlay::build(name);
        let args = overlay.args();
        let (ok, answer) = check_config(&args);
        assert!(ok, "{name}: flagd refuses {args:?}:\n{answer}");
        let listen: std::net::SocketAddr = setting(&answer, "listen").parse().unwrap();
        assert!(listen.ip().is_unspecified(), "{name}: {answer}");
        let port = overlay.port(&json!("http"));
        assert_eq!(
            u64::from(listen.port()),
            port,
            "{name}: --listen vs containerPort"
        );
        assert_eq!(setting(&answer, "state-dir"), "/var/lib/flagd", "{name}");
        assert!(
            setting(&answer, "auth").starts_with("HS256 secret /etc/flagd/auth/"),
            "{name}: off loopback, flagd needs a token key (docs/security.md):\n{answer}"
        );
        assert!(
            setting(&answer, "source").starts_with("git https://"),
            "{name}"
        );
        let cluster = setting(&answer, "cluster");
        if *name == "overlays/cluster" {
            assert!(
                cluster.ends_with(&format!("replica {POD_NAME}")),
                "{answer}"
            );
            assert!(cluster.starts_with("etcd-0.etcd:2379,"), "{answer}");
        } else {
            assert_eq!(cluster, "off");
        }
    }
}

/// `--check-config` refuses what a start would refuse, so the test above
/// could fail: a misspelt option, a bad etcd URL, options that go together.
#[test]
fn check_config_refuses_what_a_start_would() {
    let args = Overlay::build("overlays/cluster").args();
    for (bad, says) in [
        ("--clustr-replica=x", "unexpected argument"),
        ("--cluster=http://etcd:2379", "etcd://"),
        ("--poll=soon", "--poll"),
        ("--repo=/flags", "cannot be used with"),
    ] {
        let bad_args: Vec<String> = args
            .iter()
            .filter(|a| !a.starts_with(bad.split('=').next().unwrap()))
            .cloned()
            .chain([bad.to_owned()])
            .collect();
        let (ok, answer) = check_config(&bad_args);
        assert!(!ok, "{bad} was accepted:\n{answer}");
        assert!(
            answer.contains(says),
            "{bad}: expected {says:?} in:\n{answer}"
        );
    }
}

/// The probes' ports, the Service's target and `--listen` are one port.
#[test]
fn ports_agree() {
    for name in OVERLAYS {
        let overlay = Overlay::build(name);
        let flagd = overlay.flagd();
        let listen = overlay
            .args()
            .iter()
            .find_map(|a| a.strip_prefix("--listen=").map(str::to_owned))
            .expect("--listen");
        let listen: std::net::SocketAddr = listen.parse().unwrap();
        let ports = flagd["ports"].as_array().unwrap();
        assert_eq!(ports.len(), 1, "{name}: {ports:?}");
        let port = u64::from(listen.port());
        assert_eq!(ports[0]["containerPort"], port, "{name}");
        for probe in ["readinessProbe", "livenessProbe"] {
            let at = &flagd[probe]["httpGet"]["port"];
            assert_eq!(overlay.port(at), port, "{name}: {probe}");
        }
        let service = overlay.object("Service", "flagd");
        let service_ports = service["spec"]["ports"].as_array().unwrap();
        assert_eq!(service_ports.len(), 1, "{name}");
        assert_eq!(
            overlay.port(&service_ports[0]["targetPort"]),
            port,
            "{name}"
        );
        let selector = service["spec"]["selector"].as_object().unwrap();
        let labels =
            &overlay.object("Deployment", "flagd")["spec"]["template"]["metadata"]["labels"];
        for (key, value) in selector {
            assert_eq!(&labels[key], value, "{name}: the Service selects the pods");
        }
    }
}

/// flagd started with an overlay's options — only where they name places
/// of the pod (the git URL, the state volume, the Secret's file, etcd) is
/// each replaced by a local one — answers the probes' paths with 200, and
/// with nothing else without a token: the Service exposes no open API. In
/// cluster mode the replica carries the pod's name.
#[test]
fn flagd_run_with_an_overlays_options_answers_its_probes() {
    let Some(_) = require("git") else { return };
    let Some(_) = require("openssl") else { return };
    let Some(etcd) = Etcd::start() else { return };
    let flags = tempfile::tempdir().unwrap();
    let repo = flags.path().join("flags.git");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("flags-example");
    git(
        flags.path(),
        &["init", "-q", "-b", "main", repo.to_str().unwrap()],
    );
    copy_dir(&example, &repo);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "flags"]);

    for name in OVERLAYS {
        let overlay = Overlay::build(name);
        let pod = tempfile::tempdir().unwrap();
        let secret = "a-secret-of-at-least-thirty-two-bytes-for-hs256";
        let mut args: Vec<String> = Vec::new();
        for arg in overlay.args() {
            let (option, value) = arg.split_once('=').expect("--option=value");
            let value = match option {
                // Daemon::start adds its own loopback address and port.
                "--listen" => continue,
                "--git-url" => repo.to_str().unwrap().to_owned(),
                "--state-dir" => pod.path().join("state").to_str().unwrap().to_owned(),
                "--auth-jwt-secret-file" => {
                    let file = pod.path().join("jwt-secret");
                    std::fs::write(&file, format!("{secret}\n")).unwrap();
                    file.to_str().unwrap().to_owned()
                }
                "--cluster" => etcd.url(),
                _ => {
                    assert!(!value.starts_with('/'), "{name}: map {arg} to a local path");
                    value.to_owned()
                }
            };
            args.extend([option.to_owned(), value]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let d = Daemon::start(&args);
        let flagd = overlay.flagd();
        for probe in ["livenessProbe", "readinessProbe"] {
            let path = flagd[probe]["httpGet"]["path"].as_str().unwrap();
            eventually(
                DEADLINE,
                &format!("{name}: {probe} {path} to answer 200"),
                || (d.get(path).0 == 200).then_some(()),
            );
        }
        assert_eq!(d.get("/api/v1/rollouts").0, 401, "{name}: no token, no API");
        let token = mint_token(pod.path().join("jwt-secret").as_path(), "viewer");
        let rollouts: Value = client()
            .get(d.url("/api/v1/rollouts"))
            .bearer_auth(token.trim())
            .send()
            .unwrap()
            .json()
            .unwrap();
        if *name == "overlays/cluster" {
            assert_eq!(rollouts["cluster"]["replica"], POD_NAME, "{rollouts}");
            assert_eq!(rollouts["cluster"]["synced"], true, "{rollouts}");
        } else {
            assert!(rollouts["cluster"].is_null(), "{rollouts}");
            assert!(rollouts["rollouts"].is_array(), "{rollouts}");
        }
    }
}

/// A token from deploy/kubernetes/mint-token.sh, the recipe docs/deploy.md
/// gives.
fn mint_token(secret: &Path, role: &str) -> String {
    let out = Command::new("bash")
        .arg(kubernetes_dir().join("mint-token.sh"))
        .arg(secret)
        .args([role, "test", "600"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// docs/cluster.md shows the cluster overlay's argument list as it is.
#[test]
fn cluster_md_shows_the_cluster_overlays_options() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cluster.md"))
            .unwrap();
    let section = doc
        .split("## Running it on Kubernetes")
        .nth(1)
        .expect("docs/cluster.md has its Kubernetes section");
    let shown: Vec<&str> = section
        .lines()
        .skip_while(|l| *l != "args:")
        .skip(1)
        .map_while(|l| l.strip_prefix("  - "))
        .collect();
    let overlay = Overlay::build("overlays/cluster");
    assert_eq!(shown, strings(&overlay.flagd()["args"]));
}
