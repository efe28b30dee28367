//! The flag impact dashboard (docs/dashboard.md): server-rendered HTML
//! pages with inline SVG charts, one stylesheet and one small script, all
//! embedded in the binary. This module renders; `server::ui` serves, with
//! the API's guards (docs/security.md, The dashboard).
//!
//! - [`overview`]: every flag, searchable, filtered and paginated;
//! - [`flag`]: one flag: rollout timeline, check charts, experiment,
//!   audit trail, the flag as written and an explanation form;
//! - [`chart`]: a check's recorded values as an SVG chart;
//! - [`html`]: escaping and the page frame.

pub mod chart;
pub mod flag;
pub mod html;
pub mod overview;

/// What the dashboard offers (`--ui`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Not served: `/ui/` is 404.
    Off,
    /// Pages for the read role; no steering controls.
    #[default]
    Read,
    /// Also steering controls, for the operator (admin) role.
    Steer,
}

impl Mode {
    /// The option's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Read => "read",
            Mode::Steer => "steer",
        }
    }
}

/// The Content-Security-Policy of every `/ui` response: nothing inline,
/// nothing from elsewhere (docs/dashboard.md, Security).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The stylesheet, served at `/ui/assets/dashboard.css`.
pub const CSS: &str = include_str!("assets/dashboard.css");

/// The script (live updates, steering), served at `/ui/assets/dashboard.js`.
pub const JS: &str = include_str!("assets/dashboard.js");

/// What the viewer may do, and how the page reaches the change events.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// Who is looking (a token's subject), when auth is on.
    pub subject: Option<String>,
    /// Steering controls are shown (`--ui steer` and the operator role).
    pub can_steer: bool,
    /// The change-event stream's URL (with a ticket when auth is on);
    /// `None`: no live updates.
    pub events: Option<String>,
    /// Auth is on: show a sign-out button.
    pub signed_in: bool,
}
