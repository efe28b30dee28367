//! Network faults for the cluster tests (docs/cluster.md, Failures): every
//! etcd member and every flagd replica runs in a network namespace of its
//! own, each with one address on a bridge, so that a test can cut the
//! links between sets of nodes (iptables drops in their namespaces), heal
//! them, and kill, stop, continue or restart their processes.
//!
//! The test process itself (the client, and the metrics stand-in) stays in
//! the host's namespace on the bridge's first address: it always reaches
//! every node, as the issue's clients did while the leader was cut off.
//!
//! Needs root, `ip` and `iptables`; without them a test is skipped loudly
//! (failed under `CI`, see [`super::require_that`]). Delay and loss are not
//! offered: `tc qdisc … netem` answers "Specified qdisc kind is unknown" in
//! this machine's kernel, so faults are drops (a silent partition), which
//! is the harder case for leases anyway: nothing is refused, calls time
//! out.
//!
//! Names are unique per test (the process id and a counter), and
//! [`Net`]'s drop kills whatever still runs in its namespaces and deletes
//! them, also when the test panicked. A test process killed by a signal
//! runs no drop: the next [`Net::new`] removes the namespaces of test
//! processes that no longer exist, and picks a subnet no interface uses.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::flagd::{Daemon, client, flagd_binary};
use super::{eventually, require, require_that};

static NETS: AtomicU32 = AtomicU32::new(0);

/// Runs `ip`/`iptables` (`args[0]`) and fails the test if it fails.
fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One namespace on the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The test's name for it (`e0`, `r1`).
    pub name: String,
    /// The namespace's name.
    pub ns: String,
    /// Its address on the bridge.
    pub ip: String,
}

/// A bridge in a namespace of its own, and the nodes on it.
pub struct Net {
    tag: String,
    hub: String,
    subnet: String,
    nodes: Mutex<Vec<Node>>,
    /// Every namespace made, deleted on drop.
    namespaces: Mutex<Vec<String>>,
}

