//! Git remotes as git itself treats them, shared by flagd's git feed (fetch)
//! and `flagctl promote --push`: the same credentials, the same limit on
//! retries, the same reading of what is a URL.

use std::path::Path;

use git2::{Cred, CredentialType, RemoteCallbacks};

/// libgit2 asks for credentials again for as long as the server refuses
/// them; a wrong password must fail, not loop.
const MAX_CREDENTIAL_ATTEMPTS: u32 = 3;

/// Callbacks that answer credential requests the way git does: the SSH
/// agent for ssh, the credential helpers of `config` for https, libgit2's
/// defaults otherwise.
pub fn credentials(config: git2::Config) -> RemoteCallbacks<'static> {
    let mut attempts = 0;
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(move |url, username, allowed| {
        attempts += 1;
        if attempts > MAX_CREDENTIAL_ATTEMPTS {
            return Err(git2::Error::from_str("authentication failed"));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            Cred::ssh_key_from_agent(username.unwrap_or("git"))
        } else if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            Cred::credential_helper(&config, url, username)
        } else {
            Cred::default()
        }
    });
    callbacks
}

/// Whether git reads `s` as a URL (`scheme://…`, or scp-like `host:path`)
/// rather than a local path or a remote's name.
pub fn is_url(s: &str) -> bool {
    // A one-letter "host" is a Windows drive, not scp syntax.
    let scp_like = s
        .split_once(':')
        .is_some_and(|(host, _)| !host.contains('/') && host.len() > 1);
    s.contains("://") || scp_like
}

/// A remote given as a local path that names nothing on disk: git2 calls it
/// an "unsupported URL protocol", which sends people looking in the wrong
/// place, so callers say "no such directory" instead.
pub fn is_missing_path(s: &str) -> bool {
    !is_url(s) && !Path::new(s).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absent_local_paths_are_called_missing() {
        assert!(is_missing_path("/nonexistent/flags.git"));
        assert!(is_missing_path("relative/flags.git"));
        assert!(!is_missing_path("/"));
        assert!(!is_missing_path("https://example.com/flags.git"));
        assert!(!is_missing_path("file:///nonexistent"));
        assert!(!is_missing_path("git@github.com:acme/flags.git"));
        // A remote's name is neither a URL nor a path; a drive letter is
        // not a host.
        assert!(!is_url("origin") && !is_url("C:/flags"));
    }
}
