//! JSON string escaping, shared by log lines and captured content, so a value
//! is escaped the same way in both. Control characters and DEL are escaped
//! too: a value can never break a line or carry a terminal escape sequence.

use std::fmt::Write as _;

/// Appends `c` as it stands inside a JSON string.
pub(crate) fn escape_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => out.push(c),
    }
}

/// The bytes [`escape_char`] appends for `c`.
pub(crate) fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 || c == '\u{7f}' => 6,
        c => c.len_utf8(),
    }
}

/// Appends `s` as a JSON string, quotes included.
#[cfg_attr(not(feature = "logs"), allow(dead_code))]
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        escape_char(out, c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_what_is_written() {
        for c in ['a', 'é', '"', '\\', '\n', '\u{1}', '\u{7f}', '😀'] {
            let mut s = String::new();
            escape_char(&mut s, c);
            assert_eq!(s.len(), escaped_len(c), "{c:?} -> {s}");
        }
    }
}
