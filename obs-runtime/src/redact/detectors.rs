//! Free-text detectors: find secrets and personal data in prompts,
//! completions and tool input/output, and replace each finding with
//! `[REDACTED:kind]`.
//!
//! | kind | what is found |
//! |---|---|
//! | `email` | `local@domain.tld` (the last label alphabetic, not a file extension like `.png`) |
//! | `card` | 13 to 19 digits, alone or grouped by single spaces or dashes, with a card issuer's prefix and a valid Luhn check digit |
//! | `iban` | a country code, 2 check digits and the country's length of letters and digits (grouped by 4 or not), valid under mod-97 |
//! | `jwt` | `eyJ..`.`ey..`.`..` (three base64url segments) |
//! | `bearer` | the token after `Bearer ` (12 characters or more, with a digit), or any token after `Bearer` in an `Authorization` header or parameter |
//! | `basic_auth` | the credentials after `Basic `: base64 that decodes to text with a `:` (`user:password`), or any token after `Basic` in an `Authorization` header or parameter |
//! | `url_password` | the password of `scheme://user:password@host` for any scheme (`postgres://`, `redis://:pw@`, `mongodb+srv://`, `https://` proxies, ...); scheme, user and host are kept |
//! | `openai_key` | `sk-` and 20 or more of `[A-Za-z0-9_-]` with a digit, an upper- and a lowercase letter |
//! | `anthropic_key` | `sk-ant-` and 20 or more of `[A-Za-z0-9_-]` |
//! | `aws_key` | `AKIA` or `ASIA` and 16 of `[A-Z0-9]` |
//! | `github_token` | `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 or more letters and digits; `github_pat_` and 22 or more |
//! | `slack_token` | `xoxa-`, `xoxb-`, `xoxe-`, `xoxp-`, `xoxr-` or `xoxs-` and 10 or more of `[A-Za-z0-9-]` with a digit |
//! | `google_key` | `AIza` and 35 or more of `[A-Za-z0-9_-]` |
//! | `private_key` | a PEM block from `-----BEGIN .. PRIVATE KEY-----` to its `-----END ..-----` (or, cut short, to the end of its base64 lines) |
//! | `secret` | the value in `password=..`, `api_key = "..."`, `"token": ".."` (a key for which [`super::is_secret_name`] holds, or an ODBC `PWD=`), so key=value DSNs (`host=db user=app password=..`) too; the credentials of `Authorization: <scheme> ..` for other schemes, or without one |
//!
//! Keys, tokens and digit runs are only found at the start of a word, so
//! `task-sk-...` inside an identifier is not a key and `12345` inside
//! `A12345` is not a card. A URL without a password is left whole: the user
//! of `ssh://git@host` or `git@host:org/repo` is not an email address. Your own patterns are added with [`add_pattern`].
//! Every replacement increments `redactions_total{kind}`.
//!
//! The scanner is a single pass over the bytes with a 256-entry table, so
//! ordinary text costs a table lookup per byte; see `benches/redact.rs`.

use super::is_secret_name;
use crate::metrics::Counter;
use std::borrow::Cow;
use std::fmt;
use std::sync::{OnceLock, RwLock};

/// A built-in detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// An email address.
    Email,
    /// A payment card number.
    Card,
    /// An international bank account number.
    Iban,
    /// A JSON web token.
    Jwt,
    /// The token of an `Authorization: Bearer` header.
    Bearer,
    /// An OpenAI API key.
    OpenAiKey,
    /// An Anthropic API key.
    AnthropicKey,
    /// An AWS access key id.
    AwsKey,
    /// A GitHub token.
    GithubToken,
    /// A Slack token.
    SlackToken,
    /// A Google API key.
    GoogleKey,
    /// A PEM private key block.
    PrivateKey,
    /// The value of a secret-named parameter or JSON key.
    Secret,
    /// The credentials of an `Authorization: Basic` header.
    BasicAuth,
    /// The password in a URL's `user:password@`.
    UrlPassword,
}

impl Kind {
    /// Every built-in detector.
    pub const ALL: [Kind; 15] = [
        Kind::Email,
        Kind::Card,
        Kind::Iban,
        Kind::Jwt,
        Kind::Bearer,
        Kind::OpenAiKey,
        Kind::AnthropicKey,
        Kind::AwsKey,
        Kind::GithubToken,
        Kind::SlackToken,
        Kind::GoogleKey,
        Kind::PrivateKey,
        Kind::Secret,
        Kind::BasicAuth,
        Kind::UrlPassword,
    ];

