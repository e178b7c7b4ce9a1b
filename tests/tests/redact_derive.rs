//! `#[derive(Redact)]`: every strategy, every shape (named, tuple, unit,
//! enums, generics, nested types), the same form in `Debug`, `Display`,
//! `Serialize` and metric labels, and the default-by-name rule.

// Masked fields exist to be redacted; the tests never read them directly.
#![allow(dead_code)]

use obs_runtime::redact::{keyed_hash, set_hash_key, Redact, Redacted};
use obs_runtime::{Redact, UnboundedLabelValue};

const KEY: &[u8] = b"obs-tests redaction key 0123456789";

fn mask_domain(email: &str) -> String {
    match email.split_once('@') {
        Some((_, d)) => format!("***@{d}"),
        None => "***".into(),
    }
}

#[derive(Redact)]
struct Account {
    id: u64,
    #[redact]
    api_key: String,
    #[redact(partial(last = 4))]
    card: String,
    #[redact(partial(first = 2))]
    city: String,
    #[redact(fixed)]
    pin: String,
    #[redact(hash)]
    email: String,
    #[redact(scan)]
    notes: String,
    #[redact(with = mask_domain)]
    backup_email: String,
    #[redact(skip)]
    internal: Vec<u8>,
    password: Option<String>,
    #[redact(allow)]
    cookie_consent: bool,
    #[redact(allow)]
    token: &'static str,
}

fn account() -> Account {
    Account {
        id: 7,
        api_key: "sk-live-0123456789abcdef".into(),
        card: "4111111111111111".into(),
        city: "Lisbon".into(),
        pin: "9731".into(),
        email: "alice@example.com".into(),
        notes: "call +1 555 0100 or mail alice@example.com".into(),
        backup_email: "alice.backup@example.org".into(),
        internal: vec![1, 2, 3],
        password: Some("hunter2".into()),
        cookie_consent: true,
        token: "public-demo-token",
    }
}

#[test]
fn every_strategy_in_debug_and_serde() {
    set_hash_key(KEY).unwrap();
    let a = account();
    let h = keyed_hash("alice@example.com");
    assert_eq!(
        format!("{a:?}"),
        format!(
            "Account {{ id: 7, api_key: [REDACTED], card: ****1111, city: Li****, pin: ********, email: {h}, \
             notes: \"call +1 555 0100 or mail [REDACTED:email]\", backup_email: ***@example.org, \
             password: [REDACTED], cookie_consent: true, token: \"public-demo-token\", .. }}"
        )
    );
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        format!(
            r#"{{"id":7,"api_key":"[REDACTED]","card":"****1111","city":"Li****","pin":"********","email":"{h}","notes":"call +1 555 0100 or mail [REDACTED:email]","backup_email":"***@example.org","password":"[REDACTED]","cookie_consent":true,"token":"public-demo-token"}}"#
        )
    );
    assert_eq!(a.to_redacted_string(), format!("{a:?}"));
    // The pretty form is redacted too.
    assert!(!format!("{a:#?}").contains("hunter2"));
}

#[test]
fn the_hash_is_hmac_sha256_of_the_key() {
    set_hash_key(KEY).unwrap();
    // Computed independently: python3 -c 'import hmac,hashlib;
    // print(hmac.new(b"obs-tests redaction key 0123456789", b"alice@example.com", hashlib.sha256).hexdigest()[:16])'
    assert_eq!(keyed_hash("alice@example.com"), "h:1d0e94b4327d2f4c");
    assert_eq!(
        set_hash_key(b"another key, 16 bytes or more"),
        Err(obs_runtime::redact::HashKeyError::AlreadySet { source: obs_runtime::redact::KeySource::Explicit })
    );
    assert!(matches!(set_hash_key(b"short"), Err(obs_runtime::redact::HashKeyError::TooShort { len: 5 })));
}

