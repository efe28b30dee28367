//! A commit's tree walked: the files below a directory, as a snapshot
//! lists them and as the lifecycle history reads each commit.

use git2::{ObjectType, Oid, Repository, Tree};

use hotswap_flags_core::repo::snapshot::join;

/// Every file (blob) below `tree`: its path, `dir` joined with the names on
/// the way down, and its blob id, in the order of a depth-first walk (sort
/// them for a listing). Entries whose name starts with `.` are skipped, as
/// the loader skips hidden files, and so are names that are not UTF-8 and
/// entries that are neither trees nor blobs (submodules). A subtree that
/// cannot be read ends the walk with `error(its path, git's error)`.
pub fn blobs<E>(
    repo: &Repository,
    tree: Tree<'_>,
    dir: &str,
    error: impl Fn(&str, git2::Error) -> E,
) -> Result<Vec<(String, Oid)>, E> {
    let mut out = Vec::new();
    let mut stack = vec![(tree, dir.to_owned())];
    while let Some((tree, rel)) = stack.pop() {
        for entry in tree.iter() {
            let Ok(name) = entry.name() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let child = join(&rel, name);
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    let t = repo.find_tree(entry.id()).map_err(|e| error(&child, e))?;
                    stack.push((t, child));
                }
                Some(ObjectType::Blob) => out.push((child, entry.id())),
                _ => {}
            }
        }
    }
    Ok(out)
}
