//! Content capture, the runtime half: prompts, completions and tool
//! arguments and results go on spans (`gen_ai.input.messages`,
//! `gen_ai.output.messages`, ...) only when the user opted in, only after the
//! detectors ran over them, and cut to a size limit that keeps JSON valid.
//!
//! Following the OpenTelemetry GenAI rule, capture is off by default. Both
//! settings are configuration like any other: `init()` reads
//! `OBS_CAPTURE_CONTENT` and `OBS_CAPTURE_MAX_BYTES` with the rest of the
//! environment, rejects a bad value as an `InitError`, and applies them
//! together with everything else once `init()` succeeds
//! ([`crate::Builder::capture_content`], [`crate::Builder::capture_max_bytes`]).
//! [`set_capture`] and [`set_capture_max_bytes`] do the same as those
//! builder methods, at once, for code that runs without `init()` (tests,
//! libraries); nothing here reads the environment, so a value is never
//! silently ignored at first use.

use super::detectors::{self, Kind};
use super::is_secret_name;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The size limit when neither `OBS_CAPTURE_MAX_BYTES` nor
/// [`set_capture_max_bytes`] sets one.
pub const DEFAULT_CAPTURE_MAX_BYTES: usize = 16 * 1024;
/// Smaller limits are raised to this, so that the output can always be valid
/// JSON with a truncation mark.
pub(crate) const MIN_BYTES: usize = 16;
/// The largest limit (1 MiB): captured content rides on spans, which wait in
/// the exporter's queue (2,048 by default) and are sent in batches that
/// collectors cap (gRPC's default message is 4 MiB); `init()` refuses more.
pub(crate) const MAX_BYTES_LIMIT: usize = 1 << 20;
/// Ends a cut string; stands for dropped array elements.
const MARK: &str = "…";
/// The closing bracket or brace of a container.
const CLOSE: usize = 1;

static MAX_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_CAPTURE_MAX_BYTES);

/// Whether content is captured: off unless [`set_capture`] or `init()`
/// (`OBS_CAPTURE_CONTENT`, [`crate::Builder::capture_content`]) turned it on.
#[inline] // read by every tool and model call: a load, not a call into this crate
pub fn capture_enabled() -> bool {
    crate::call::capture_setting()
}

/// Turns content capture on or off for the process, at once; the same as
/// [`crate::Builder::capture_content`] (`OBS_CAPTURE_CONTENT`) without `init()`.
pub fn set_capture(on: bool) {
    crate::call::set_capture_setting(on);
}

/// The size limit of captured content, in bytes.
pub fn capture_max_bytes() -> usize {
    MAX_BYTES.load(Relaxed)
}

/// Sets the size limit of captured content (16 bytes to 1 MiB: a value
/// outside is raised or lowered to it), at once; the same as
/// [`crate::Builder::capture_max_bytes`] (`OBS_CAPTURE_MAX_BYTES`) without
/// `init()`, which refuses a value over 1 MiB instead.
pub fn set_capture_max_bytes(n: usize) {
    MAX_BYTES.store(n.clamp(MIN_BYTES, MAX_BYTES_LIMIT), Relaxed);
}

/// `value` as captured content, or `None` when capture is off: serialized
/// to JSON (a `#[derive(Redact)]` type serializes redacted), then
/// [`prepare_content`] with [`capture_max_bytes`].
///
/// ```
/// use obs_runtime::redact::{capture, set_capture};
/// set_capture(true);
/// let messages = vec![("user", "my card is 4111 1111 1111 1111")];
/// assert_eq!(capture(&messages).unwrap(), r#"[["user","my card is [REDACTED:card]"]]"#);
/// ```
pub fn capture<T: serde::Serialize + ?Sized>(value: &T) -> Option<String> {
    if !capture_enabled() {
        return None;
    }
    let json = serde_json::to_string(value).ok()?;
    Some(prepare_content(&json, capture_max_bytes()))
}

