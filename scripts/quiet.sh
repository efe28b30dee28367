#!/bin/bash
# Runs a benchmark on a shared machine with the other builds and tests
# paused: SIGSTOP to every other cargo/rustc/linker/test/flagd/wrk/... process
# (matched by process name, or by an executable under a cargo target dir)
# while CMD runs, SIGCONT when it ends (docs/performance.md). On a 2-core
# machine a build beside a benchmark moves its medians two to three times.
#
#   scripts/quiet.sh CMD...
#   QUIET_KEEP="PID PID" scripts/quiet.sh CMD...   # spare those (a flagd being measured)
self=$$
names=" cargo rustc cc cc1 cc1plus ld ld.bfd collect2 cargo-nextest flagd flagctl node chromium etcd prometheus wrk valgrind perf "
is_mine() { local p=$1; while [ -n "$p" ] && [ "$p" -gt 1 ] 2>/dev/null; do [ "$p" = "$self" ] && return 0; p=$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | awk '{print $2}'); done; return 1; }
stopped=()
for d in /proc/[0-9]*; do
  pid=${d#/proc/}
  [ "$pid" = "$self" ] && continue
  case " ${QUIET_KEEP:-} " in *" $pid "*) continue;; esac
  comm=$(cat $d/comm 2>/dev/null) || continue
  exe=$(readlink $d/exe 2>/dev/null)
  match=
  case "$names" in *" $comm "*) match=1;; esac
  case "$exe" in /work/tgt-*|/work/*/target/*|/tmp/*/target/*) match=1;; esac
  [ -z "$match" ] && continue
  is_mine "$pid" && continue
  kill -STOP "$pid" 2>/dev/null && stopped+=("$pid")
done
echo "quiet.sh: paused ${#stopped[@]} processes" >&2
trap 'for p in "${stopped[@]}"; do kill -CONT "$p" 2>/dev/null; done' EXIT
"$@"