impl Net {
    /// A new network, or `None` when this machine cannot make one (not
    /// root, no `ip`/`iptables`): skipped, or failed under `CI`.
    pub fn new() -> Option<Net> {
        require("ip")?;
        require("iptables")?;
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        require_that(root, "network namespaces need root")?;
        remove_stale();
        let n = NETS.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let tag = tag(pid, n);
        let subnet = free_subnet(pid, n);
        let hub = format!("hs{pid}x{n}-hub");
        let net = Net {
            tag: tag.clone(),
            hub: hub.clone(),
            subnet,
            nodes: Mutex::new(Vec::new()),
            namespaces: Mutex::new(Vec::new()),
        };
        let made = Command::new("ip")
            .args(["netns", "add", &hub])
            .status()
            .is_ok_and(|s| s.success());
        require_that(made, "`ip netns add` fails here")?;
        net.namespaces.lock().unwrap().push(hub.clone());
        run(&["ip", "-n", &hub, "link", "add", "br0", "type", "bridge"]);
        run(&["ip", "-n", &hub, "link", "set", "br0", "up"]);
        run(&["ip", "-n", &hub, "link", "set", "lo", "up"]);
        // The host's leg: the test process, the client of every node.
        let (outer, inner) = (format!("h{tag}c"), format!("b{tag}c"));
        run(&[
            "ip", "link", "add", &outer, "type", "veth", "peer", "name", &inner,
        ]);
        run(&["ip", "link", "set", &inner, "netns", &hub]);
        run(&[
            "ip", "-n", &hub, "link", "set", &inner, "master", "br0", "up",
        ]);
        run(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", net.host_ip()),
            "dev",
            &outer,
        ]);
        run(&["ip", "link", "set", &outer, "up"]);
        Some(net)
    }

    /// The host's address on the bridge (where the test's own servers
    /// listen for the nodes).
    pub fn host_ip(&self) -> String {
        format!("{}.1", self.subnet)
    }

    /// A new node named `name` on the bridge.
    pub fn node(&self, name: &str) -> Node {
        let mut nodes = self.nodes.lock().unwrap();
        let i = nodes.len();
        let ns = format!("{}-{name}", self.hub.trim_end_matches("-hub"));
        run(&["ip", "netns", "add", &ns]);
        self.namespaces.lock().unwrap().push(ns.clone());
        let (outer, inner) = (format!("b{}n{i}", self.tag), format!("n{}n{i}", self.tag));
        run(&[
            "ip", "link", "add", &outer, "type", "veth", "peer", "name", &inner,
        ]);
        run(&["ip", "link", "set", &outer, "netns", &self.hub]);
        run(&["ip", "link", "set", &inner, "netns", &ns]);
        run(&[
            "ip", "-n", &self.hub, "link", "set", &outer, "master", "br0", "up",
        ]);
        let ip = format!("{}.{}", self.subnet, 10 + i);
        run(&[
            "ip",
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{ip}/24"),
            "dev",
            &inner,
        ]);
        run(&["ip", "-n", &ns, "link", "set", &inner, "up"]);
        run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        let node = Node {
            name: name.to_owned(),
            ns,
            ip,
        };
        nodes.push(node.clone());
        node
    }

    /// `program` to run inside `node`'s namespace.
    pub fn command(&self, node: &Node, program: &Path) -> Command {
        let mut command = Command::new("ip");
        // `ip netns exec` execs the program: the child's pid is its own.
        command.args(["netns", "exec", &node.ns]).arg(program);
        command
    }

    /// Drops everything between each node of `a` and each node of `b`,
    /// both ways (connections hang, as in a real partition).
    pub fn partition(&self, a: &[&Node], b: &[&Node]) {
        for x in a {
            for y in b {
                self.cut(x, y);
                self.cut(y, x);
            }
        }
    }

    /// Drops what `from` sends to `to` (one way: an asymmetric fault).
    pub fn cut(&self, from: &Node, to: &Node) {
        run(&[
            "ip", "netns", "exec", &from.ns, "iptables", "-I", "OUTPUT", "-d", &to.ip, "-j", "DROP",
        ]);
        run(&[
            "ip", "netns", "exec", &to.ns, "iptables", "-I", "INPUT", "-s", &from.ip, "-j", "DROP",
        ]);
    }

    /// Removes every drop.
    pub fn heal(&self) {
        for node in self.nodes.lock().unwrap().iter() {
            run(&["ip", "netns", "exec", &node.ns, "iptables", "-F"]);
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let namespaces = self.namespaces.lock().unwrap_or_else(|e| e.into_inner());
        for ns in namespaces.iter().rev() {
            delete_namespace(ns);
        }
        // Deleting the hub's namespace deleted the host's veth with it.
        let _ = Command::new("ip")
            .args(["link", "del", &format!("h{}c", self.tag)])
            .stderr(Stdio::null())
            .status();
    }
}

/// Interface names' tag for test process `pid`'s `n`th network: short
/// enough for interface names (15 bytes at most).
fn tag(pid: u32, n: u32) -> String {
    format!("{:x}{:x}", pid % 0xfff, n)
}

/// Kills what runs in namespace `ns` (processes of a test) and deletes it.
fn delete_namespace(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<libc::pid_t>() {
                // SAFETY: a plain signal to a process a test started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
    let _ = Command::new("ip").args(["netns", "del", ns]).status();
}

/// Removes the namespaces (`hs<pid>x<n>-…`) of test processes that no
/// longer run, and their host interfaces.
fn remove_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(ns) = line.split_whitespace().next() else {
            continue;
        };
        let Some((pid, n)) = ns
            .strip_prefix("hs")
            .and_then(|rest| rest.split('-').next())
            .and_then(|id| id.split_once('x'))
            .and_then(|(pid, n)| Some((pid.parse::<u32>().ok()?, n.parse::<u32>().ok()?)))
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        delete_namespace(ns);
        let _ = Command::new("ip")
            .args(["link", "del", &format!("h{}c", tag(pid, n))])
            .stderr(Stdio::null())
            .status();
    }
}

