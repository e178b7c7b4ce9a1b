//! `#[track_tool]` options together, with warnings denied.
#![deny(warnings)]

use obs_runtime::track_tool;

#[track_tool]
pub fn name_from_function() {}

#[track_tool(name = "web_search", capture_content, labels(engine = "bing"), fields(q = q), level = "trace", slow = "1.5s")]
pub async fn all_options(q: &str) -> Result<usize, std::io::Error> {
    Ok(q.len())
}

#[track_tool(capture_content = false, slow = "100us", crate = ::obs_runtime)]
pub fn no_capture_absolute_crate() -> u8 {
    0
}

#[track_tool(name = unbounded(name), labels(flag = on))]
pub fn dynamic_name_and_label(name: String, on: bool) -> usize {
    name.len() + usize::from(on)
}

fn main() {}
