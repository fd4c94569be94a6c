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

/// An error that carries its own exit code (for `--strict`).
#[derive(Debug)]
pub struct ExitError {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for ExitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitError {}

/// A usage error (exit 2): an option's value, or how options relate, is wrong.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    ExitError {
        code: exit::USAGE,
        message: message.into(),
    }
    .into()
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
