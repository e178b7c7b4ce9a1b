//! Simulated tools: `web_search` and `fetch_page`, some calls of which fail.

use crate::rng::SplitMix64;
use crate::Sim;
use obs_runtime::{traced, track_tool};
use std::fmt;

/// A search result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Where it is.
    pub url: String,
    /// How relevant the search engine thinks it is.
    pub score: f64,
}

/// A fetched page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Where it came from.
    pub url: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Why a tool call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolError {
    /// The search API refused the request.
    RateLimited,
    /// The page did not answer in time.
    Timeout(String),
    /// The page refused us (HTTP 403).
    Forbidden(String),
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::RateLimited => write!(f, "web_search: rate limited"),
            ToolError::Timeout(url) => write!(f, "fetch_page {url}: timed out"),
            ToolError::Forbidden(url) => write!(f, "fetch_page {url}: 403 forbidden"),
        }
    }
}

impl std::error::Error for ToolError {}

/// Where every page answers 403.
const PAYWALLED: &str = "https://news.example.net/";

fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// Searches the web (simulated): 3 to 5 hits, or a rate-limit error.
#[track_tool(name = "web_search")]
pub async fn web_search(sim: Sim, query: &str, attempt: u64) -> Result<Vec<Hit>, ToolError> {
    let mut rng = SplitMix64::seeded(&["web_search", query], attempt);
    if rng.chance(0.2) {
        sim.wait(&mut rng, 20, 60).await;
        return Err(ToolError::RateLimited);
    }
    sim.wait(&mut rng, 120, 380).await;
    let sites = ["arxiv.org", "github.com", "blog.example.com", "docs.example.org", "news.example.net"];
    let n = rng.range(3, 5) as usize;
    Ok((0..n)
        .map(|i| Hit {
            url: format!("https://{}/{}/{}", sites[(i + query.len()) % sites.len()], slug(query), i),
            score: rng.range(10, 100) as f64 / 100.0,
        })
        .collect())
}

/// Fetches a page (simulated): pages on the paywalled site are forbidden,
/// and about one in seven of the others times out.
///
/// Takes its arguments by value so that it can run in a spawned task.
#[track_tool(name = "fetch_page")]
pub async fn fetch_page(sim: Sim, url: String) -> Result<Page, ToolError> {
    let mut rng = SplitMix64::seeded(&["fetch_page", &url], 0);
    if url.starts_with(PAYWALLED) {
        sim.wait(&mut rng, 80, 150).await;
        return Err(ToolError::Forbidden(url));
    }
    if rng.chance(0.15) {
        // A timeout takes the whole timeout.
        sim.wait(&mut rng, 800, 800).await;
        return Err(ToolError::Timeout(url));
    }
    sim.wait(&mut rng, 150, 550).await;
    Ok(Page { url, bytes: rng.range(8_000, 120_000) })
}

/// Orders hits by score, best first (a span, no metrics).
#[traced]
pub fn rank(mut hits: Vec<Hit>) -> Vec<Hit> {
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    hits
}
