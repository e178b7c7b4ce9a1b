//! Model-name normalisation: how `openai/gpt-4o-2024-08-06` finds the price
//! of `gpt-4o`.

/// The name without its `provider/` prefix (`openai/gpt-4o` gives `gpt-4o`);
/// `None` when there is no `/`.
pub fn strip_provider(model: &str) -> Option<&str> {
    model.split_once('/').map(|(_, rest)| rest)
}

/// Strips a dated-snapshot suffix: `-2024-08-06`, `-20250929`, `@20250929`.
/// `None` when the name has none.
pub fn strip_date(model: &str) -> Option<&str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(i) = model.rfind(['-', '@']) {
        // `-` and `@` are ASCII, so `i + 1` is a character boundary.
        let tail = &model[i + 1..];
        if tail.len() == 8 && digits(tail) {
            return Some(&model[..i]);
        }
    }
    // `-YYYY-MM-DD` is 11 bytes; a non-ASCII name can put a character across
    // that cut, where slicing would panic, and such a tail is not a date anyway.
    let cut = model.len().checked_sub(11)?;
    if cut == 0 || !model.is_char_boundary(cut) {
        return None;
    }
    let (head, tail) = model.split_at(cut);
    let b = tail.as_bytes();
    // From here `tail` is 11 bytes starting at a boundary; the checks below
    // only slice it after its ASCII `-` separators are confirmed.
    if b[0] == b'-' && b[5] == b'-' && b[8] == b'-' && digits(&tail[1..5]) && digits(&tail[6..8]) && digits(&tail[9..])
    {
        return Some(head);
    }
    None
}

/// The keys a price lookup tries, in order: the name, the name without its
/// provider prefix, then each of those without a dated suffix. Absent
/// candidates are `None`; each lookup also tries its key lowercased.
pub fn lookup_keys(model: &str) -> [Option<&str>; 4] {
    let bare = strip_provider(model);
    [Some(model), bare, strip_date(model), bare.and_then(strip_date)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_stripped() {
        assert_eq!(strip_date("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(strip_date("claude-sonnet-4-5-20250929"), Some("claude-sonnet-4-5"));
        assert_eq!(strip_date("claude-sonnet-4-5@20250929"), Some("claude-sonnet-4-5"));
        assert_eq!(strip_date("gpt-4o"), None);
        assert_eq!(strip_date("o3"), None);
        // Exactly a date, with nothing before it, is not a dated model name.
        assert_eq!(strip_date("-2024-08-06"), None);
    }

    /// Regression: a multi-byte character across the 11-byte cut panicked in
    /// the runtime's copy (`obs_runtime::pricing::price("aé0123456789")`).
    #[test]
    fn a_character_across_the_cut_is_not_a_date() {
        assert_eq!(strip_date("aé0123456789"), None);
        assert_eq!(strip_date("é-2024-08-06"), Some("é"));
        assert_eq!(strip_date("ééééééé"), None);
        assert_eq!(strip_date("模型-20250929"), Some("模型"));
    }

    #[test]
    fn lookup_keys_in_order() {
        assert_eq!(
            lookup_keys("openai/gpt-4o-2024-08-06"),
            [Some("openai/gpt-4o-2024-08-06"), Some("gpt-4o-2024-08-06"), Some("openai/gpt-4o"), Some("gpt-4o")]
        );
        assert_eq!(lookup_keys("gpt-4o"), [Some("gpt-4o"), None, None, None]);
    }
}
