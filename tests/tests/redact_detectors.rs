//! The free-text detectors: a secret of every kind embedded in random text
//! never survives `scan`, each replacement names its kind, Luhn-invalid digit
//! runs, IBANs with a wrong check and ordinary prose are left untouched, and
//! the false-positive rate on `data/ordinary_prose.txt` is measured.

use obs_runtime::redact::detectors::{find, Kind};
use obs_runtime::redact::{add_pattern, scan, PatternError};
use proptest::prelude::*;
use proptest::sample::select;

// ---------------------------------------------------------------------------
// Generators

fn luhn_digit(body: &str) -> u32 {
    // The check digit that makes `body` + digit pass Luhn.
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let x = u32::from(c - b'0');
            if i % 2 == 0 {
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
    (10 - sum % 10) % 10
}

/// Grouped as printed on cards: 4-6-5 (15 digits), 4-6-4 (14), 4-3-3-3
/// (13), else by 4.
fn printed(d: &str, sep: &str) -> String {
    let sizes: &[usize] = match d.len() {
        15 => &[4, 6, 5],
        14 => &[4, 6, 4],
        13 => &[4, 3, 3, 3],
        _ => return group4(d, sep),
    };
    let mut out = Vec::new();
    let mut at = 0;
    for n in sizes {
        out.push(&d[at..at + n]);
        at += n;
    }
    out.join(sep)
}

fn group4(d: &str, sep: &str) -> String {
    d.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(sep)
}

/// (prefix, length) of real issuers.
const ISSUERS: &[(&str, usize)] = &[
    ("4", 16),
    ("4", 13),
    ("4", 19),
    ("51", 16),
    ("55", 16),
    ("2221", 16),
    ("34", 15),
    ("37", 15),
    ("6011", 16),
    ("65", 16),
    ("3530", 16),
    ("36", 14),
    ("62", 19),
];

fn card_digits(valid: bool) -> impl Strategy<Value = String> {
    (select(ISSUERS), proptest::collection::vec(0u8..10, 19)).prop_map(move |((prefix, len), r)| {
        let mut d: String = prefix.to_string();
        for x in r.iter().take(len - 1 - prefix.len()) {
            d.push(char::from(b'0' + x));
        }
        let check = luhn_digit(&d);
        let check = if valid { check } else { (check + 1 + u32::from(r[18]) % 9) % 10 };
        d.push(char::from_digit(check, 10).unwrap());
        d
    })
}

fn luhn_ok(d: &str) -> bool {
    luhn_digit(&d[..d.len() - 1]) == u32::from(d.as_bytes()[d.len() - 1] - b'0')
}

fn card(valid: bool) -> impl Strategy<Value = String> {
    (card_digits(valid), 0..3)
        // A grouped 17 to 19 digit run whose first 16 digits pass Luhn is a
        // card followed by more digits (a CVV), and redacted on purpose.
        .prop_filter("the 16-digit prefix of an invalid grouped run is valid", move |(d, style)| {
            valid || *style == 0 || d.len() <= 16 || !luhn_ok(&d[..16])
        })
        .prop_map(|(d, style)| match style {
            0 => d,
            1 => printed(&d, " "),
            _ => printed(&d, "-"),
        })
}

fn mod97(s: &str) -> u32 {
    s.bytes().fold(0u32, |r, c| {
        if c.is_ascii_digit() {
            (r * 10 + u32::from(c - b'0')) % 97
        } else {
            (r * 100 + u32::from(c - b'A') + 10) % 97
        }
    })
}

/// (country, BBAN length, how many leading letters the BBAN has).
const IBAN_COUNTRIES: &[(&str, usize, usize)] = &[
    ("DE", 18, 0),
    ("GB", 18, 4),
    ("FR", 23, 0),
    ("NL", 14, 4),
    ("ES", 20, 0),
    ("IT", 23, 1),
    ("CH", 17, 0),
    ("BE", 12, 0),
];

fn iban(valid: bool) -> impl Strategy<Value = String> {
    (select(IBAN_COUNTRIES), proptest::collection::vec(0u8..26, 30), any::<bool>()).prop_map(
        move |((cc, len, letters), r, grouped)| {
            let bban: String = (0..len)
                .map(|i| if i < letters { char::from(b'A' + r[i]) } else { char::from(b'0' + r[i] % 10) })
                .collect();
            let check = 98 - mod97(&format!("{bban}{cc}00"));
            let check = if valid { check } else { (check % 97) + 1 };
            let s = format!("{cc}{check:02}{bban}");
            if grouped {
                group4(&s, " ")
            } else {
                s
            }
        },
    )
}

fn b64url(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9_-]{{{min},{max}}}")).unwrap()
}

