//! What reads git: a commit's tree as a repository snapshot, the one walk
//! listing a tree's files, and the remotes flagd fetches and flagctl pushes
//! to.

pub mod remote;
pub mod snapshot;
pub mod tree;