/// Prepares content for a span: runs the detectors over it, then cuts it to
/// at most `max_bytes` bytes (at least 16).
///
/// Valid JSON stays valid JSON: the detectors
/// run over every string, key and long number in it, the values of keys for
/// which [`is_secret_name`] holds become `"[REDACTED:secret]"`, and it is
/// written compact. When too long, every string is cut to one common length
/// (ending with `…`), the longest that fits; if even empty strings do not
/// fit, array elements and object members are dropped from the end, marked
/// by a last `"…"` element or a `"…":"…"` member. Other text is cut at a
/// character boundary and ends with `…`.
///
/// ```
/// use obs_runtime::redact::prepare_content;
/// let json = r#"{"messages":[{"role":"user","content":"reach me at bob@example.com"}],"api_key":"k-1"}"#;
/// assert_eq!(
///     prepare_content(json, 1024),
///     r#"{"messages":[{"role":"user","content":"reach me at [REDACTED:email]"}],"api_key":"[REDACTED:secret]"}"#
/// );
/// let long = format!(r#"["{}","{}"]"#, "a".repeat(100), "b".repeat(100));
/// assert_eq!(prepare_content(&long, 32), r#"["aaaaaaaaa…","bbbbbbbbb…"]"#);
/// assert_eq!(prepare_content("plain text, cut here", 16), "plain text, c…");
/// ```
pub fn prepare_content(json_or_text: &str, max_bytes: usize) -> String {
    let max = max_bytes.max(MIN_BYTES);
    let looks_json = matches!(
        json_or_text.trim_start().as_bytes().first(),
        Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
    );
    if looks_json {
        if let Ok(mut node) = serde_json::from_str::<Node>(json_or_text) {
            redact_node(&mut node);
            return fit_json(&node, max);
        }
    }
    cut_text(&detectors::scan(json_or_text), max)
}

fn cut_text(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max - MARK.len();
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{MARK}", &text[..cut])
}

/// A JSON value that keeps the order of object members.
enum Node {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Num(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Num(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Node::Null, Node::Num))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(Node::Arr(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = map.next_entry::<String, Node>()? {
            v.push((k, x));
        }
        Ok(Node::Obj(v))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

fn scan_in_place(s: &mut String) {
    if let Cow::Owned(o) = detectors::scan(s) {
        *s = o;
    }
}

fn redact_node(node: &mut Node) {
    match node {
        Node::Str(s) => scan_in_place(s),
        // A card number written as a JSON number.
        Node::Num(n) => {
            let t = n.to_string();
            if t.len() >= 13 {
                if let Cow::Owned(o) = detectors::scan(&t) {
                    *node = Node::Str(o);
                }
            }
        }
        Node::Arr(v) => v.iter_mut().for_each(redact_node),
        Node::Obj(members) => {
            for (k, v) in members.iter_mut() {
                if is_secret_name(k) && !matches!(v, Node::Null) {
                    *v = Node::Str(Kind::Secret.replacement().to_string());
                    detectors::count(Kind::Secret);
                } else {
                    redact_node(v);
                }
                scan_in_place(k);
            }
        }
        Node::Null | Node::Bool(_) => {}
    }
}

fn write_str(out: &mut String, s: &str, max_chars: usize) {
    out.push('"');
    let mut cut = false;
    for (n, c) in s.chars().enumerate() {
        if n == max_chars {
            cut = true;
            break;
        }
        crate::json::escape_char(out, c);
    }
    if cut {
        out.push_str(MARK);
    }
    out.push('"');
}

/// Writes `node` with every string cut to `max_chars` characters.
fn render(node: &Node, max_chars: usize, out: &mut String) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Num(n) => {
            let _ = write!(out, "{n}");
        }
        Node::Str(s) => write_str(out, s, max_chars),
        Node::Arr(v) => {
            out.push('[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render(x, max_chars, out);
            }
            out.push(']');
        }
        Node::Obj(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k, usize::MAX);
                out.push(':');
                render(x, max_chars, out);
            }
            out.push('}');
        }
    }
}

fn longest_string(node: &Node) -> usize {
    match node {
        Node::Str(s) => s.chars().count(),
        Node::Arr(v) => v.iter().map(longest_string).max().unwrap_or(0),
        Node::Obj(m) => m.iter().map(|(_, x)| longest_string(x)).max().unwrap_or(0),
        _ => 0,
    }
}

fn rendered(node: &Node, max_chars: usize) -> String {
    let mut s = String::new();
    render(node, max_chars, &mut s);
    s
}

