//! Scans directories for flag keys the way `flagctl stale --src` does, and
//! prints what it searched and found: the measured side of
//! `scripts/refscan-bench.sh`, which times it against ripgrep.
//!
//! ```text
//! cargo run --release --example refscan -- keys.txt DIR…
//! ```

use std::path::PathBuf;

use hotswap_flags_gitops::lifecycle::refs::scan;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let keys_file = args.next().ok_or("usage: refscan KEYS_FILE DIR…")?;
    let keys: Vec<String> = std::fs::read_to_string(keys_file)?
        .lines()
        .map(str::to_owned)
        .collect();
    let dirs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let found = scan(&dirs, &keys)?;
    let refs: usize = found.refs.values().map(Vec::len).sum();
    println!(
        "{} files, {} bytes, {} references to {} keys, {} undefined",
        found.files,
        found.bytes,
        refs,
        found.refs.len(),
        found.undefined.len()
    );
    Ok(())
}