    /// The name in `[REDACTED:name]` and in the `kind` label.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Card => "card",
            Kind::Iban => "iban",
            Kind::Jwt => "jwt",
            Kind::Bearer => "bearer",
            Kind::OpenAiKey => "openai_key",
            Kind::AnthropicKey => "anthropic_key",
            Kind::AwsKey => "aws_key",
            Kind::GithubToken => "github_token",
            Kind::SlackToken => "slack_token",
            Kind::GoogleKey => "google_key",
            Kind::PrivateKey => "private_key",
            Kind::Secret => "secret",
            Kind::BasicAuth => "basic_auth",
            Kind::UrlPassword => "url_password",
        }
    }

    /// The text that replaces a finding: `[REDACTED:email]`.
    pub fn replacement(self) -> &'static str {
        match self {
            Kind::Email => "[REDACTED:email]",
            Kind::Card => "[REDACTED:card]",
            Kind::Iban => "[REDACTED:iban]",
            Kind::Jwt => "[REDACTED:jwt]",
            Kind::Bearer => "[REDACTED:bearer]",
            Kind::OpenAiKey => "[REDACTED:openai_key]",
            Kind::AnthropicKey => "[REDACTED:anthropic_key]",
            Kind::AwsKey => "[REDACTED:aws_key]",
            Kind::GithubToken => "[REDACTED:github_token]",
            Kind::SlackToken => "[REDACTED:slack_token]",
            Kind::GoogleKey => "[REDACTED:google_key]",
            Kind::PrivateKey => "[REDACTED:private_key]",
            Kind::Secret => "[REDACTED:secret]",
            Kind::BasicAuth => "[REDACTED:basic_auth]",
            Kind::UrlPassword => "[REDACTED:url_password]",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One finding: its kind's name and its byte range in the scanned text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `email`, `card`, ... or the kind of a pattern from [`add_pattern`].
    pub kind: &'static str,
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
}

/// A finding before overlaps are merged, with its counter.
#[derive(Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    kind: &'static str,
    counter: Option<Counter>,
}

// ---------------------------------------------------------------------------
// Byte classes

/// `[A-Za-z0-9_]`: what a word is made of, for the word-start rule.
const WORD: u8 = 1;
/// Can start a detector at the start of a word.
const START: u8 = 2;
/// Triggers a detector wherever it is (`@`, `=`, `:`, `-`).
const ANY: u8 = 4;

static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            t[c] |= WORD;
        }
        if b.is_ascii_digit() || b.is_ascii_uppercase() || matches!(b, b'b' | b'e' | b'g' | b's' | b'x') {
            t[c] |= START;
        }
        if matches!(b, b'@' | b'=' | b':' | b'-') {
            t[c] |= ANY;
        }
        c += 1;
    }
    t
}

fn is_word(b: u8) -> bool {
    CLASS[b as usize] & WORD != 0
}

/// End of the run of bytes from `i` that satisfy `f`.
#[inline]
fn run(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    let mut j = i;
    while j < b.len() && f(b[j]) {
        j += 1;
    }
    j
}

fn at(b: &[u8], i: usize, lit: &[u8]) -> bool {
    b.len() >= i + lit.len() && &b[i..i + lit.len()] == lit
}

fn b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

// ---------------------------------------------------------------------------
// The scanner

