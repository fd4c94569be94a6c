//! Errors that carry their exit code. `cli.rs` is the one place they become a message and a
//! code; the engine and the commands only say which code an error deserves.

/// Exit codes.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const STRICT: i32 = 3;
    /// `--strict`: the run found little to go on (a code column that is not dm+d, most
    /// opioid rows unresolved, no opioid at all), and stopped before writing.
    pub const FOUND_LITTLE: i32 = 4;
}

/// An error as the user is shown it: what went wrong, what to do about it (the hint, shown by
/// `cli.rs` on a line of its own after the causes, as uv shows its hints), and the exit code
/// it deserves. Raised as an error, or attached as the context of another error
/// (`.with_context(|| Diagnostic::error(..).hint(..))`).
#[derive(Debug)]
pub struct Diagnostic {
    pub code: i32,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error (exit 1).
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic::with_code(exit::ERROR, message)
    }

    /// A usage error (exit 2): an option's value, or how options relate, is wrong.
    pub fn usage(message: impl Into<String>) -> Diagnostic {
        Diagnostic::with_code(exit::USAGE, message)
    }

    /// A diagnostic of what the core said.
    pub fn from_problem(code: i32, p: opal_core::problem::Problem) -> Diagnostic {
        Diagnostic {
            code,
            message: p.message,
            hint: p.hint,
        }
    }

    pub fn with_code(code: i32, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// What the user can do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// A usage error (exit 2): an option's value, or how options relate, is wrong.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Diagnostic::usage(message).into()
}

/// A usage error with its hint.
pub fn usage_hinted(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    Diagnostic::usage(message).hint(hint).into()
}

/// An error (exit 1) with its hint.
pub fn hinted(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    Diagnostic::error(message).hint(hint).into()
}

/// An error (exit 1) the core described: its message and hint.
pub fn problem(p: opal_core::problem::Problem) -> anyhow::Error {
    Diagnostic::from_problem(exit::ERROR, p).into()
}

/// A usage error (exit 2) the core described.
pub fn usage_problem(p: opal_core::problem::Problem) -> anyhow::Error {
    Diagnostic::from_problem(exit::USAGE, p).into()
}

/// A warning's text with its hint on a line of its own, as the terminal and the manifest's
/// warnings show it (the core's [`opal_core::problem::Problem::text`], the one place the two
/// are joined).
pub fn with_hint(message: impl Into<String>, hint: impl Into<String>) -> String {
    opal_core::problem::Problem::new(message).hint(hint).text()
}

/// An error shown to the user: the message and its causes on one line, then the hint (the
/// first diagnostic's in the chain that has one) on a line of its own; and its exit code.
/// Text from the input is escaped ([`escape`]).
pub fn render(err: &anyhow::Error) -> (String, i32) {
    let diagnostic = err.downcast_ref::<Diagnostic>();
    let code = diagnostic.map_or(exit::ERROR, |d| d.code);
    let text = format!("error: {}", escape(&format!("{err:#}")));
    match diagnostic.and_then(|d| d.hint.as_deref()) {
        Some(hint) => (with_hint(text, escape(hint)), code),
        None => (text, code),
    }
}

/// Text for a terminal: control characters (C0 but the line break, DEL, C1), bidirectional
/// overrides and isolates, zero-width characters and non-characters are written as `\u{..}`, so that text
/// from an input (a practice code, a product name, a binary file) cannot move the cursor,
/// ring the bell, recolour the terminal or reorder what is shown.
pub fn escape(text: &str) -> String {
    let risky = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
            // Non-characters (U+FFFE, U+FFFF, U+FDD0–U+FDEF, each plane's last two).
            || matches!(c, '\u{fdd0}'..='\u{fdef}')
            || (c as u32) & 0xFFFE == 0xFFFE
    };
    if !text.chars().any(risky) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if risky(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hint comes after the message and its causes, on a line of its own, and the exit
    /// code is the diagnostic's wherever it is in the chain.
    #[test]
    fn a_hint_follows_the_causes_and_the_code_survives_context() {
        use anyhow::Context;
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let err = Err::<(), _>(io)
            .with_context(|| Diagnostic::error("cannot create out").hint("choose --out"))
            .unwrap_err();
        assert_eq!(
            render(&err),
            (
                "error: cannot create out: denied\nhint: choose --out".to_string(),
                exit::ERROR
            )
        );
        let err = Err::<(), _>(usage_hinted("--to 2030-13 is not a month", "write YYYY-MM"))
            .context("reading the options")
            .unwrap_err();
        assert_eq!(
            render(&err),
            (
                "error: reading the options: --to 2030-13 is not a month\nhint: write YYYY-MM"
                    .to_string(),
                exit::USAGE
            )
        );
        // No hint: the message alone; text from the input escaped.
        let err = anyhow::anyhow!("bad \u{1b}[31m");
        assert_eq!(render(&err).0, "error: bad \\u{1b}[31m");
    }

    /// What a terminal must not be handed raw, and what it may.
    #[test]
    fn terminal_text_is_escaped() {
        assert_eq!(escape("Y90001"), "Y90001");
        assert_eq!(escape("a\u{1b}[31mb\u{7}"), "a\\u{1b}[31mb\\u{7}");
        assert_eq!(escape("X\u{fffe}1\u{ffff}"), "X\\u{fffe}1\\u{ffff}");
        assert_eq!(escape("\u{fdd0}\u{1fffe}"), "\\u{fdd0}\\u{1fffe}");
        assert_eq!(escape("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(escape("line\nnext é £ ☃"), "line\nnext é £ ☃");
    }
}
