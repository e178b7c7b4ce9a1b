//! An OpenAI-compatible chat-completions server on 127.0.0.1 for the client
//! tests (async-openai, rig, genai): it answers `POST /v1/chat/completions`
//! with the replies a test scripts, in order (text or tool calls, as JSON or
//! as SSE when the request streams, with the usage chunk when it asks for
//! `stream_options.include_usage`; or an HTTP error), and records what it
//! served, so a test compares obs's figures with the server's own.
//!
//! ```no_run
//! # async fn f() {
//! use obs_tests::openai_server::{OpenAiServer, Reply, Usage};
//! let server = OpenAiServer::start(vec![Reply::text("gpt-4o-2024-08-06", "Hi", Usage::new(10, 2))]).await;
//! let base = server.base_url(); // http://127.0.0.1:PORT/v1
//! # let _ = base;
//! # }
//! ```

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Token counts the server reports, OpenAI's way (`cached` inside `prompt`,
/// `reasoning` inside `completion`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt: u64,
    pub completion: u64,
    pub cached: u64,
    pub reasoning: u64,
}

impl Usage {
    pub fn new(prompt: u64, completion: u64) -> Usage {
        Usage { prompt, completion, cached: 0, reasoning: 0 }
    }
    pub fn cached(self, cached: u64) -> Usage {
        Usage { cached, ..self }
    }
    pub fn reasoning(self, reasoning: u64) -> Usage {
        Usage { reasoning, ..self }
    }
    fn json(&self) -> Value {
        json!({
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
            "prompt_tokens_details": {"cached_tokens": self.cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        })
    }
}

/// A tool call the model asks for.
#[derive(Clone, Debug)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments, a JSON object as text.
    pub arguments: String,
}

/// What the server answers to one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// An assistant message: `text` (sent in `chunks` when streamed) and/or
    /// tool calls, with its usage.
    Answer {
        /// `model` of the response (the provider's snapshot name).
        model: String,
        /// Streamed content, one SSE chunk each; joined for a JSON reply.
        chunks: Vec<String>,
        tool_calls: Vec<ToolCall>,
        usage: Usage,
        /// Wait before the response's headers (the model "thinking").
        delay: Duration,
        /// Wait between SSE chunks.
        chunk_delay: Duration,
    },
    /// An HTTP error with OpenAI's error body.
    Error { status: u16, message: String },
}

impl Reply {
    /// A text answer, finish reason `stop`.
    pub fn text(model: &str, text: &str, usage: Usage) -> Reply {
        Reply::Answer {
            model: model.into(),
            chunks: vec![text.into()],
            tool_calls: Vec::new(),
            usage,
            delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
        }
    }
    /// A text answer streamed in these chunks.
    pub fn chunks(model: &str, chunks: &[&str], usage: Usage) -> Reply {
        Reply::Answer {
            model: model.into(),
            chunks: chunks.iter().map(|c| c.to_string()).collect(),
            tool_calls: Vec::new(),
            usage,
            delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
        }
    }
    /// Tool calls `(name, arguments JSON)`, finish reason `tool_calls`; ids
    /// are `call_{name}_{i}`.
    pub fn tools(model: &str, calls: &[(&str, &str)], usage: Usage) -> Reply {
        Reply::Answer {
            model: model.into(),
            chunks: Vec::new(),
            tool_calls: calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| ToolCall {
                    id: format!("call_{name}_{i}"),
                    name: name.to_string(),
                    arguments: args.to_string(),
                })
                .collect(),
            usage,
            delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
        }
    }
    /// An HTTP error (500, 429, ..) with `message`.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::Error { status, message: message.into() }
    }
    /// Waits `delay` before answering.
    pub fn delay(mut self, d: Duration) -> Reply {
        if let Reply::Answer { delay, .. } = &mut self {
            *delay = d;
        }
        self
    }
    /// Waits `d` between streamed chunks.
    pub fn chunk_delay(mut self, d: Duration) -> Reply {
        if let Reply::Answer { chunk_delay, .. } = &mut self {
            *chunk_delay = d;
        }
        self
    }
}

/// One request the server answered.
#[derive(Clone, Debug)]
pub struct Served {
    /// The request body.
    pub request: Value,
    /// `model` of the request.
    pub request_model: String,
    pub stream: bool,
    /// `model` of the response (`None` for an error).
    pub response_model: Option<String>,
    /// The HTTP status sent.
    pub status: u16,
    /// The usage reported (in the body, or in the usage chunk of a stream
    /// that asked for it); `None` for an error or a stream without it.
    pub usage: Option<Usage>,
    /// From the request's arrival to the first content byte written (the
    /// first content chunk of a stream, the body of a JSON reply).
    pub first_content: Option<Duration>,
    /// From the request's arrival to the last byte written.
    pub duration: Duration,
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    served: Vec<Served>,
}