fn alnum(n: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9]{{{n}}}")).unwrap()
}

/// One secret and the kind that must replace it.
fn secret() -> impl Strategy<Value = (String, Kind)> {
    prop_oneof![
        (
            "[a-z][a-z0-9._+-]{0,14}[a-z0-9]",
            "[a-z][a-z0-9-]{0,10}[a-z0-9]",
            select(&["com", "org", "io", "de", "co.uk", "example"][..])
        )
            .prop_map(|(l, d, t)| (format!("{l}@{d}.{t}"), Kind::Email)),
        card(true).prop_map(|c| (c, Kind::Card)),
        iban(true).prop_map(|i| (i, Kind::Iban)),
        (b64url(12, 40), b64url(8, 80), b64url(20, 60)).prop_map(|(h, p, s)| (format!("eyJ{h}.eyJ{p}.{s}"), Kind::Jwt)),
        ("[A-Za-z0-9._~+/-]{11,40}", 0u8..10).prop_map(|(t, d)| (format!("Bearer {d}{t}"), Kind::Bearer)),
        (select(&["", "proj-", "svcacct-"][..]), alnum(40))
            .prop_map(|(p, k)| (format!("sk-{p}a1B{k}"), Kind::OpenAiKey)),
        b64url(30, 95).prop_map(|k| (format!("sk-ant-api03-{k}"), Kind::AnthropicKey)),
        (select(&["AKIA", "ASIA"][..]), "[A-Z0-9]{16}").prop_map(|(p, k)| (format!("{p}{k}"), Kind::AwsKey)),
        (select(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"][..]), alnum(36))
            .prop_map(|(p, k)| (format!("{p}{k}"), Kind::GithubToken)),
        "[A-Za-z0-9_]{22,82}".prop_map(|k| (format!("github_pat_{k}"), Kind::GithubToken)),
        (select(&["xoxb", "xoxp", "xoxa", "xoxs"][..]), "[0-9]{10,12}", alnum(24))
            .prop_map(|(p, n, k)| (format!("{p}-{n}-{k}"), Kind::SlackToken)),
        b64url(35, 35).prop_map(|k| (format!("AIza{k}"), Kind::GoogleKey)),
        (
            select(&["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "][..]),
            proptest::collection::vec("[A-Za-z0-9+/]{64}", 1..6),
            any::<bool>()
        )
            .prop_map(|(label, lines, ended)| {
                let body = lines.join("\n");
                let end = if ended { format!("\n-----END {label}PRIVATE KEY-----") } else { String::new() };
                (format!("-----BEGIN {label}PRIVATE KEY-----\n{body}{end}"), Kind::PrivateKey)
            }),
        (
            select(&["password", "api_key", "client_secret", "access_token", "DB_PASSWORD"][..]),
            "[A-Za-z0-9!$%*^]{6,30}"
        )
            .prop_map(|(k, v)| (format!("{k}={v}"), Kind::Secret)),
        (
            select(&["postgres", "postgresql", "mysql", "redis", "rediss", "amqps", "mongodb+srv", "https", "ftp"][..]),
            "[a-z][a-z0-9_]{0,8}|",
            "[A-Za-z0-9!$%*^~_.-]{6,24}",
            "[a-z][a-z0-9.-]{0,20}[a-z0-9](:[0-9]{2,5})?",
            "(/[a-z0-9_]{1,10})?"
        )
            .prop_map(|(scheme, user, pw, host, path)| (
                format!("{scheme}://{user}:{pw}@{host}{path}"),
                Kind::UrlPassword
            )),
        (
            "[a-z][a-z0-9_]{0,10}",
            "[ -~]{2,20}",
            select(&["Authorization: Basic ", "authorization=Basic ", "Basic "][..])
        )
            .prop_map(|(u, p, prefix)| (format!("{prefix}{}", base64(&format!("{u}:{p}"))), Kind::BasicAuth)),
    ]
}

/// Standard base64 with padding.
fn base64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |a, (i, &b)| a | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Ordinary words, none of which a detector looks at.
const WORDS: &[&str] = &[
    "the",
    "agent",
    "called",
    "a",
    "tool",
    "with",
    "value",
    "and",
    "then",
    "answered",
    "please",
    "use",
    "this",
    "for",
    "order",
    "42",
    "2024-06-01",
    "v1.2.3",
    "3.14",
    "(see",
    "notes)",
    "it",
    "is",
    "fine,",
    "thanks.",
    "Hello",
    "World",
    "Rust",
    "model",
    "prompt",
    "12",
    "o'clock",
    "100%",
    "e.g.",
    "ok",
    "#7",
    "$19.99",
];

fn prose(max_words: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(select(WORDS), 0..max_words).prop_map(|w| w.join(" "))
}

/// What separates a secret from the words around it.
fn separator() -> impl Strategy<Value = &'static str> {
    select(&[" ", "\n", ": ", " (", "\t", " \"", " <"][..])
}

/// The part of a secret that must not survive (for `Bearer` and
/// `key=value`, the value; the keyword is kept on purpose).
fn sensitive(secret: &str, kind: Kind) -> &str {
    match kind {
        Kind::Bearer => &secret[7..],
        Kind::Secret => secret.split_once('=').map(|(_, v)| v).unwrap_or(secret),
        // The password, between the user's `:` and the host's `@`.
        Kind::UrlPassword => {
            let info = &secret[secret.find("://").unwrap() + 3..secret.rfind('@').unwrap()];
            &info[info.find(':').unwrap() + 1..]
        }
        Kind::BasicAuth => secret.rsplit_once(' ').map(|(_, v)| v).unwrap_or(secret),
        _ => secret,
    }
}

proptest! {
    // Failures are not persisted to a file: each one found becomes a named
    // case below (like `a_truncated_private_key_...`).
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_secret_survives_the_scan(
        before in prose(12),
        parts in proptest::collection::vec((secret(), separator(), prose(6)), 1..5),
    ) {
        let mut text = before.clone();
        for ((s, _), sep, words) in &parts {
            text.push_str(sep);
            text.push_str(s);
            text.push(' ');
            text.push_str(words);
        }
        let out = scan(&text);
        for ((s, kind), _, _) in &parts {
            let secret = sensitive(s, *kind);
            prop_assert!(!out.contains(secret), "{kind:?} `{secret}` survived in {out:?}");
            prop_assert!(out.contains(kind.replacement()), "no {} in {out:?}", kind.replacement());
        }
    }

    #[test]
    fn each_finding_names_its_kind((s, kind) in secret(), before in prose(8), after in prose(8)) {
        let text = format!("{before} {s} {after}");
        let findings = find(&text);
        let part = sensitive(&s, kind);
        let start = before.len() + 1 + (part.as_ptr() as usize - s.as_ptr() as usize);
        prop_assert!(
            findings.iter().any(|f| f.kind == kind.name() && f.start == start && f.end >= start + part.len() - 1),
            "{kind:?} not found at {start} in {text:?}: {findings:?}"
        );
    }

    #[test]
    fn luhn_invalid_digit_runs_are_kept(card in card(false), before in prose(8), after in prose(8)) {
        // " . " after the card: a number right after a grouped one may form a
        // valid longer card (16 digits and a CVV), redacted on purpose.
        let text = format!("{before} {card} . {after}");
        prop_assert_eq!(scan(&text).into_owned(), text);
    }

    #[test]
    fn ibans_with_a_wrong_check_are_kept(iban in iban(false), before in prose(8)) {
        let text = format!("{before} {iban} end");
        prop_assert_eq!(scan(&text).into_owned(), text);
    }

    #[test]
    fn ordinary_prose_is_kept(text in prose(60)) {
        prop_assert_eq!(scan(&text).into_owned(), text);
    }

    #[test]
    fn any_text_scans_without_panicking(text in "\\PC{0,200}") {
        let out = scan(&text);
        // Findings are whole characters: the output is a valid string by
        // construction; a second scan finds nothing new.
        prop_assert_eq!(scan(&out).into_owned(), out.into_owned());
    }
}

#[test]
fn documented_forms() {
    let cases = [
        ("mail bob.smith+tag@mail.example.co.uk now", "mail [REDACTED:email] now"),
        ("card 4111 1111 1111 1111 exp 12/27", "card [REDACTED:card] exp 12/27"),
        ("card 4111-1111-1111-1111.", "card [REDACTED:card]."),
        ("pay 4111 1111 1111 1111 123 12/27", "pay [REDACTED:card] 123 12/27"),
        ("qty 2 4111 1111 1111 1111", "qty 2 [REDACTED:card]"),
        ("diners 3600 000000 0008", "diners [REDACTED:card]"),
        ("amex 378282246310005", "amex [REDACTED:card]"),
        ("iban DE89 3704 0044 0532 0130 00, thanks", "iban [REDACTED:iban], thanks"),
        ("iban GB82WEST12345698765432", "iban [REDACTED:iban]"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
            "jwt [REDACTED:jwt] ok",
        ),
        ("Authorization: Bearer abcdef123456.xyz", "Authorization: Bearer [REDACTED:bearer]"),
        ("key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t", "key [REDACTED:openai_key]"),
        ("key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345", "key [REDACTED:anthropic_key]"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws [REDACTED:aws_key]"),
        ("gh ghp_0123456789abcdefghijABCDEFGHIJ012345", "gh [REDACTED:github_token]"),
        ("slack xoxb-123456789012-abcdefABCDEF", "slack [REDACTED:slack_token]"),
        ("google AIzaSyA-0123456789abcdefghijklmnopqrstu", "google [REDACTED:google_key]"),
        (
            "pem -----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY----- done",
            "pem [REDACTED:private_key] done",
        ),
        ("GET /v1?api_key=abc123&q=rust", "GET /v1?api_key=[REDACTED:secret]&q=rust"),
        // Credentials in URLs: scheme, user and host are kept.
        (
            "connect to postgres://app:hunter2-pass@db:5432 failed",
            "connect to postgres://app:[REDACTED:url_password]@db:5432 failed",
        ),
        ("postgresql://app:s3cr%40t@db.internal/shop?sslmode=require", "postgresql://app:[REDACTED:url_password]@db.internal/shop?sslmode=require"),
        ("mysql://root:toor@127.0.0.1:3306/app", "mysql://root:[REDACTED:url_password]@127.0.0.1:3306/app"),
        ("jdbc:mysql://root:toor@db/app", "jdbc:mysql://root:[REDACTED:url_password]@db/app"),
        ("redis://:cache-pass@redis:6379/0", "redis://:[REDACTED:url_password]@redis:6379/0"),
        ("rediss://default:Tls-Pass1@cache.example.com:6380", "rediss://default:[REDACTED:url_password]@cache.example.com:6380"),
        ("amqp://guest:guest@rabbit:5672/%2f", "amqp://guest:[REDACTED:url_password]@rabbit:5672/%2f"),
        ("amqps://svc:p@ss:w0rd@mq.example.org/vhost", "amqps://svc:[REDACTED:url_password]@mq.example.org/vhost"),
        (
            "mongodb+srv://reader:m0ng0!@cluster0.ab12c.mongodb.net/db?retryWrites=true",
            "mongodb+srv://reader:[REDACTED:url_password]@cluster0.ab12c.mongodb.net/db?retryWrites=true",
        ),
        (
            "mongodb://u:p4ss@h1:27017,h2:27017/db?replicaSet=rs0",
            "mongodb://u:[REDACTED:url_password]@h1:27017,h2:27017/db?replicaSet=rs0",
        ),
        (
            "HTTPS_PROXY=https://proxyuser:proxy-pass@proxy.corp:3128",
            "HTTPS_PROXY=https://proxyuser:[REDACTED:url_password]@proxy.corp:3128",
        ),
        (r#"{"dsn":"postgres://a:b-secret@db/x"}"#, r#"{"dsn":"postgres://a:[REDACTED:url_password]@db/x"}"#),
        // Key=value DSNs.
        (
            "host=db port=5432 user=app password=s3cret dbname=shop",
            "host=db port=5432 user=app password=[REDACTED:secret] dbname=shop",
        ),
        ("Server=sql1;Database=shop;Uid=app;Pwd=Sql-pass1;", "Server=sql1;Database=shop;Uid=app;Pwd=[REDACTED:secret];"),
        // Authorization headers, as error text and dumps print them.
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED:basic_auth]"),
        ("authorization=Bearer x", "authorization=Bearer [REDACTED:bearer]"),
        ("proxy-authorization: basic YWxhZGRpbjpvcGVuc2VzYW1l\r\n", "proxy-authorization: basic [REDACTED:basic_auth]\r\n"),
        ("-H 'Authorization: token ghx_short' -H 'Accept: */*'", "-H 'Authorization: token [REDACTED:secret]' -H 'Accept: */*'"),
        ("Authorization: sk_live_0123456789abc", "Authorization: [REDACTED:secret]"),
        (r#"headers: {"authorization": "Bearer abc"}"#, r#"headers: {"authorization": "[REDACTED:secret]"}"#),
        ("curl sent Basic YWRtaW46aHVudGVyMg== to the proxy", "curl sent Basic [REDACTED:basic_auth] to the proxy"),
        (r#"{"password": "hunter2", "user": "al"}"#, r#"{"password": "[REDACTED:secret]", "user": "al"}"#),
    ];
    for (input, want) in cases {
        assert_eq!(scan(input), want, "input: {input:?}");
    }
}

#[test]
fn near_misses_are_kept() {
    for text in [
        "order 4111 1111 1111 1112",                 // Luhn-invalid
        "id 4111111111111111111111",                 // too long for a card
        "A4111111111111111",                         // not at a word start
        "3.4111111111111111",                        // decimals
        "DE89 3704 0044 0532 0130 01",               // mod-97 fails
        "version python@3.11 and react@18.2.0",      // no alphabetic TLD
        "logo@2x.png",                               // file, not an address
        "bearer of good news",                       // no token
        "sk-learn and sk-some-long-kebab-case-name", // no key shape
        "hugs xoxo-see-you-soon",                    // not a Slack token type
        "max_tokens=4096 token_count=12",            // counts, not secrets
        "-----BEGIN CERTIFICATE-----",               // not a private key
        // URLs without a password, and what looks like credentials but is not.
        "see https://docs.example.com/guide?x=1#top and http://localhost:8080/",
        "clone ssh://git@github.com/org/repo.git or git@github.com:org/repo.git",
        "connect to postgres://app@db:5432/shop and redis://cache:6379/0",
        "open http://[::1]:8080/status, https://user@example.com/ and https://a.com/@bob",
        "Basic arithmetic, basic training and Basic authentication are topics.",
        "The authorization: pending review by the board.",
        "PWD=/home/app OLDPWD=~/src",
        "empty password postgres://app:@db/shop",
    ] {
        assert_eq!(scan(text), text);
    }
}

#[test]
fn a_truncated_private_key_is_redacted_to_the_end_of_its_base64() {
    let text = "key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n\nThat is all I have.";
    assert_eq!(scan(text), "key: [REDACTED:private_key]\n\nThat is all I have.");
    // Inside a JSON string, lines are separated by `\n` escapes.
    let json = r#"{"k":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7"}"#;
    assert_eq!(scan(json), r#"{"k":"[REDACTED:private_key]"}"#);
    // A full base64 line followed by a space, not a newline, is still taken.
    let line = "A".repeat(64);
    assert_eq!(scan(&format!("-----BEGIN PRIVATE KEY-----\n{line} end")), "[REDACTED:private_key] end");
}

#[test]
fn user_patterns() {
    add_pattern("ticket_secret", r"\bTS-[0-9]{8}\b").unwrap();
    assert_eq!(scan("see TS-12345678 and TS-1234"), "see [REDACTED:ticket_secret] and TS-1234");
    // Overlapping findings merge into one replacement: nothing leaks between.
    add_pattern("acct", r"acct:[a-z0-9@.]+").unwrap();
    assert_eq!(scan("acct:bob@example.com!"), "[REDACTED:acct]!");
    assert!(matches!(add_pattern("Email", "x"), Err(PatternError::InvalidKind(_))));
    assert!(matches!(add_pattern("email", "x"), Err(PatternError::InvalidKind(_))));
    assert!(matches!(add_pattern("ok_kind", "("), Err(PatternError::InvalidRegex(_))));
    assert!(matches!(add_pattern("ok_kind", "a*"), Err(PatternError::MatchesEmpty(_))));
}

#[test]
fn redactions_are_counted_by_kind() {
    let before = obs_runtime::testing::snapshot().counter("redactions_total", &[("kind", "email")]).unwrap_or(0);
    let out = scan("a@example.com b@example.org");
    assert_eq!(out, "[REDACTED:email] [REDACTED:email]");
    let snap = obs_runtime::testing::snapshot();
    assert_eq!(snap.counter("redactions_total", &[("kind", "email")]), Some(before + 2));
    // Every built-in kind has its series from the first scan on.
    for k in Kind::ALL {
        assert!(snap.counter("redactions_total", &[("kind", k.name())]).is_some(), "{}", k.name());
    }
}

/// The false-positive rate on ordinary text: lines of `data/ordinary_prose.txt`
/// (prose, numbers, dates, order ids, phone numbers, versions, UUIDs, hashes)
/// in which a detector finds anything.
#[test]
fn false_positive_rate_on_ordinary_prose() {
    let corpus = include_str!("data/ordinary_prose.txt");
    let lines: Vec<&str> = corpus.lines().collect();
    let hits: Vec<(&str, Vec<_>)> = lines.iter().map(|l| (*l, find(l))).filter(|(_, f)| !f.is_empty()).collect();
    let bytes = corpus.len();
    println!(
        "false positives: {} of {} lines ({:.2}%), {} bytes scanned",
        hits.len(),
        lines.len(),
        100.0 * hits.len() as f64 / lines.len() as f64,
        bytes
    );
    for (l, f) in &hits {
        println!("  {l:?}: {f:?}");
    }
    assert!(lines.len() >= 300, "the corpus has {} lines", lines.len());
    assert!(hits.is_empty(), "{} ordinary lines were redacted: {hits:?}", hits.len());
}