/// Every built-in finding in `text`, in order, without overlaps.
fn builtin(text: &str, out: &mut Vec<Hit>) {
    let b = text.as_bytes();
    let counters = builtin_counters();
    let mut i = 0;
    let mut prev_word = false;
    let mut floor = 0;
    loop {
        // The hot loop: one table lookup per byte until a byte that can
        // start a finding; the detectors live out of line so that this loop
        // keeps its state in registers.
        while i < b.len() {
            let cls = CLASS[b[i] as usize];
            if cls & ANY != 0 || (cls & START != 0 && !prev_word) {
                break;
            }
            prev_word = cls & WORD != 0;
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        match detect(text, i, floor) {
            Step::Hit(kind, s, e) => {
                out.push(Hit { start: s, end: e, kind: kind.name(), counter: counters[kind.index()] });
                floor = e;
                i = e;
                prev_word = e > 0 && is_word(b[e - 1]);
            }
            Step::Skip(e) => {
                i = e;
                prev_word = true;
            }
            Step::Miss => {
                prev_word = is_word(b[i]);
                i += 1;
            }
        }
    }
}

/// The detectors for the byte at `i`, which is `@`, `=`, `:`, `-` or the
/// start of a word.
#[inline(never)]
fn detect(text: &str, i: usize, floor: usize) -> Step {
    let b = text.as_bytes();
    let hit = match b[i] {
        b'@' => email(b, i, floor).map(|(s, e)| (Kind::Email, s, e)),
        b'-' => pem(text, i).map(|e| (Kind::PrivateKey, i, e)),
        b':' if at(b, i, b"://") => url_password(b, i),
        b'=' | b':' => secret_param(text, i, floor),
        _ => return word_start(b, i),
    };
    hit.map_or(Step::Miss, |(k, s, e)| Step::Hit(k, s, e))
}

/// What a detector at the start of a word decided.
enum Step {
    /// A finding.
    Hit(Kind, usize, usize),
    /// Nothing to redact up to this byte, and nothing inside to look at (an
    /// IBAN-shaped token whose check fails is not a card either).
    Skip(usize),
    Miss,
}

/// Detectors that start at the start of a word.
fn word_start(b: &[u8], i: usize) -> Step {
    let c = b[i];
    let found = match c {
        b'0'..=b'9' => card(b, i).map(|e| (Kind::Card, e)),
        b'e' => jwt(b, i).map(|e| (Kind::Jwt, e)),
        b's' => sk_key(b, i),
        b'g' => github(b, i).map(|e| (Kind::GithubToken, e)),
        b'x' => slack(b, i).map(|e| (Kind::SlackToken, e)),
        b'b' => return auth_word(b, i).map_or(Step::Miss, |(k, s, e)| Step::Hit(k, s, e)),
        b'A'..=b'Z' => {
            if c == b'B' {
                if let Some((k, s, e)) = auth_word(b, i) {
                    return Step::Hit(k, s, e);
                }
            }
            if let Some((k, e)) = if c == b'A' { aws(b, i).or_else(|| google(b, i)) } else { None } {
                return Step::Hit(k, i, e);
            }
            return match iban(b, i) {
                Iban::Valid(e) => Step::Hit(Kind::Iban, i, e),
                Iban::Shaped(e) => Step::Skip(e),
                Iban::No => Step::Miss,
            };
        }
        _ => None,
    };
    found.map_or(Step::Miss, |(k, e)| Step::Hit(k, i, e))
}

fn email(b: &[u8], at_sign: usize, floor: usize) -> Option<(usize, usize)> {
    let local = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-');
    let mut s = at_sign;
    while s > floor && at_sign - s < 64 && local(b[s - 1]) {
        s -= 1;
    }
    while s < at_sign && b[s] == b'.' {
        s += 1;
    }
    // The user of a URL (`ssh://git@host`) is not an address.
    if s == at_sign || (s >= 3 && &b[s - 3..s] == b"://") {
        return None;
    }
    let mut e = run(b, at_sign + 1, |c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-');
    while e > at_sign + 1 && matches!(b[e - 1], b'.' | b'-') {
        e -= 1;
    }
    // `git@github.com:org/repo` and `user@host:5432`: a remote, not an address.
    if b.get(e) == Some(&b':') && b.get(e + 1).is_some_and(|c| !c.is_ascii_whitespace()) {
        return None;
    }
    let domain = &b[at_sign + 1..e];
    let mut labels = domain.split(|&c| c == b'.');
    let tld = domain.rsplit(|&c| c == b'.').next()?;
    let dots = domain.iter().filter(|&&c| c == b'.').count();
    let labels_ok = labels.all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-');
    let tld_ok = tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic) && !is_file_extension(tld);
    (dots >= 1 && labels_ok && tld_ok).then_some((s, e))
}

/// File extensions that are not top-level domains: `icon@2x.png` is a file.
fn is_file_extension(tld: &[u8]) -> bool {
    const EXT: &[&[u8]] = &[
        b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"bmp", b"tif", b"tiff", b"ico", b"css", b"js", b"json",
        b"txt", b"html", b"htm", b"yaml", b"yml", b"toml", b"lock", b"pdf", b"csv", b"log",
    ];
    EXT.iter().any(|e| e.eq_ignore_ascii_case(tld))
}

fn card(b: &[u8], i: usize) -> Option<usize> {
    // Issuers' prefixes start with 2 to 6; most numbers in text end here.
    if !(b'2'..=b'6').contains(&b[i]) || (i > 0 && matches!(b[i - 1], b'.' | b',' | b'-' | b'+' | b'/')) {
        return None;
    }
    let first = run(b, i, |c| c.is_ascii_digit());
    let grouped = matches!(b.get(first), Some(b' ' | b'-')) && b.get(first + 1).is_some_and(u8::is_ascii_digit);
    if first - i < 13 && !grouped {
        return None;
    }
    if continues_a_number(b, i) {
        return None;
    }
    let mut digits = [0u8; 19];
    let mut nd = 0;
    // (end byte, digits so far, digits in this group)
    let mut groups = [(0usize, 0usize, 0usize); 8];
    let mut ng = 0;
    let mut sep = None;
    let mut j = i;
    loop {
        let e = run(b, j, |c| c.is_ascii_digit());
        let len = e - j;
        // Groups of a grouped card have at most 6 digits; a longer run is a
        // number of its own and is not joined with the next one.
        if ng > 0 && len > 6 {
            break;
        }
        if nd + len > 19 {
            if ng == 0 {
                return None;
            }
            break;
        }
        for (k, &d) in b[j..e].iter().enumerate() {
            digits[nd + k] = d - b'0';
        }
        nd += len;
        groups[ng] = (e, nd, len);
        ng += 1;
        if ng == groups.len() {
            break;
        }
        if len > 6 {
            break;
        }
        let next_sep = b.get(e).copied().filter(|c| matches!(c, b' ' | b'-'));
        match next_sep {
            Some(s) if b.get(e + 1).is_some_and(u8::is_ascii_digit) && sep.map_or(true, |p| p == s) => {
                sep = Some(s);
                j = e + 1;
            }
            _ => break,
        }
    }
    for k in (0..ng).rev() {
        let (end, count, _) = groups[k];
        if !(13..=19).contains(&count) {
            continue;
        }
        if k == ng - 1 {
            let after = b.get(end).copied();
            let decimal = matches!(after, Some(b'.' | b',')) && b.get(end + 1).is_some_and(u8::is_ascii_digit);
            if after.is_some_and(is_word) || decimal {
                continue;
            }
        }
        // A group of 1 or 2 digits is a separate number (a quantity before
        // the card, a day after it): printed cards group by 3 to 6.
        if k > 0 && groups[..=k].iter().any(|g| g.2 < 3) {
            continue;
        }
        let d = &digits[..count];
        if issuer(d) && luhn(d) {
            return Some(end);
        }
    }
    None
}

/// Whether the group of digits at `i` is the second or later group of a
/// longer grouped number (`9400 4277 6890 5803 4669 75`, an IBAN's digits):
/// the same separator before and after it, and a group of three or more
/// digits and capitals before. A card is the start of its grouped number.
fn continues_a_number(b: &[u8], i: usize) -> bool {
    if i < 2 || !matches!(b[i - 1], b' ' | b'-') || !b[i - 2].is_ascii_digit() {
        return false;
    }
    let sep = b[i - 1];
    let after = run(b, i, |c| c.is_ascii_digit());
    if b.get(after) != Some(&sep) || !b.get(after + 1).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut k = i - 1;
    while k > 0 && (b[k - 1].is_ascii_digit() || b[k - 1].is_ascii_uppercase()) {
        k -= 1;
    }
    i - 1 - k >= 3
}

/// Whether the digits start like a card of a known issuer, for their length.
fn issuer(d: &[u8]) -> bool {
    let n = d.len();
    let p = |k: usize| d[..k].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    match d[0] {
        4 => matches!(n, 13 | 16 | 19),
        5 => ((51..=55).contains(&p(2)) && n == 16) || (matches!(p(2), 50 | 56..=58) && n >= 13),
        2 => ((2221..=2720).contains(&p(4)) && n == 16) || ((2200..=2204).contains(&p(4)) && n >= 16),
        3 => {
            (matches!(p(2), 34 | 37) && n == 15)
                || ((3528..=3589).contains(&p(4)) && n >= 16)
                || ((matches!(p(2), 36 | 38 | 39) || (300..=305).contains(&p(3))) && n >= 14)
        }
        6 => n >= 16,
        _ => false,
    }
}

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum % 10 == 0
}

