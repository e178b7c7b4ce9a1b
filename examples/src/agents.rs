//! The three agents: `planner` fans out to concurrent `researcher`s, then
//! hands their findings to the `writer`.

use crate::llm::{claude_sonnet, gpt_5_4, gpt_5_4_mini, Ask, Completion, LlmError};
use crate::tools::{fetch_page, rank, web_search, Page, ToolError};
use crate::Sim;
use obs_runtime::track_execution;
use std::fmt;

/// Topics the planner picks from, in order.
const TOPICS: &[&str] = &[
    "vector databases",
    "agent memory",
    "tool-use benchmarks",
    "prompt caching",
    "structured outputs",
    "speculative decoding",
    "retrieval evaluation",
    "guardrails",
];

/// Pages each researcher tries to read.
const PAGES_PER_TOPIC: usize = 3;

/// Pages a researcher needs to write anything.
const MIN_SOURCES: usize = 2;

/// Token counts summed over the model calls of an agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Successful model calls.
    pub calls: u64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
}

impl Usage {
    fn add(&mut self, c: &Completion) {
        self.calls += 1;
        self.input_tokens += c.input_tokens;
        self.output_tokens += c.output_tokens;
    }

    fn merge(&mut self, o: &Usage) {
        self.calls += o.calls;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
    }
}

/// Why an agent failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentError {
    /// A tool failed and the agent could not do without it.
    Tool(ToolError),
    /// A model call failed.
    Llm(LlmError),
    /// Too few pages of the topic could be read.
    TooFewSources {
        /// The topic.
        topic: String,
        /// Pages read.
        pages: usize,
    },
    /// No researcher brought anything back.
    NothingFound,
    /// A researcher task panicked or was cancelled.
    Crashed(String),
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::Tool(e) => write!(f, "{e}"),
            AgentError::Llm(e) => write!(f, "{e}"),
            AgentError::TooFewSources { topic, pages } => {
                write!(f, "only {pages} page(s) about `{topic}` could be read, {MIN_SOURCES} needed")
            }
            AgentError::NothingFound => write!(f, "every researcher failed"),
            AgentError::Crashed(t) => write!(f, "the researcher of `{t}` crashed"),
        }
    }
}

impl std::error::Error for AgentError {}

impl From<ToolError> for AgentError {
    fn from(e: ToolError) -> Self {
        AgentError::Tool(e)
    }
}

impl From<LlmError> for AgentError {
    fn from(e: LlmError) -> Self {
        AgentError::Llm(e)
    }
}

/// What a researcher brings back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Findings {
    /// The topic.
    pub topic: String,
    /// Pages read.
    pub pages: usize,
    /// The synthesis.
    pub summary: String,
    /// Tokens used.
    pub usage: Usage,
}

/// The outcome of a whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The final text.
    pub text: String,
    /// Topics researched successfully.
    pub findings: Vec<Findings>,
    /// Topics whose researcher failed, with why.
    pub failed: Vec<(String, AgentError)>,
    /// Tokens used by every agent.
    pub usage: Usage,
}

/// The first `n` topics (cycling, numbered past the list).
pub fn topics(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i / TOPICS.len() {
            0 => TOPICS[i].to_string(),
            round => format!("{} ({})", TOPICS[i % TOPICS.len()], round + 1),
        })
        .collect()
}

/// The planner: plans `n` topics with one `gpt-5.4` call, runs one researcher
/// per topic concurrently, then asks the writer for the report.
#[track_execution(agent = "planner")]
pub async fn planner(sim: Sim, n: usize) -> Result<Report, AgentError> {
    let mut usage = Usage::default();
    let plan = gpt_5_4(sim, Ask { task: "plan", subject: &format!("{n} research topics"), attempt: 0 }).await?;
    usage.add(&plan);

    // `obs_runtime::spawn` keeps the planner's context (agent and parent span)
    // in the new tasks; each researcher then sets its own agent.
    let topics = topics(n);
    let tasks: Vec<_> = topics.iter().map(|t| obs_runtime::spawn(researcher(sim, t.clone()))).collect();
    let mut findings = Vec::new();
    let mut failed = Vec::new();
    for (topic, task) in topics.into_iter().zip(tasks) {
        match task.await {
            Ok(Ok(f)) => {
                usage.merge(&f.usage);
                findings.push(f);
            }
            Ok(Err(e)) => failed.push((topic, e)),
            Err(_) => failed.push((topic.clone(), AgentError::Crashed(topic))),
        }
    }
    if findings.is_empty() {
        return Err(AgentError::NothingFound);
    }
    let (text, writer_usage) = writer(sim, &findings).await?;
    usage.merge(&writer_usage);
    Ok(Report { text, findings, failed, usage })
}

/// A researcher: searches (retrying once), reads the best pages concurrently,
/// gives up with fewer than two, summarises each with `gpt-5.4-mini`
/// (retrying once) and synthesises with `claude-sonnet-4-6`.
#[track_execution(agent = "researcher")]
pub async fn researcher(sim: Sim, topic: String) -> Result<Findings, AgentError> {
    let hits = match web_search(sim, &topic, 0).await {
        Ok(hits) => hits,
        Err(_) => web_search(sim, &topic, 1).await?,
    };
    // Spawned tool calls are still counted with agent="researcher".
    let fetches: Vec<_> =
        rank(hits).into_iter().take(PAGES_PER_TOPIC).map(|h| obs_runtime::spawn(fetch_page(sim, h.url))).collect();
    let mut pages: Vec<Page> = Vec::new();
    for f in fetches {
        if let Ok(Ok(page)) = f.await {
            pages.push(page);
        }
    }
    if pages.len() < MIN_SOURCES {
        return Err(AgentError::TooFewSources { topic, pages: pages.len() });
    }

    let mut usage = Usage::default();
    for page in &pages {
        let ask = Ask { task: "summarise", subject: &page.url, attempt: 0 };
        let summary = match gpt_5_4_mini(sim, ask).await {
            Ok(c) => Ok(c),
            // Rate limited: one retry.
            Err(_) => gpt_5_4_mini(sim, Ask { attempt: 1, ..ask }).await,
        };
        if let Ok(c) = summary {
            usage.add(&c);
        }
    }
    let synthesis = claude_sonnet(sim, Ask { task: "synthesise", subject: &topic, attempt: 0 }).await?;
    usage.add(&synthesis);
    Ok(Findings { topic, pages: pages.len(), summary: synthesis.text, usage })
}

/// The writer: one `gpt-5.4` call over every finding.
#[track_execution(agent = "writer")]
pub async fn writer(sim: Sim, findings: &[Findings]) -> Result<(String, Usage), AgentError> {
    let subject = findings.iter().map(|f| f.topic.as_str()).collect::<Vec<_>>().join(", ");
    let c = gpt_5_4(sim, Ask { task: "write", subject: &subject, attempt: 0 }).await?;
    let mut usage = Usage::default();
    usage.add(&c);
    Ok((c.text, usage))
}
