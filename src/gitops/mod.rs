//! The review workflow over a flags repository, as `flagctl` runs it: what a
//! change does to a population before it merges ([`simulate`],
//! [`population`]), what it changes ([`diff`]), carrying it to the next
//! environment as a branch to review ([`promote`]), removing a flag the
//! same way ([`retire`]), and a new repository ([`scaffold`]). Nothing here runs in flagd.

pub mod diff;
pub mod population;
pub mod promote;
pub mod retire;
pub mod scaffold;
pub mod simulate;
