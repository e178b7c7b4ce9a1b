//! Every shape `#[derive(Redact)]` takes compiles, with warnings denied.
#![deny(warnings)]
// Masked fields are written by the derive only as masks, never read.
#![allow(dead_code)]

use obs_runtime as obs;
use obs_runtime::redact::Redacted;
use obs_runtime::{Redact, UnboundedLabelValue};

fn last_two(s: &str) -> String {
    format!("..{}", &s[s.len().saturating_sub(2)..])
}

#[derive(Redact)]
#[redact(display)]
pub struct Named {
    pub user: String,
    #[redact]
    pub api_key: String,
    #[redact(partial(first = 2))]
    pub city: String,
    #[redact(fixed)]
    pub pin: Option<String>,
    #[redact(hash)]
    pub user_id: u64,
    #[redact(scan)]
    pub prompt: std::borrow::Cow<'static, str>,
    #[redact(with = last_two)]
    pub phone: String,
    #[redact(skip)]
    pub cache: Vec<u8>,
    pub password: String,
    #[redact(allow)]
    pub token_hint: bool,
}

#[derive(Redact)]
#[redact(display)]
pub struct Tuple(#[redact(partial(last = 4))] pub String);

#[derive(Redact)]
pub struct Unit;

#[derive(Redact)]
pub enum Event {
    Started,
    Login {
        user: String,
        password: String,
    },
    #[redact(hash)]
    Session(String, u32),
    Key(#[redact] String),
}

#[derive(Redact)]
pub struct Generic<'a, T: Clone, const N: usize>
where
    T: Send,
{
    #[redact]
    pub secret: T,
    pub label: &'a str,
    pub sizes: [u8; N],
    #[redact(partial(last = 2))]
    pub code: Option<&'a str>,
}

#[derive(Redact)]
pub struct Nested {
    pub inner: Named,
    pub tuple: Tuple,
    pub event: Event,
    pub key: Redacted<String>,
    #[redact]
    pub raw: Vec<Generic<'static, u8, 2>>,
}

#[derive(Redact)]
#[redact(crate = obs)]
pub struct Renamed {
    #[redact]
    pub key: String,
}

#[derive(Redact)]
pub enum Empty {}

fn main() {
    let t = Tuple("abcdef".into());
    let _ = (format!("{t} {t:?} {:?}", Unit), t.unbounded_label());
    let e = Event::Login { user: "u".into(), password: "p".into() };
    let _ = format!("{e:?}");
    let g = Generic::<String, 2> { secret: "s".into(), label: "l", sizes: [1, 2], code: Some("abc") };
    let _ = format!("{g:?}");
    let _ = format!("{:?}", Renamed { key: "k".into() });
}
