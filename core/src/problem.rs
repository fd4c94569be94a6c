//! What the core says when something is wrong, or a run gave little: a message, and where it
//! can say one, a hint of what to do. The core has no error crate and prints nothing; the
//! commands show a problem as every other diagnostic (the message, then the hint on a line of
//! its own: the root package's `error::render`), and a warning as [`Problem::text`].

use std::fmt;

/// A message with an optional hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = Some(hint.into());
        self
    }

    /// The message with the same context before it (`<file>: <column>: `).
    pub fn context(mut self, context: impl fmt::Display) -> Problem {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// As a warning's text (the terminal's and the manifest's warnings): the message, then
    /// the hint on a line of its own after `hint: `.
    pub fn text(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{}\nhint: {hint}", self.message),
            None => self.message.clone(),
        }
    }
}

/// The message alone; the hint is shown apart ([`Problem::text`] joins them).
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl From<String> for Problem {
    fn from(message: String) -> Problem {
        Problem::new(message)
    }
}

impl From<&str> for Problem {
    fn from(message: &str) -> Problem {
        Problem::new(message)
    }
}