/// The server; stopped when dropped.
pub struct OpenAiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl OpenAiServer {
    /// Binds 127.0.0.1 on a free port and serves `script`, one reply per
    /// request, in order; a request past the script gets a 500 saying so.
    pub async fn start(script: Vec<Reply>) -> OpenAiServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State { script: script.into(), served: Vec::new() }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                tokio::spawn(serve(sock, shared.clone()));
            }
        });
        OpenAiServer { addr, state, task }
    }

    /// `http://127.0.0.1:PORT/v1`, the API base clients take.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Appends replies to the script.
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    /// What the server answered so far, in order of completion.
    pub fn served(&self) -> Vec<Served> {
        self.state.lock().unwrap().served.clone()
    }

    /// Replies scripted but not yet asked for.
    pub fn pending(&self) -> usize {
        self.state.lock().unwrap().script.len()
    }
}

impl Drop for OpenAiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request (headers, then the body by Content-Length).
async fn read_request(sock: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let (head_end, len) = loop {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    Some((head, buf[head_end..].to_vec()))
}

fn message(chunks: &[String], calls: &[ToolCall]) -> Value {
    let mut m = json!({"role": "assistant", "content": null, "refusal": null});
    if !chunks.is_empty() {
        m["content"] = json!(chunks.concat());
    }
    if !calls.is_empty() {
        m["tool_calls"] = calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            .collect();
    }
    m
}

fn finish_reason(calls: &[ToolCall]) -> &'static str {
    if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    }
}

async fn serve(mut sock: TcpStream, state: Arc<Mutex<State>>) {
    let Some((head, body)) = read_request(&mut sock).await else { return };
    let start = Instant::now();
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let path_ok = head.starts_with("POST /v1/chat/completions ");
    let stream = request["stream"] == json!(true);
    let include_usage = request["stream_options"]["include_usage"] == json!(true);
    let reply = if path_ok {
        state.lock().unwrap().script.pop_front()
    } else {
        Some(Reply::error(404, &format!("no such route: {}", head.lines().next().unwrap_or(""))))
    };
    let reply = reply.unwrap_or_else(|| Reply::error(500, "the test scripted no reply for this request"));
    let mut served = Served {
        request_model: request["model"].as_str().unwrap_or_default().to_string(),
        request,
        stream,
        response_model: None,
        status: 200,
        usage: None,
        first_content: None,
        duration: Duration::ZERO,
    };
    match reply {
        Reply::Error { status, message } => {
            let body =
                json!({"error": {"message": message, "type": "server_error", "param": null, "code": null}}).to_string();
            let reason = if status == 429 { "Too Many Requests" } else { "Error" };
            let resp = format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            served.status = status;
        }
        Reply::Answer { model, chunks, tool_calls, usage, delay, chunk_delay } if stream => {
            served.response_model = Some(model.clone());
            tokio::time::sleep(delay).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n")
                .await;
            let chunk = |delta: Value, finish: Value, usage: Value| {
                let choices = if delta.is_null() {
                    json!([])
                } else {
                    json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}])
                };
                json!({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1763700001, "model": model,
                    "system_fingerprint": "fp_s", "choices": choices, "usage": usage})
            };
            let mut events =
                vec![(chunk(json!({"role": "assistant", "content": ""}), Value::Null, Value::Null), false)];
            for c in &chunks {
                events.push((chunk(json!({"content": c}), Value::Null, Value::Null), true));
            }
            for (i, c) in tool_calls.iter().enumerate() {
                let open = json!({"tool_calls": [{"index": i, "id": c.id, "type": "function",
                    "function": {"name": c.name, "arguments": ""}}]});
                events.push((chunk(open, Value::Null, Value::Null), true));
                let args = json!({"tool_calls": [{"index": i, "function": {"arguments": c.arguments}}]});
                events.push((chunk(args, Value::Null, Value::Null), true));
            }
            events.push((chunk(json!({}), json!(finish_reason(&tool_calls)), Value::Null), false));
            if include_usage {
                events.push((chunk(Value::Null, Value::Null, usage.json()), false));
                served.usage = Some(usage);
            }
            for (event, content) in events {
                if content && served.first_content.is_none() {
                    served.first_content = Some(start.elapsed());
                }
                let _ = sock.write_all(format!("data: {event}\n\n").as_bytes()).await;
                let _ = sock.flush().await;
                tokio::time::sleep(chunk_delay).await;
            }
            let _ = sock.write_all(b"data: [DONE]\n\n").await;
        }
        Reply::Answer { model, chunks, tool_calls, usage, delay, .. } => {
            served.response_model = Some(model.clone());
            tokio::time::sleep(delay).await;
            let body = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1763700000, "model": model,
                "choices": [{"index": 0, "message": message(&chunks, &tool_calls), "logprobs": null,
                    "finish_reason": finish_reason(&tool_calls)}],
                "usage": usage.json(), "service_tier": "default", "system_fingerprint": "fp_1"})
            .to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            served.first_content = Some(start.elapsed());
            let _ = sock.write_all(resp.as_bytes()).await;
            served.usage = Some(usage);
        }
    }
    let _ = sock.flush().await;
    let _ = sock.shutdown().await;
    served.duration = start.elapsed();
    state.lock().unwrap().served.push(served);
}
