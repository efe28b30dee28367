//! The git side of a branch (a promotion, a retirement): one commit on a
//! new branch, built from HEAD's tree plus the changed files, without
//! touching the working tree or the index; and an optional push.

use std::path::Path;

use git2::{BranchType, FileMode, Oid, PushOptions, Remote, Repository, build::TreeUpdateBuilder};

use hotswap_flags_core::diagnostic::did_you_mean;

/// The git repository holding `dir`, and `dir`'s path inside it (`/`-separated,
/// empty at the root).
pub fn discover(dir: &Path) -> Result<(Repository, String), git2::Error> {
    let repo = Repository::discover(dir)?;
    let prefix = match repo.workdir() {
        None => String::new(),
        Some(workdir) => {
            let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            canon(dir)
                .strip_prefix(canon(workdir))
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default()
        }
    };
    Ok((repo, prefix))
}

/// Creates branch `branch` at a new commit whose parent is `parent` and
/// whose tree is the parent's with `files` (git paths) written. Author and
/// committer come from git config. Refuses an existing branch.
pub fn commit_on_branch(
    repo: &Repository,
    parent: Oid,
    files: &[(String, Vec<u8>)],
    branch: &str,
    message: &str,
) -> Result<Oid, git2::Error> {
    // `refs/heads/x` would be taken as a name and make
    // `refs/heads/refs/heads/x`; any `refs/…` is more likely a mistake.
    if let Some(name) = branch.strip_prefix("refs/") {
        let short = name.strip_prefix("heads/").unwrap_or(name);
        return Err(git2::Error::from_str(&format!(
            "`{branch}` is a full ref name; give the branch name alone (`{short}`)"
        )));
    }
    if !git2::Branch::name_is_valid(branch)? {
        return Err(git2::Error::from_str(&format!(
            "`{branch}` is not a valid branch name"
        )));
    }
    if repo.find_branch(branch, BranchType::Local).is_ok() {
        return Err(git2::Error::from_str(&format!(
            "branch `{branch}` already exists; delete it or pass --branch"
        )));
    }
    let parent = repo.find_commit(parent)?;
    let base_tree = parent.tree()?;
    let mut update = TreeUpdateBuilder::new();
    for (path, bytes) in files {
        let blob = repo.blob(bytes)?;
        let mode = match base_tree.get_path(Path::new(path)) {
            Ok(entry) if entry.filemode() == i32::from(FileMode::BlobExecutable) => {
                FileMode::BlobExecutable
            }
            _ => FileMode::Blob,
        };
        update.upsert(path.as_str(), blob, mode);
    }
    let tree = repo.find_tree(update.create_updated(repo, &base_tree)?)?;
    let sig = repo.signature().map_err(|e| {
        git2::Error::from_str(&format!(
            "no author for the commit ({}); set git config user.name and user.email",
            e.message()
        ))
    })?;
    let commit = repo.commit(None, &sig, &sig, message, &tree, &[&parent])?;
    repo.branch(branch, &repo.find_commit(commit)?, false)?;
    Ok(commit)
}

/// The remote `name_or_url` designates: a configured remote of that name,
/// else a URL or path as git reads one (`scheme://…`, scp-like
/// `user@host:path`, an existing directory). Anything else is a remote name
/// that does not exist, said so with the remotes there are; git2 would
/// otherwise try it as a URL and answer "unsupported URL protocol".
pub fn remote<'r>(repo: &'r Repository, name_or_url: &str) -> Result<Remote<'r>, git2::Error> {
    if let Ok(found) = repo.find_remote(name_or_url) {
        return Ok(found);
    }
    if crate::repo::remote::is_url(name_or_url) || Path::new(name_or_url).exists() {
        return repo.remote_anonymous(name_or_url);
    }
    let remotes = repo.remotes()?;
    let names: Vec<&str> = remotes.iter().filter_map(|n| n.ok().flatten()).collect();
    let known = match (
        did_you_mean(name_or_url, names.iter().copied()),
        names.len(),
    ) {
        (Some(hint), _) => hint,
        (None, 0) => "this repository has no remotes".to_owned(),
        (None, _) => format!(
            "remotes: {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Err(git2::Error::from_str(&format!(
        "no remote named `{name_or_url}` ({known})"
    )))
}

/// Pushes `branch` to `remote` (a remote's name or a URL, see [`remote`]),
/// using the credentials git would: the SSH agent, credential helpers,
/// defaults.
pub fn push(repo: &Repository, remote: &str, branch: &str) -> Result<(), git2::Error> {
    let mut remote = self::remote(repo, remote)?;
    let mut rejected: Option<String> = None;
    let mut callbacks = crate::repo::remote::credentials(repo.config()?);
    callbacks.push_update_reference(|name, status| {
        if let Some(msg) = status {
            rejected = Some(format!("{name}: {msg}"));
        }
        Ok(())
    });
    let mut opts = PushOptions::new();
    opts.remote_callbacks(callbacks);
    let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
    remote.push(&[spec.as_str()], Some(&mut opts))?;
    drop(opts);
    match rejected {
        Some(why) => Err(git2::Error::from_str(&format!("push rejected: {why}"))),
        None => Ok(()),
    }
}