#[derive(Redact)]
#[redact(display)]
struct ApiKey(#[redact(partial(last = 4))] String);

#[derive(Redact)]
struct Pair(u32, #[redact] String);

#[derive(Redact)]
struct Unit;

#[test]
fn tuple_and_unit_structs() {
    let k = ApiKey("sk-proj-abcdefghijWXYZ".into());
    assert_eq!(format!("{k:?}"), "ApiKey(****WXYZ)");
    assert_eq!(format!("{k}"), "****WXYZ");
    assert_eq!(serde_json::to_string(&k).unwrap(), r#""****WXYZ""#);
    assert_eq!(k.unbounded_label(), "****WXYZ");
    let p = Pair(3, "secret".into());
    assert_eq!(format!("{p:?}"), "Pair(3, [REDACTED])");
    assert_eq!(serde_json::to_string(&p).unwrap(), r#"[3,"[REDACTED]"]"#);
    assert_eq!(format!("{:?}", Unit), "Unit");
    assert_eq!(serde_json::to_string(&Unit).unwrap(), "null");
}

#[derive(Redact)]
enum Auth {
    Anonymous,
    Basic {
        user: String,
        password: String,
    },
    #[redact(hash)]
    Session(String, String),
    Token(#[redact(partial(last = 3))] String),
}

#[test]
fn enums_per_variant_and_per_field() {
    set_hash_key(KEY).unwrap();
    assert_eq!(format!("{:?}", Auth::Anonymous), "Anonymous");
    let b = Auth::Basic { user: "al".into(), password: "pw-1234567".into() };
    assert_eq!(format!("{b:?}"), r#"Basic { user: "al", password: [REDACTED] }"#);
    assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"Basic":{"user":"al","password":"[REDACTED]"}}"#);
    let s = Auth::Session("s1".into(), "s2".into());
    assert_eq!(format!("{s:?}"), format!("Session({}, {})", keyed_hash("s1"), keyed_hash("s2")));
    let t = Auth::Token("tok-abcdef".into());
    assert_eq!(format!("{t:?}"), "Token(****def)");
    assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"Token":"****def"}"#);
    assert_eq!(serde_json::to_string(&Auth::Anonymous).unwrap(), r#""Anonymous""#);
}

#[derive(Redact)]
struct Envelope<T, M> {
    #[redact]
    body: T,
    meta: M,
    #[redact(fixed)]
    tag: Option<M>,
}

#[derive(Redact)]
struct Request {
    account: Account,
    key: ApiKey,
    #[redact(scan)]
    prompt: String,
    keys: Vec<Redacted<String>>,
}

#[test]
fn generics_and_nested_types() {
    let e = Envelope { body: vec![1u8, 2], meta: "m", tag: Some("t") };
    assert_eq!(format!("{e:?}"), r#"Envelope { body: [REDACTED], meta: "m", tag: ******** }"#);
    let none: Envelope<(), &str> = Envelope { body: (), meta: "m", tag: None };
    assert_eq!(serde_json::to_string(&none).unwrap(), r#"{"body":"[REDACTED]","meta":"m","tag":null}"#);

    let r = Request {
        account: account(),
        key: ApiKey("sk-proj-abcdefghijWXYZ".into()),
        prompt: "my card is 4111 1111 1111 1111".into(),
        keys: vec![Redacted::new("k1-secret".into())],
    };
    let debug = format!("{r:?}");
    let json = serde_json::to_string(&r).unwrap();
    for out in [&debug, &json] {
        for secret in [
            "sk-live-0123456789abcdef",
            "4111111111111111",
            "4111 1111 1111 1111",
            "hunter2",
            "k1-secret",
            "abcdefghij",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
    }
    assert!(
        debug.contains("key: ApiKey(****WXYZ)") && debug.contains(r#"prompt: "my card is [REDACTED:card]""#),
        "{debug}"
    );
    assert!(json.contains(r#""keys":["[REDACTED]"]"#), "{json}");
}

#[test]
fn a_redacted_value_is_recorded_redacted_by_tracing() {
    let capture = obs_runtime::testing::SpanCapture::new();
    let _g = capture.set_default();
    let a = account();
    let span = tracing::info_span!("req", account = ?a, key = %ApiKey("sk-proj-abcdefghijWXYZ".into()));
    drop(span);
    let s = capture.find("req").unwrap();
    assert_eq!(s.field("account"), Some(format!("{a:?}").as_str()));
    assert_eq!(s.field("key"), Some("****WXYZ"));
}

/// Field names are checked against the runtime's documented rule.
#[derive(Redact)]
#[allow(non_snake_case)]
struct Names {
    password: u8,
    db_password: u8,
    passwd: u8,
    secret: u8,
    client_secret: u8,
    token: u8,
    access_token: u8,
    refreshToken: u8,
    api_key: u8,
    apiKey: u8,
    APIKEY: u8,
    authorization: u8,
    cookie: u8,
    session: u8,
    session_id: u8,
    private_key: u8,
    credential: u8,
    credentials: u8,
    max_tokens: u8,
    input_tokens: u8,
    token_count: u8,
    secret_name: u8,
    password_file: u8,
    user: u8,
    tokenizer: u8,
}

#[test]
fn secret_names_follow_the_runtime_rule() {
    let n = Names {
        password: 0,
        db_password: 0,
        passwd: 0,
        secret: 0,
        client_secret: 0,
        token: 0,
        access_token: 0,
        refreshToken: 0,
        api_key: 0,
        apiKey: 0,
        APIKEY: 0,
        authorization: 0,
        cookie: 0,
        session: 0,
        session_id: 0,
        private_key: 0,
        credential: 0,
        credentials: 0,
        max_tokens: 0,
        input_tokens: 0,
        token_count: 0,
        secret_name: 0,
        password_file: 0,
        user: 0,
        tokenizer: 0,
    };
    let json: serde_json::Value = serde_json::to_value(&n).unwrap();
    let mut redacted = 0;
    for (name, v) in json.as_object().unwrap() {
        let masked = v == "[REDACTED]";
        assert_eq!(masked, obs_runtime::redact::is_secret_name(name), "{name}");
        redacted += usize::from(masked);
    }
    assert_eq!(redacted, 18);
}

#[test]
fn a_label_from_a_redacted_type_is_the_redacted_form() {
    let a = account();
    assert_eq!(a.unbounded_label(), format!("{a:?}"));
    assert!(!a.unbounded_label().contains("sk-live"));
}
