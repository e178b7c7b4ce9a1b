use obs_runtime::track_tool;

#[derive(Debug)]
pub struct ToolError;

#[track_tool(name = "parse")]
fn parse(s: &str) -> Result<u32, ToolError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

fn main() {}