/// IBAN length by country (the IBAN registry).
fn iban_len(c: [u8; 2]) -> Option<usize> {
    const T: &[(&[u8; 2], usize)] = &[
        (b"AD", 24),
        (b"AE", 23),
        (b"AL", 28),
        (b"AT", 20),
        (b"AZ", 28),
        (b"BA", 20),
        (b"BE", 16),
        (b"BG", 22),
        (b"BH", 22),
        (b"BR", 29),
        (b"BY", 28),
        (b"CH", 21),
        (b"CR", 22),
        (b"CY", 28),
        (b"CZ", 24),
        (b"DE", 22),
        (b"DK", 18),
        (b"DO", 28),
        (b"EE", 20),
        (b"EG", 29),
        (b"ES", 24),
        (b"FI", 18),
        (b"FO", 18),
        (b"FR", 27),
        (b"GB", 22),
        (b"GE", 22),
        (b"GI", 23),
        (b"GL", 18),
        (b"GR", 27),
        (b"GT", 28),
        (b"HR", 21),
        (b"HU", 28),
        (b"IE", 22),
        (b"IL", 23),
        (b"IQ", 23),
        (b"IS", 26),
        (b"IT", 27),
        (b"JO", 30),
        (b"KW", 30),
        (b"KZ", 20),
        (b"LB", 28),
        (b"LC", 32),
        (b"LI", 21),
        (b"LT", 20),
        (b"LU", 20),
        (b"LV", 21),
        (b"LY", 25),
        (b"MC", 27),
        (b"MD", 24),
        (b"ME", 22),
        (b"MK", 19),
        (b"MR", 27),
        (b"MT", 31),
        (b"MU", 30),
        (b"NL", 18),
        (b"NO", 15),
        (b"PK", 24),
        (b"PL", 28),
        (b"PS", 29),
        (b"PT", 25),
        (b"QA", 29),
        (b"RO", 24),
        (b"RS", 22),
        (b"SA", 24),
        (b"SC", 31),
        (b"SD", 18),
        (b"SE", 24),
        (b"SI", 19),
        (b"SK", 24),
        (b"SM", 27),
        (b"ST", 25),
        (b"SV", 28),
        (b"TL", 23),
        (b"TN", 24),
        (b"TR", 26),
        (b"UA", 29),
        (b"VA", 22),
        (b"VG", 24),
        (b"XK", 20),
    ];
    T.iter().find(|(k, _)| **k == c).map(|(_, n)| *n)
}

enum Iban {
    Valid(usize),
    /// The shape of an IBAN, but the check fails.
    Shaped(usize),
    No,
}

