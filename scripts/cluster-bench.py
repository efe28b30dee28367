#!/usr/bin/env python3
"""Cluster mode on this machine (docs/cluster.md, docs/performance.md):

1. transition -> served on all replicas: a canary promoted through a
   follower, timed from the request until all three replicas serve the new
   percentage to a user it moves (p50/p99 over FLAGS flags);
2. leader kill -> new leader deciding: kill -9 of the leader until another
   replica leads (median of KILLS, lease TTL TTL);
3. evaluation throughput of one replica with and without --cluster (wrk,
   single-flag GET; the ratio).

Needs etcd (Debian's etcd-server) and wrk. Uses $FLAGD, else builds
target/release/flagd.

    scripts/cluster-bench.py [--flags 100] [--kills 10] [--ttl 2s] [--duration 10s] [--rounds 3]
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what, predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.002)
    sys.exit(f"cluster-bench: timed out waiting for {what}")


class Http:
    """A keep-alive connection to one flagd."""

    def __init__(self, base):
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)

    def call(self, method, path, body=None):
        # Twice: flagd closes idle keep-alive connections (--idle-timeout).
        for _ in range(2):
            try:
                self.conn.request(method, path, body=body)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, (json.loads(data) if data else None)
            except (OSError, http.client.HTTPException, json.JSONDecodeError):
                self.conn.close()
        return 0, None


class Etcd:
    def __init__(self, work):
        self.client, self.peer = free_port(), free_port()
        peer = f"http://127.0.0.1:{self.peer}"
        client = f"http://127.0.0.1:{self.client}"
        self.proc = subprocess.Popen(
            ["etcd", "--name", "bench", "--data-dir", os.path.join(work, "etcd"),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", f"bench={peer}", "--logger", "zap", "--log-level", "error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait("etcd", lambda: Http(client).call("GET", "/health")[0] == 200)
        self.url = f"etcd://127.0.0.1:{self.client}"


class Flagd:
    def __init__(self, flagd, work, name, repo, args):
        state = os.path.join(work, name)
        self.out = os.path.join(work, name + ".out")
        self.proc = subprocess.Popen(
            [flagd, "--env", "prod", "--repo", repo, "--state-dir", state,
             "--listen", "127.0.0.1:0", "--log-format", "json", *args],
            stdout=open(self.out, "w"), stderr=open(os.path.join(work, name + ".log"), "w"))
        line = wait(f"{name} to listen", lambda: open(self.out).readline().strip())
        self.base = line.removeprefix("flagd listening on ")
        self.http = Http(self.base)
        wait(f"{name} to be ready", lambda: self.http.call("GET", "/readyz")[0] == 200)

    def view(self):
        _, body = self.http.call("GET", "/api/v1/rollouts")
        return (body or {}).get("cluster") or {}

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def repo_with(work, flags):
    repo = os.path.join(work, "repo")
    os.makedirs(os.path.join(repo, "envs", "prod"))
    with open(os.path.join(repo, "flags.toml"), "w") as f:
        f.write('version = 1\n[[environments]]\nname = "prod"\npath = "envs/prod"\n')
    with open(os.path.join(repo, "envs", "prod", "flags.yaml"), "w") as f:
        f.write("flags:\n")
        for i in range(flags):
            f.write(
                f"  f{i}:\n    type: boolean\n    variants: {{ on: true, off: false }}\n"
                "    default: off\n    rollout:\n      strategy: canary\n      serve: on\n"
                "      stages:\n        - { percentage: 10, duration: 1h }\n"
                "        - { percentage: 100 }\n")
    return repo


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def transition_to_served(replicas, flags):
    """Promote f0..fN through a follower; time until all serve it."""
    leader = replicas[0].view()["leader"]
    follower = next(r for r in replicas if r.view()["replica"] != leader)
    samples = []
    for i in range(flags):
        flag = f"f{i}"
        # A user outside the 10 % that the promotion to 100 % moves in.
        user = next(u for u in range(1000)
                    if follower.http.call("GET", f"/api/v1/flags/{flag}/evaluate?userId=u{u}")[1]["value"] is False)
        path = f"/api/v1/flags/{flag}/evaluate?userId=u{user}"
        served = [None] * len(replicas)
        start = time.perf_counter()

        def poll(k):
            http = Http(replicas[k].base)
            while time.perf_counter() - start < 10:
                _, body = http.call("GET", path)
                if body and body.get("value") is True:
                    served[k] = time.perf_counter()
                    return

        threads = [threading.Thread(target=poll, args=(k,)) for k in range(len(replicas))]
        status, body = Http(follower.base).call("POST", f"/api/v1/rollouts/{flag}/promote")
        assert status == 200, body
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(served), f"{flag} not served everywhere"
        samples.append((max(served) - start) * 1000)
    return samples


def leader_kill(flagd, work, repo, etcd, ttl, kills):
    """kill -9 the leader; time until another replica leads."""
    args = ["--cluster", etcd.url, "--cluster-lease-ttl", ttl]
    replicas = [Flagd(flagd, work, f"k{i}", repo, args) for i in range(3)]
    samples = []
    for n in range(kills):
        leader = wait("a leader", lambda: next((r for r in replicas if r.view().get("leading")), None))
        rest = [r for r in replicas if r is not leader]
        leader.kill()
        start = time.perf_counter()
        wait("a new leader", lambda: any(r.view().get("leading") for r in rest))
        samples.append((time.perf_counter() - start) * 1000)
        replicas = rest + [Flagd(flagd, work, f"k{n + 3}", repo, args)]
    for r in replicas:
        r.kill()
    return samples


def wrk(base, duration):
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{duration}", f"{base}/api/v1/flags/f0/evaluate?userId=user-42"],
        capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flags", type=int, default=100)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--ttl", default="2s")
    p.add_argument("--duration", default="10s")
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    for tool in ("etcd", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"cluster-bench: needs {tool} (apt-get install etcd-server wrk)")
    flagd = os.environ.get("FLAGD")
    if not flagd:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "flagd"], cwd=ROOT, check=True)
        flagd = os.path.join(ROOT, "target", "release", "flagd")
    work = tempfile.mkdtemp()
    procs = []
    try:
        etcd = Etcd(work)
        procs.append(etcd.proc)
        repo = repo_with(work, a.flags)
        args = ["--cluster", etcd.url, "--cluster-lease-ttl", a.ttl]
        replicas = [Flagd(flagd, work, f"r{i}", repo, args) for i in range(3)]
        procs += [r.proc for r in replicas]
        wait("a leader", lambda: all(r.view().get("leader") for r in replicas))
        wait("every rollout started", lambda: all(
            len((r.http.call("GET", "/api/v1/rollouts")[1] or {}).get("rollouts", [])) == a.flags
            for r in replicas))

        # 3 first, on an idle cluster: one replica with --cluster and a
        # single flagd, alternately (the median of ROUNDS runs each, so
        # that the machine's other load falls on both alike).
        single = Flagd(flagd, work, "single", repo, [])
        procs.append(single.proc)
        runs = [(wrk(replicas[0].base, a.duration), wrk(single.base, a.duration))
                for _ in range(a.rounds)]
        clustered = statistics.median(c for c, _ in runs)
        alone = statistics.median(s for _, s in runs)
        single.kill()

        served = transition_to_served(replicas, a.flags)
        print(f"transition -> served on 3 replicas ({a.flags} promotions through a follower): "
              f"p50 {percentile(served, 50):.1f} ms, p99 {percentile(served, 99):.1f} ms, "
              f"max {max(served):.1f} ms")
        for r in replicas:
            r.kill()
        kills = leader_kill(flagd, work, repo, etcd, a.ttl, a.kills)
        print(f"leader kill -9 -> new leader deciding (lease TTL {a.ttl}, {a.kills} kills): "
              f"median {statistics.median(kills):.0f} ms, min {min(kills):.0f}, max {max(kills):.0f}")
        print(f"evaluation throughput, one replica (wrk -t2 -c64 -d{a.duration}, median of {a.rounds} "
              f"alternate runs): --cluster {clustered:.0f} req/s, single {alone:.0f} req/s, "
              f"ratio {clustered / alone:.3f}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
