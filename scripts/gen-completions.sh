#!/usr/bin/env bash
# Regenerates the committed shell completions (completions/) and man pages
# (man/) from the binaries' clap definitions. tests/testsuite/completions.rs fails when
# a committed file differs from what the binary prints: run this script
# after changing a command-line option, and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."

# One row per binary: name | arguments printing a shell's completions
# (the shell is appended) | arguments printing the man page | arguments
# writing every page into a directory (appended), or empty.
# Keep in sync with the BINARIES table of tests/testsuite/completions.rs.
BINARIES=(
  "flagctl|completions|man|man --out-dir"
  "flagd|--completions|--man|"
)
SHELLS=(bash zsh fish powershell elvish)

completion_file() { # SHELL BINARY
  case "$1" in
    bash) echo "completions/$2.bash" ;;
    zsh) echo "completions/_$2" ;;
    fish) echo "completions/$2.fish" ;;
    powershell) echo "completions/_$2.ps1" ;;
    elvish) echo "completions/$2.elv" ;;
  esac
}

cargo build --quiet --bins
mkdir -p completions man
for row in "${BINARIES[@]}"; do
  IFS='|' read -r bin completions man man_dir <<<"$row"
  exe="${CARGO_TARGET_DIR:-target}/debug/$bin"
  for shell in "${SHELLS[@]}"; do
    # shellcheck disable=SC2086 # the argument columns are word lists
    "$exe" $completions "$shell" >"$(completion_file "$shell" "$bin")"
  done
  rm -f "man/$bin.1" man/"$bin"-*.1
  if [ -n "$man_dir" ]; then
    # shellcheck disable=SC2086
    "$exe" $man_dir man
  else
    # shellcheck disable=SC2086
    "$exe" $man >"man/$bin.1"
  fi
  echo "regenerated completions and man pages of $bin"
done