fn fit_json(node: &Node, max: usize) -> String {
    let full = rendered(node, usize::MAX);
    if full.len() <= max {
        return full;
    }
    // The longest common string length that fits, by bisection.
    let (mut lo, mut hi) = (0usize, longest_string(node));
    let mut best = None;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let s = rendered(node, mid);
        if s.len() <= max {
            best = Some(s);
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if let Some(s) = best {
        return s;
    }
    fit(node, max).unwrap_or_else(|| format!("\"{MARK}\""))
}

/// `node` in at most `budget` bytes, dropping from the end; `None` if even
/// its smallest form does not fit.
fn fit(node: &Node, budget: usize) -> Option<String> {
    match node {
        Node::Str(s) => {
            let mut out = String::new();
            write_str(&mut out, s, usize::MAX);
            if out.len() <= budget {
                return Some(out);
            }
            // Quotes and the mark are 5 bytes.
            let room = budget.checked_sub(2 + MARK.len())?;
            let (mut used, mut chars) = (0, 0);
            for c in s.chars() {
                if used + crate::json::escaped_len(c) > room {
                    break;
                }
                used += crate::json::escaped_len(c);
                chars += 1;
            }
            out.clear();
            write_str(&mut out, s, chars);
            Some(out)
        }
        Node::Arr(v) => {
            let mut out = String::from("[");
            // `,"…"` and the closing bracket.
            let reserve = 1 + 2 + MARK.len() + 1;
            for (i, x) in v.iter().enumerate() {
                let comma = usize::from(i > 0);
                let tail = if i + 1 == v.len() { 1 } else { reserve };
                let piece = budget.checked_sub(out.len() + comma + tail).and_then(|room| fit(x, room));
                match piece {
                    Some(p) => {
                        out.push_str(&",".repeat(comma));
                        out.push_str(&p);
                    }
                    None => {
                        if out.len() + comma + 2 + MARK.len() + CLOSE <= budget {
                            out.push_str(&",".repeat(comma));
                            let _ = write!(out, "\"{MARK}\"");
                        }
                        break;
                    }
                }
            }
            out.push(']');
            (out.len() <= budget).then_some(out)
        }
        Node::Obj(m) => {
            let mut out = String::from("{");
            // `,"…":"…"` and the closing brace.
            let marker = 2 * (2 + MARK.len()) + 1;
            for (i, (k, x)) in m.iter().enumerate() {
                let comma = usize::from(i > 0);
                let tail = if i + 1 == m.len() { 1 } else { 1 + marker + 1 };
                let mut key = String::new();
                write_str(&mut key, k, usize::MAX);
                let piece = budget
                    .checked_sub(out.len() + comma + key.len() + 1 + tail)
                    .and_then(|room| fit(x, room))
                    .map(|v| format!("{key}:{v}"));
                match piece {
                    Some(p) => {
                        out.push_str(&",".repeat(comma));
                        out.push_str(&p);
                    }
                    None => {
                        if out.len() + comma + marker + CLOSE <= budget {
                            out.push_str(&",".repeat(comma));
                            let _ = write!(out, "\"{MARK}\":\"{MARK}\"");
                        }
                        break;
                    }
                }
            }
            out.push('}');
            (out.len() <= budget).then_some(out)
        }
        scalar => {
            let s = rendered(scalar, usize::MAX);
            (s.len() <= budget).then_some(s)
        }
    }
}

/// What generated code uses to capture arguments and return values.
#[doc(hidden)]
pub mod __private {
    use serde_json::Value;

    /// A value that can be captured: serialized by the runtime, through this
    /// trait's vtable, only when a call captures (the generated code only
    /// takes a reference, so nothing is serialized, copied or dropped per
    /// function otherwise).
    pub trait CaptureArg {
        /// The value as JSON.
        fn json(&self) -> Option<Value>;
    }

    impl<T: serde::Serialize> CaptureArg for T {
        fn json(&self) -> Option<Value> {
            serde_json::to_value(self).ok()
        }
    }

    /// Wraps a value for [`CaptureResult`] / [`CaptureSerialize`] / [`CaptureNothing`]:
    /// `(&&&CaptureProbe(&v)).__obs_capture()` picks, by autoref, the `Ok`
    /// value of a `Result`, else any `Serialize` value, else nothing, so a
    /// type that cannot be serialized is skipped instead of failing to compile.
    pub struct CaptureProbe<'a, T: ?Sized>(pub &'a T);

    /// `Result<T: Serialize, E>`: the `Ok` value only.
    pub trait CaptureResult<'a> {
        /// The value to capture.
        fn __obs_capture(&self) -> Option<&'a dyn CaptureArg>;
    }
    impl<'a, T: serde::Serialize, E> CaptureResult<'a> for &&CaptureProbe<'a, Result<T, E>> {
        #[inline]
        fn __obs_capture(&self) -> Option<&'a dyn CaptureArg> {
            self.0.as_ref().ok().map(|v| v as &dyn CaptureArg)
        }
    }

    /// Any `Serialize` value.
    pub trait CaptureSerialize<'a> {
        /// The value to capture.
        fn __obs_capture(&self) -> Option<&'a dyn CaptureArg>;
    }
    impl<'a, T: serde::Serialize> CaptureSerialize<'a> for &CaptureProbe<'a, T> {
        #[inline]
        fn __obs_capture(&self) -> Option<&'a dyn CaptureArg> {
            Some(self.0)
        }
    }

    /// Anything else: not captured.
    pub trait CaptureNothing<'a> {
        /// Nothing.
        fn __obs_capture(&self) -> Option<&'a dyn CaptureArg>;
    }
    impl<'a, T: ?Sized> CaptureNothing<'a> for CaptureProbe<'a, T> {
        #[inline]
        fn __obs_capture(&self) -> Option<&'a dyn CaptureArg> {
            None
        }
    }

    /// The probes' values as JSON, by name.
    pub fn to_json<'a>(args: &[(&'a str, Option<&dyn CaptureArg>)]) -> Vec<(&'a str, Option<Value>)> {
        args.iter().map(|(n, v)| (*n, v.and_then(CaptureArg::json))).collect()
    }

    /// The captured arguments: one argument as itself, several as an object
    /// by name; detectors and truncation applied. `None` when none could be captured.
    pub fn arguments(args: &[(&str, Option<Value>)]) -> Option<String> {
        let present: Vec<(&str, &Value)> = args.iter().filter_map(|(n, v)| Some((*n, v.as_ref()?))).collect();
        let json = match present.as_slice() {
            [] => return None,
            [(_, v)] => serde_json::to_string(v).ok()?,
            many => serde_json::to_string(
                &many.iter().map(|(n, v)| (n.to_string(), (*v).clone())).collect::<serde_json::Map<_, _>>(),
            )
            .ok()?,
        };
        Some(super::prepare_content(&json, super::capture_max_bytes()))
    }

    /// A model call's captured arguments as `gen_ai.input.messages` in the
    /// GenAI conventions' message schema
    /// (`[{"role":"user","parts":[{"type":"text","content":".."}]}]`), which
    /// GenAI backends display. An argument that is already a list of
    /// `{"role", "content"}` messages (async-openai's, most clients') keeps
    /// its roles; anything else is one user message whose text is the value
    /// (a string as is, other values as JSON).
    pub fn input_messages(args: &[(&str, Option<Value>)]) -> Option<String> {
        let present: Vec<(&str, &Value)> = args.iter().filter_map(|(n, v)| Some((*n, v.as_ref()?))).collect();
        let messages = match present.as_slice() {
            [] => return None,
            [(_, v)] => messages_of(v).unwrap_or_else(|| vec![text_message("user", v, None)]),
            many => match many.iter().find_map(|(_, v)| messages_of(v)) {
                Some(m) => m,
                None => {
                    let obj: serde_json::Map<String, Value> =
                        many.iter().map(|(n, v)| (n.to_string(), (*v).clone())).collect();
                    vec![text_message("user", &Value::Object(obj), None)]
                }
            },
        };
        let json = serde_json::to_string(&messages).ok()?;
        Some(super::prepare_content(&json, super::capture_max_bytes()))
    }

    /// A model call's captured return value as `gen_ai.output.messages`: an
    /// OpenAI-style response (`choices[].message`, `finish_reason`) keeps its
    /// messages; anything else is one assistant message (`finish_reason`
    /// `stop`) whose text is the value.
    pub fn output_messages(v: Option<Value>) -> Option<String> {
        let v = v?;
        let messages = match v.get("choices").and_then(Value::as_array) {
            Some(choices) if !choices.is_empty() => choices
                .iter()
                .map(|c| {
                    let finish = c.get("finish_reason").and_then(Value::as_str).unwrap_or("stop");
                    let msg = c.get("message").unwrap_or(&Value::Null);
                    let role = msg.get("role").and_then(Value::as_str).unwrap_or("assistant");
                    text_message(role, msg.get("content").unwrap_or(&Value::Null), Some(finish))
                })
                .collect(),
            _ => {
                // A reply type with one text field (`{"text": ..}`, `{"content": ..}`) is that text.
                let text = ["content", "text"].iter().find_map(|k| v.get(*k).filter(|t| t.is_string()));
                vec![text_message("assistant", text.unwrap_or(&v), Some("stop"))]
            }
        };
        let json = serde_json::to_string(&messages).ok()?;
        Some(super::prepare_content(&json, super::capture_max_bytes()))
    }

    /// `[{"role": .., "content": ..}, ..]` as schema messages, when `v` is that.
    fn messages_of(v: &Value) -> Option<Vec<Message>> {
        let list = v.as_array().or_else(|| v.get("messages").and_then(Value::as_array))?;
        if list.is_empty() {
            return None;
        }
        list.iter()
            .map(|m| {
                let role = m.get("role")?.as_str()?;
                Some(text_message(role, m.get("content").unwrap_or(&Value::Null), None))
            })
            .collect()
    }

    /// One message of the schema; a struct, so its keys keep this order
    /// whatever `serde_json` features the build has.
    #[derive(serde::Serialize)]
    pub(super) struct Message {
        role: String,
        parts: [Part; 1],
        #[serde(skip_serializing_if = "Option::is_none")]
        finish_reason: Option<String>,
    }

    #[derive(serde::Serialize)]
    struct Part {
        #[serde(rename = "type")]
        kind: &'static str,
        content: String,
    }

    fn text_message(role: &str, content: &Value, finish_reason: Option<&str>) -> Message {
        let text = match content {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            // Content parts (`[{"type":"text","text":..}]`) as their texts.
            Value::Array(parts) if parts.iter().all(|p| p.get("text").is_some_and(Value::is_string)) => {
                parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n")
            }
            other => other.to_string(),
        };
        Message {
            role: role.to_string(),
            parts: [Part { kind: "text", content: text }],
            finish_reason: finish_reason.map(str::to_string),
        }
    }

    /// A captured return value, detectors and truncation applied.
    pub fn value(v: Option<Value>) -> Option<String> {
        let json = serde_json::to_string(&v?).ok()?;
        Some(super::prepare_content(&json, super::capture_max_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::__private::{input_messages, output_messages};
    use serde_json::json;

    #[test]
    fn model_content_follows_the_genai_message_schema() {
        assert_eq!(
            input_messages(&[("prompt", Some(json!("hi")))]).unwrap(),
            r#"[{"role":"user","parts":[{"type":"text","content":"hi"}]}]"#
        );
        let chat = json!({"model": "gpt-4o", "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
        ]});
        assert_eq!(
            input_messages(&[("request", Some(chat))]).unwrap(),
            r#"[{"role":"system","parts":[{"type":"text","content":"be brief"}]},{"role":"user","parts":[{"type":"text","content":"a\nb"}]}]"#
        );
        assert_eq!(
            input_messages(&[("a", Some(json!(1))), ("b", Some(json!("x")))]).unwrap(),
            r#"[{"role":"user","parts":[{"type":"text","content":"{\"a\":1,\"b\":\"x\"}"}]}]"#
        );
        assert_eq!(input_messages(&[("a", None)]), None);
        let response =
            json!({"choices": [{"message": {"role": "assistant", "content": "done"}, "finish_reason": "length"}]});
        assert_eq!(
            output_messages(Some(response)).unwrap(),
            r#"[{"role":"assistant","parts":[{"type":"text","content":"done"}],"finish_reason":"length"}]"#
        );
        assert_eq!(
            output_messages(Some(json!(42))).unwrap(),
            r#"[{"role":"assistant","parts":[{"type":"text","content":"42"}],"finish_reason":"stop"}]"#
        );
    }
}