/// `10.X.Y` for test process `pid`'s `n`th network: from the pid and the
/// counter, moved on past any subnet an interface of the host has.
fn free_subnet(pid: u32, n: u32) -> String {
    let used = Command::new("ip")
        .args(["-br", "-4", "addr"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let x = 100 + pid % 150;
    (0..250)
        .map(|k| format!("10.{x}.{}", (n + k) % 250))
        .find(|subnet| !used.contains(&format!(" {subnet}.")))
        .unwrap_or_else(|| format!("10.{x}.{}", n % 250))
}

/// Sends `signal` to `child`.
pub fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: signals a child this test started and has not reaped.
    unsafe { libc::kill(pid, signal) };
}

/// A three-member (or any size) etcd, one member per node.
pub struct EtcdCluster {
    binary: PathBuf,
    pub nodes: Vec<Node>,
    children: Vec<Option<Child>>,
    dir: tempfile::TempDir,
    token: String,
}

impl EtcdCluster {
    /// Starts `n` members on new nodes of `net` and waits until the
    /// cluster is healthy; `None` when etcd is not installed.
    pub fn start(net: &Net, n: usize) -> Option<EtcdCluster> {
        let binary = require("etcd")?;
        let nodes: Vec<Node> = (0..n).map(|i| net.node(&format!("e{i}"))).collect();
        let mut cluster = EtcdCluster {
            binary,
            nodes,
            children: (0..n).map(|_| None).collect(),
            dir: tempfile::tempdir().unwrap(),
            token: format!("hs-{}", net.tag),
        };
        for i in 0..n {
            cluster.spawn(net, i);
        }
        for i in 0..n {
            cluster.wait_healthy(i);
        }
        Some(cluster)
    }

    fn spawn(&mut self, net: &Net, i: usize) {
        let node = &self.nodes[i];
        let peers: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("{}=http://{}:2380", n.name, n.ip))
            .collect();
        let client = format!("http://{}:2379", node.ip);
        let peer = format!("http://{}:2380", node.ip);
        let child = net
            .command(node, &self.binary)
            .args(["--name", &node.name])
            .arg("--data-dir")
            .arg(self.dir.path().join(&node.name))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &peers.join(",")])
            .args(["--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", &self.token])
            // Raft elects within a second on a loaded two-core machine.
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .args(["--logger", "zap", "--log-level", "error"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd starts");
        self.children[i] = Some(child);
    }

    /// Waits until member `i` says it is healthy (it has a leader).
    pub fn wait_healthy(&self, i: usize) {
        let url = format!("http://{}:2379/health", self.nodes[i].ip);
        let http = client();
        eventually(
            Duration::from_secs(30),
            &format!("etcd member {i} to be healthy"),
            || {
                let body: Value = http.get(&url).send().ok()?.json().ok()?;
                (body["health"] == "true").then_some(())
            },
        );
    }

    /// What flagd's `--cluster` takes: every member.
    pub fn url(&self) -> String {
        let endpoints: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("{}:2379", n.ip))
            .collect();
        format!("etcd://{}", endpoints.join(","))
    }

    /// `kill -9` of member `i` (its data stays).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts member `i` again on its data.
    pub fn restart(&mut self, net: &Net, i: usize) {
        assert!(self.children[i].is_none(), "member {i} runs");
        self.spawn(net, i);
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
    }
}

/// A flagd replica in a node of its own, restartable on its state
/// directory.
pub struct Replica {
    pub node: Node,
    pub name: String,
    args: Vec<String>,
    state: tempfile::TempDir,
    /// `None` while killed.
    pub daemon: Option<Daemon>,
}

impl Replica {
    /// Starts flagd named `name` on a new node of `net` with `args` (its
    /// source, `--cluster` …), listening on the node's address.
    pub fn start(net: &Net, name: &str, args: &[&str]) -> Replica {
        let node = net.node(name);
        let mut replica = Replica {
            node,
            name: name.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            state: tempfile::tempdir().unwrap(),
            daemon: None,
        };
        replica.restart(net);
        replica
    }

    /// Starts it again (after [`Replica::kill`]) on the same state.
    pub fn restart(&mut self, net: &Net) {
        assert!(self.daemon.is_none(), "{} runs", self.name);
        let mut command = net.command(&self.node, &flagd_binary());
        command
            .args(&self.args)
            .arg("--state-dir")
            .arg(self.state.path())
            .args(["--cluster-replica", &self.name])
            .args(["--listen", &format!("{}:8013", self.node.ip)])
            .args(["--poll", "1s"]);
        self.daemon = Some(Daemon::launch(command));
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        drop(self.daemon.take());
    }

    /// The running flagd.
    pub fn d(&self) -> &Daemon {
        self.daemon.as_ref().expect("running")
    }

    /// SIGSTOP or SIGCONT.
    pub fn signal(&self, sig: libc::c_int) {
        signal(&self.d().child, sig);
    }
}
