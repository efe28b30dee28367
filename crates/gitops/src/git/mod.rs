//! What reads git: a commit's tree as a repository snapshot, and the
//! remotes flagd fetches and flagctl pushes to.

pub mod remote;
pub mod snapshot;