fn iban(b: &[u8], i: usize) -> Iban {
    if b.len() < i + 4
        || !b[i].is_ascii_uppercase()
        || !b[i + 1].is_ascii_uppercase()
        || !b[i + 2].is_ascii_digit()
        || !b[i + 3].is_ascii_digit()
    {
        return Iban::No;
    }
    let Some(len) = iban_len([b[i], b[i + 1]]) else {
        return Iban::No;
    };
    let mut chars = [0u8; 34];
    chars[..4].copy_from_slice(&b[i..i + 4]);
    let mut count = 4;
    let mut j = i + 4;
    let mut in_group = 4;
    let alnum = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    while count < len {
        let Some(&c) = b.get(j) else {
            return Iban::No;
        };
        if alnum(c) {
            chars[count] = c;
            count += 1;
            in_group += 1;
            j += 1;
        } else if c == b' ' && in_group == 4 && b.get(j + 1).is_some_and(|&n| alnum(n)) {
            in_group = 0;
            j += 1;
        } else {
            return Iban::No;
        }
    }
    if b.get(j).is_some_and(|&c| is_word(c)) {
        return Iban::No;
    }
    let mut r = 0u32;
    for &c in chars[4..len].iter().chain(&chars[..4]) {
        r = if c.is_ascii_digit() {
            (r * 10 + u32::from(c - b'0')) % 97
        } else {
            (r * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    if r == 1 {
        Iban::Valid(j)
    } else {
        Iban::Shaped(j)
    }
}

fn jwt(b: &[u8], i: usize) -> Option<usize> {
    if !at(b, i, b"eyJ") {
        return None;
    }
    let e1 = run(b, i, b64url);
    if e1 - i < 10 || b.get(e1) != Some(&b'.') || !at(b, e1 + 1, b"ey") {
        return None;
    }
    let e2 = run(b, e1 + 1, b64url);
    if e2 - e1 - 1 < 4 || b.get(e2) != Some(&b'.') {
        return None;
    }
    Some(run(b, e2 + 1, b64url))
}

fn sk_key(b: &[u8], i: usize) -> Option<(Kind, usize)> {
    if at(b, i, b"sk-ant-") {
        let e = run(b, i + 7, b64url);
        return (e - i - 7 >= 20).then_some((Kind::AnthropicKey, e));
    }
    if !at(b, i, b"sk-") {
        return None;
    }
    let e = run(b, i + 3, b64url);
    let body = &b[i + 3..e];
    let mixed = body.iter().any(u8::is_ascii_digit)
        && body.iter().any(u8::is_ascii_uppercase)
        && body.iter().any(u8::is_ascii_lowercase);
    (body.len() >= 20 && mixed).then_some((Kind::OpenAiKey, e))
}

fn aws(b: &[u8], i: usize) -> Option<(Kind, usize)> {
    if !(at(b, i, b"AKIA") || at(b, i, b"ASIA")) {
        return None;
    }
    let e = run(b, i + 4, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
    (e - i - 4 == 16 && !b.get(e).is_some_and(|&c| is_word(c))).then_some((Kind::AwsKey, e))
}

fn google(b: &[u8], i: usize) -> Option<(Kind, usize)> {
    if !at(b, i, b"AIza") {
        return None;
    }
    let e = run(b, i + 4, b64url);
    (e - i - 4 >= 35).then_some((Kind::GoogleKey, e))
}

fn github(b: &[u8], i: usize) -> Option<usize> {
    if at(b, i, b"github_pat_") {
        let e = run(b, i + 11, |c| c.is_ascii_alphanumeric() || c == b'_');
        return (e - i - 11 >= 22).then_some(e);
    }
    if at(b, i, b"gh") && b.len() > i + 3 && matches!(b[i + 2], b'p' | b'o' | b'u' | b's' | b'r') && b[i + 3] == b'_' {
        let e = run(b, i + 4, |c| c.is_ascii_alphanumeric());
        return (e - i - 4 >= 36).then_some(e);
    }
    None
}

fn slack(b: &[u8], i: usize) -> Option<usize> {
    if !at(b, i, b"xox")
        || b.len() < i + 5
        || !matches!(b[i + 3], b'a' | b'b' | b'e' | b'p' | b'r' | b's')
        || b[i + 4] != b'-'
    {
        return None;
    }
    let e = run(b, i + 5, |c| c.is_ascii_alphanumeric() || c == b'-');
    (e - i - 5 >= 10 && b[i + 5..e].iter().any(u8::is_ascii_digit)).then_some(e)
}

fn bearer(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if b.len() < i + 7 || !b[i..i + 6].eq_ignore_ascii_case(b"bearer") || !matches!(b[i + 6], b' ' | b'\t') {
        return None;
    }
    let s = run(b, i + 6, |c| c == b' ' || c == b'\t');
    let e = run(b, s, token68);
    (e - s >= 12 && b[s..e].iter().any(u8::is_ascii_digit)).then_some((s, e))
}

/// The characters of an HTTP credential (RFC 9110 `token68`).
fn token68(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-')
}

/// `Bearer <token>` or `Basic <credentials>` at a word start.
fn auth_word(b: &[u8], i: usize) -> Option<(Kind, usize, usize)> {
    if let Some((s, e)) = bearer(b, i) {
        return Some((Kind::Bearer, s, e));
    }
    basic(b, i).map(|(s, e)| (Kind::BasicAuth, s, e))
}

/// `Basic <base64>` whose base64 decodes to `user:password` (text with a
/// colon): prose after "Basic" does not decode to that.
fn basic(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if b.len() < i + 6 || !b[i..i + 5].eq_ignore_ascii_case(b"basic") || !matches!(b[i + 5], b' ' | b'\t') {
        return None;
    }
    let s = run(b, i + 5, |c| c == b' ' || c == b'\t');
    let e = run(b, s, |c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='));
    if e - s < 8 || b.get(e).is_some_and(|&c| is_word(c) || c == b'-') {
        return None;
    }
    decodes_to_credentials(&b[s..e]).then_some((s, e))
}

/// Whether base64 `t` decodes to UTF-8 text without control characters and
/// with a `:`. Decodes on the stack: only the first 192 bytes are looked at.
fn decodes_to_credentials(t: &[u8]) -> bool {
    fn sextet(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let data = match t.iter().position(|&c| c == b'=') {
        // Padding only at the end, at most two, and to a multiple of 4.
        Some(p) => {
            if t.len() % 4 != 0 || t.len() - p > 2 || t[p..].iter().any(|&c| c != b'=') {
                return false;
            }
            &t[..p]
        }
        None => t,
    };
    if data.len() % 4 == 1 {
        return false;
    }
    let mut out = [0u8; 192];
    let mut n = 0;
    for chunk in data.chunks(4) {
        if n + 3 > out.len() {
            break;
        }
        let mut acc = 0u32;
        for &c in chunk {
            let Some(v) = sextet(c) else { return false };
            acc = (acc << 6) | v;
        }
        acc <<= 6 * (4 - chunk.len() as u32);
        let bytes = acc.to_be_bytes();
        let len = chunk.len() - 1;
        out[n..n + len].copy_from_slice(&bytes[1..1 + len]);
        n += len;
    }
    let text = match std::str::from_utf8(&out[..n]) {
        Ok(t) => t,
        // Cut inside a character by the 192-byte window: the rest is text.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&out[..e.valid_up_to()]).unwrap_or(""),
        Err(_) => return false,
    };
    text.contains(':') && !text.chars().any(char::is_control)
}

/// The password of `scheme://user:password@host` (the byte at `i` starts
/// `://`): any scheme, an empty user too (`redis://:pw@host`). The
/// authority ends at `/`, `?`, `#`, white space or a quote; its last `@`
/// ends the user info, whose first `:` starts the password.
fn url_password(b: &[u8], i: usize) -> Option<(Kind, usize, usize)> {
    if i == 0 || !(b[i - 1].is_ascii_alphanumeric() || matches!(b[i - 1], b'+' | b'-' | b'.')) {
        return None;
    }
    let start = i + 3;
    let end = run(b, start, |c| !c.is_ascii_whitespace() && !c.is_ascii_control() && !b"/?#\"'<>`\\".contains(&c));
    let at_sign = start + b[start..end].iter().rposition(|&c| c == b'@')?;
    let colon = start + b[start..at_sign].iter().position(|&c| c == b':')?;
    let s = colon + 1;
    // Empty, or already redacted (text scanned twice).
    if s == at_sign || at(b, s, b"[REDACTED") {
        return None;
    }
    Some((Kind::UrlPassword, s, at_sign))
}

fn pem(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    if !at(b, i, b"-----BEGIN ") {
        return None;
    }
    let label_start = i + 11;
    let label_end = run(b, label_start, |c| c.is_ascii_uppercase() || c == b' ');
    if label_end - label_start > 40 || !at(b, label_end, b"-----") {
        return None;
    }
    if !text[label_start..label_end].contains("PRIVATE KEY") {
        return None;
    }
    let body = label_end + 5;
    // The END of this block, not of a later one after a cut-short block.
    let next_begin = text[body..].find("-----BEGIN ").map_or(text.len(), |p| body + p);
    if let Some(p) = text[body..next_begin].find("-----END ") {
        let close = body + p + 9;
        let label_end = run(b, close, |c| c.is_ascii_uppercase() || c == b' ');
        if at(b, label_end, b"-----") {
            return Some(label_end + 5);
        }
    }
    // Cut short (no END line): take the base64 lines that follow, whether
    // separated by real newlines or by `\n` escapes of an enclosing string.
    let mut k = body;
    let mut end = body;
    loop {
        loop {
            if k < b.len() && matches!(b[k], b'\n' | b'\r' | b' ' | b'\t') {
                k += 1;
            } else if k + 1 < b.len() && b[k] == b'\\' && matches!(b[k + 1], b'n' | b'r') {
                k += 2;
            } else {
                break;
            }
        }
        let e = run(b, k, |c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='));
        // A line ends at a newline (or its escape), or where an enclosing
        // quoted string ends.
        let line_ends = e == b.len() || matches!(b[e], b'\n' | b'\r' | b'\\' | b'"' | b'\'');
        // A full-width line (PEM lines have 64 characters) counts whatever
        // follows it; a short one only when it ends a line, so the first word
        // of the prose after a cut key is not taken for base64.
        if e == k || (!line_ends && e - k < 16) {
            break;
        }
        end = e;
        k = e;
        if !line_ends {
            break;
        }
    }
    Some(end)
}

/// `key=value`, `key = "value"` or `"key": "value"` where the key names a
/// secret: the value's range. An `Authorization` key (`Authorization:`,
/// `Proxy-Authorization:`, `authorization=`) keeps its scheme and gives
/// the credentials after it; its header form needs no quotes.
fn secret_param(text: &str, i: usize, floor: usize) -> Option<(Kind, usize, usize)> {
    let b = text.as_bytes();
    let colon = b[i] == b':';
    let mut k = i;
    while k > floor && i - k < 4 && b[k - 1] == b' ' {
        k -= 1;
    }
    let quoted = k > floor && matches!(b[k - 1], b'"' | b'\'');
    // An unquoted `key:` is prose or a time, unless it is a header that ends
    // like `authorization` (one byte looked at before the key is read).
    if colon && !quoted && !(k == i && k > floor && b[k - 1].eq_ignore_ascii_case(&b'n')) {
        return None;
    }
    if quoted {
        k -= 1;
    }
    let key_end = k;
    while k > floor && key_end - k < 64 && (b[k - 1].is_ascii_alphanumeric() || matches!(b[k - 1], b'_' | b'-' | b'.'))
    {
        k -= 1;
    }
    if k == key_end || (quoted && (k == floor || b[k - 1] != b[key_end])) {
        return None;
    }
    let key = &text[k..key_end];
    let auth = is_authorization(key);
    if colon && !quoted && !auth {
        return None;
    }
    let v = run(b, i + 1, |c| c == b' ');
    // Already redacted (content scanned twice): leave it as it is.
    if at(b, v, b"[REDACTED") || at(b, v + 1, b"[REDACTED") {
        return None;
    }
    let quoted_value = b.get(v).is_some_and(|c| matches!(c, b'"' | b'\''));
    let header = colon && !quoted;
    if auth && !quoted_value {
        if let Some(hit) = authorization_value(b, v, header) {
            return Some(hit);
        }
    }
    if header {
        return None;
    }
    if !is_secret_name(key) && !is_odbc_password(key, b.get(v).copied()) {
        return None;
    }
    if quoted_value {
        let q = b[v];
        let s = v + 1;
        let mut e = s;
        while e < b.len() && b[e] != q && b[e] != b'\n' {
            e += if b[e] == b'\\' { 2 } else { 1 };
        }
        let e = e.min(b.len());
        return (e > s).then_some((Kind::Secret, s, e));
    }
    let e = run(b, v, |c| !c.is_ascii_whitespace() && !b"&,;\"'<>)]}".contains(&c));
    let value = &b[v..e];
    (e > v && value != b"null" && value != b"true" && value != b"false").then_some((Kind::Secret, v, e))
}

/// A key that ends like `authorization` (`Authorization`,
/// `Proxy-Authorization`, `HTTP_AUTHORIZATION`).
fn is_authorization(key: &str) -> bool {
    let k = key.as_bytes();
    k.len() >= 13 && k[k.len() - 13..].eq_ignore_ascii_case(b"authorization")
}

/// ODBC's `PWD=` (`Server=db;Uid=app;Pwd=..`), not the shell's `PWD=/home/..`.
fn is_odbc_password(key: &str, first: Option<u8>) -> bool {
    key.eq_ignore_ascii_case("pwd") && first.is_some_and(|c| c != b'/' && c != b'~')
}

/// The credentials of an `Authorization` value starting at `v`: after a
/// scheme word (`Basic`, `Bearer`, ...), the token that follows, whatever it
/// looks like. Without a scheme, in the `Authorization: ..` header form
/// (`header`), the value when it looks like a key (8 or more characters
/// with a digit), so prose after "authorization:" is left alone; in the
/// `authorization=..` form, `None`: the caller's `key=value` rule applies.
fn authorization_value(b: &[u8], v: usize, header: bool) -> Option<(Kind, usize, usize)> {
    const SCHEMES: [&[u8]; 8] = [b"basic", b"bearer", b"token", b"apikey", b"dpop", b"negotiate", b"ntlm", b"digest"];
    let w = run(b, v, |c| c.is_ascii_alphanumeric() || c == b'-');
    let scheme = &b[v..w];
    if matches!(b.get(w), Some(b' ' | b'\t')) && SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        let s = run(b, w, |c| c == b' ' || c == b'\t');
        if at(b, s, b"[REDACTED") {
            return None;
        }
        // Digest's `username="..", response=".."` runs to the end of the line.
        let e = if scheme.eq_ignore_ascii_case(b"digest") {
            run(b, s, |c| !matches!(c, b'\n' | b'\r' | b'\'' | b'\\'))
        } else {
            run(b, s, token68)
        };
        let kind = if scheme.eq_ignore_ascii_case(b"basic") {
            Kind::BasicAuth
        } else if scheme.eq_ignore_ascii_case(b"bearer") {
            Kind::Bearer
        } else {
            Kind::Secret
        };
        return (e > s).then_some((kind, s, e));
    }
    if !header {
        // `authorization=value`: the caller's rule for `key=value`.
        return None;
    }
    let e = run(b, v, |c| !c.is_ascii_whitespace() && !b"&,;\"'<>)]}".contains(&c));
    (e - v >= 8 && b[v..e].iter().any(u8::is_ascii_digit)).then_some((Kind::Secret, v, e))
}

// ---------------------------------------------------------------------------
// User patterns and counters

#[cfg_attr(not(feature = "redact-patterns"), allow(dead_code))]
struct UserPattern {
    kind: &'static str,
    replacement: &'static str,
    #[cfg(feature = "redact-patterns")]
    re: regex::Regex,
    counter: Option<Counter>,
}

static USER: RwLock<Vec<UserPattern>> = RwLock::new(Vec::new());
/// User patterns: each adds a label value to `redactions_total`.
const MAX_USER_PATTERNS: usize = 64;

fn redactions_counter(kind: &str) -> Option<Counter> {
    Some(crate::metrics::builtin_counter(&crate::metrics::names::REDACTIONS, &[("kind", kind)]))
}

/// One counter per built-in kind, all created at zero at the first scan.
fn builtin_counters() -> &'static [Option<Counter>; Kind::ALL.len()] {
    static C: OnceLock<[Option<Counter>; Kind::ALL.len()]> = OnceLock::new();
    C.get_or_init(|| Kind::ALL.map(|k| redactions_counter(k.name())))
}

/// Why [`add_pattern`] refused a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternError {
    /// The kind is not `[a-z][a-z0-9_]*` of at most 32 characters, or is a
    /// built-in kind's name.
    InvalidKind(String),
    /// The regular expression does not compile (the regex crate's message).
    InvalidRegex(String),
    /// The pattern matches the empty string, so it would match everywhere.
    MatchesEmpty(String),
    /// 64 patterns are registered already (each kind is a label value).
    TooMany,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::InvalidKind(k) => write!(
                f,
                "`{k}` cannot be a redaction kind: use lowercase letters, digits and `_` (at most 32), not a built-in kind's name"
            ),
            PatternError::InvalidRegex(e) => write!(f, "the redaction pattern is not a valid regular expression: {e}"),
            PatternError::MatchesEmpty(p) => {
                write!(f, "the redaction pattern `{p}` matches the empty string; make it match at least one character")
            }
            PatternError::TooMany => write!(f, "at most {MAX_USER_PATTERNS} redaction patterns can be added"),
        }
    }
}

impl std::error::Error for PatternError {}

#[cfg(feature = "redact-patterns")]
/// Adds a detector of your own, for every later [`scan`] in the process:
/// each match of the regular expression `pattern` (the `regex` crate's
/// syntax) becomes `[REDACTED:kind]` and counts in `redactions_total{kind}`.
///
/// ```
/// use obs_runtime::redact::{add_pattern, scan};
/// add_pattern("employee_id", r"\bEMP-\d{6}\b").unwrap();
/// assert_eq!(scan("ask EMP-204481 about it"), "ask [REDACTED:employee_id] about it");
/// ```
pub fn add_pattern(kind: &str, pattern: &str) -> Result<(), PatternError> {
    let valid_kind = !kind.is_empty()
        && kind.len() <= 32
        && kind.as_bytes()[0].is_ascii_lowercase()
        && kind.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && !Kind::ALL.iter().any(|k| k.name() == kind);
    if !valid_kind {
        return Err(PatternError::InvalidKind(kind.to_string()));
    }
    let re = regex::Regex::new(pattern).map_err(|e| PatternError::InvalidRegex(e.to_string()))?;
    if re.is_match("") {
        return Err(PatternError::MatchesEmpty(pattern.to_string()));
    }
    let mut user = USER.write().unwrap_or_else(|e| e.into_inner());
    if user.len() >= MAX_USER_PATTERNS {
        return Err(PatternError::TooMany);
    }
    // Kinds live for the process, like the metric series they label; the
    // number of patterns is capped, so this is bounded.
    let kind: &'static str = match user.iter().find(|p| p.kind == kind) {
        Some(p) => p.kind,
        None => Box::leak(kind.to_string().into_boxed_str()),
    };
    let replacement: &'static str = Box::leak(format!("[REDACTED:{kind}]").into_boxed_str());
    user.push(UserPattern { kind, replacement, re, counter: redactions_counter(kind) });
    Ok(())
}

/// Built-in and user findings, sorted, overlapping ones merged (a merged
/// finding keeps the kind of the one that starts first).
fn hits(text: &str) -> Vec<Hit> {
    let mut out = Vec::new();
    builtin(text, &mut out);
    let user = USER.read().unwrap_or_else(|e| e.into_inner());
    if user.is_empty() {
        return out;
    }
    #[cfg(feature = "redact-patterns")]
    for p in user.iter() {
        for m in p.re.find_iter(text) {
            out.push(Hit { start: m.start(), end: m.end(), kind: p.kind, counter: p.counter });
        }
    }
    drop(user);
    out.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut merged: Vec<Hit> = Vec::with_capacity(out.len());
    for h in out {
        match merged.last_mut() {
            Some(last) if h.start < last.end => last.end = last.end.max(h.end),
            _ => merged.push(h),
        }
    }
    merged
}

fn replacement(kind: &'static str) -> Cow<'static, str> {
    if let Some(k) = Kind::ALL.iter().find(|k| k.name() == kind) {
        return Cow::Borrowed(k.replacement());
    }
    let user = USER.read().unwrap_or_else(|e| e.into_inner());
    match user.iter().find(|p| p.kind == kind) {
        Some(p) => Cow::Borrowed(p.replacement),
        None => Cow::Owned(format!("[REDACTED:{kind}]")),
    }
}

/// Every finding in `text`, in order, without replacing or counting them.
///
/// ```
/// let f = obs_runtime::redact::detectors::find("mail bob@example.com");
/// assert_eq!((f[0].kind, f[0].start, f[0].end), ("email", 5, 20));
/// ```
pub fn find(text: &str) -> Vec<Finding> {
    hits(text).into_iter().map(|h| Finding { kind: h.kind, start: h.start, end: h.end }).collect()
}

/// Replaces every finding in `text` by `[REDACTED:kind]` and counts it in
/// `redactions_total{kind}`. Borrows `text` when nothing is found.
///
/// ```
/// use obs_runtime::redact::scan;
/// assert_eq!(
///     scan("mail bob@example.com, card 4111 1111 1111 1111, order 1234 5678 9012 3456"),
///     "mail [REDACTED:email], card [REDACTED:card], order 1234 5678 9012 3456"
/// );
/// ```
pub fn scan(text: &str) -> Cow<'_, str> {
    let hits = hits(text);
    if hits.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for h in &hits {
        out.push_str(&text[last..h.start]);
        out.push_str(&replacement(h.kind));
        last = h.end;
        if let Some(c) = h.counter {
            c.increment(1);
        }
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// Counts one redaction of `kind` done outside [`scan`] (content capture
/// masking the value of a secret-named JSON key).
pub(super) fn count(kind: Kind) {
    if let Some(c) = builtin_counters()[kind.index()] {
        c.increment(1);
    }
}
