#!/usr/bin/env python3
"""OFREP change events under load (docs/performance.md, Change events).

Starts flagd on a one-flag repository (loopback only), opens CLIENTS event
streams (`GET /ofrep/v1/events`), reports flagd's memory per open stream,
then edits the flag file EDITS times and reports how long each event took
from the file write to each client: p50 and p99 over every (edit, client).

    scripts/sse-load.py [--flagd target/release/flagd] [--clients 2000] [--edits 50]

Bounded in time: every wait has a deadline, and flagd is stopped at the end.
"""

import argparse
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time

FLAG = "flags:\n  banner:\n    type: string\n    variants: {{ v: \"{value}\" }}\n    default: v\n"
CONFIG = 'version = 1\n[[environments]]\nname = "prod"\npath = "envs/prod"\n'


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def open_stream(addr):
    sock = socket.create_connection(addr, timeout=10)
    sock.sendall(b"GET /ofrep/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("stream closed before its head")
        head += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.decode(errors="replace"))
    sock.setblocking(False)
    return sock


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flagd", default="target/release/flagd")
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=50)
    args = parser.parse_args()

    files = args.clients + 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, files * 2), hard), hard))

    repo = tempfile.mkdtemp(prefix="sse-load-")
    os.makedirs(f"{repo}/envs/prod")
    with open(f"{repo}/flags.toml", "w") as f:
        f.write(CONFIG)
    flag_file = f"{repo}/envs/prod/banner.yaml"
    with open(flag_file, "w") as f:
        f.write(FLAG.format(value="0"))
    flagd = subprocess.Popen(
        [args.flagd, "--env", "prod", "--repo", repo, "--listen", "127.0.0.1:0",
         "--state-dir", f"{repo}/.state", "--max-event-streams", str(args.clients + 10),
         "--max-connections", str(files), "--idle-timeout", "60s"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = flagd.stdout.readline()
        host, port = line.strip().rsplit("/", 1)[1].rsplit(":", 1)
        addr = (host, int(port))
        time.sleep(0.5)
        before = rss_kib(flagd.pid)
        opening = time.monotonic()
        streams = [open_stream(addr) for _ in range(args.clients)]
        opened = time.monotonic() - opening
        time.sleep(1)
        after = rss_kib(flagd.pid)
        print(f"{args.clients} streams open in {opened:.2f} s; flagd RSS {before / 1024:.1f} → "
              f"{after / 1024:.1f} MiB, {(after - before) / args.clients:.1f} KiB a stream")

        selector = selectors.DefaultSelector()
        for sock in streams:
            selector.register(sock, selectors.EVENT_READ)
        latencies = []
        for edit in range(1, args.edits + 1):
            pending = set(streams)
            written = time.monotonic()
            with open(flag_file, "w") as f:
                f.write(FLAG.format(value=edit))
            deadline = written + 10
            while pending and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=0.5):
                    data = key.fileobj.recv(65536)
                    if b"data: " in data and key.fileobj in pending:
                        pending.discard(key.fileobj)
                        latencies.append(time.monotonic() - written)
            if pending:
                print(f"edit {edit}: {len(pending)} clients got no event within 10 s", file=sys.stderr)
                return 1
            time.sleep(0.2)
        ms = [x * 1000 for x in latencies]
        print(f"{args.edits} edits × {args.clients} clients: file written → event received "
              f"p50 {statistics.median(ms):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms")
        return 0
    finally:
        flagd.terminate()
        flagd.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
