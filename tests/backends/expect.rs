//! What `otlp-agents run` must produce, whatever the backend: the span tree,
//! and helpers to compare a backend's spans with it.

use std::collections::HashMap;

/// Every span of one `otlp-agents run`, as its path from the root (span
/// names joined by ` > `), sorted.
pub const RUN_TREE: [&str; 14] = [
    "invoke_agent planner",
    "invoke_agent planner > chat gpt-4o",
    "invoke_agent planner > execute_tool ask_expert",
    "invoke_agent planner > execute_tool ask_expert > invoke_agent fact_checker",
    "invoke_agent planner > execute_tool ask_expert > invoke_agent fact_checker > chat gpt-4o-mini",
    "invoke_agent planner > invoke_agent researcher",
    "invoke_agent planner > invoke_agent researcher",
    "invoke_agent planner > invoke_agent researcher",
    "invoke_agent planner > invoke_agent researcher > chat claude-sonnet-4-5",
    "invoke_agent planner > invoke_agent researcher > chat gpt-4o",
    "invoke_agent planner > invoke_agent researcher > chat gpt-4o-mini",
    "invoke_agent planner > invoke_agent researcher > execute_tool web_search",
    "invoke_agent planner > invoke_agent researcher > execute_tool web_search",
    "invoke_agent planner > invoke_agent researcher > execute_tool web_search",
];

/// A span reduced to what the tree needs: (span id, parent id, name).
pub type Node<'a> = (&'a str, Option<&'a str>, &'a str);

/// The sorted root-to-span name paths of `spans`. A parent id that is not
/// among the spans shows as `?{id}` at the start of the path.
pub fn tree_paths(spans: &[Node<'_>]) -> Vec<String> {
    let by_id: HashMap<&str, (Option<&str>, &str)> = spans.iter().map(|(id, p, n)| (*id, (*p, *n))).collect();
    let mut out: Vec<String> = spans
        .iter()
        .map(|(_, parent, name)| {
            let mut parts = vec![name.to_string()];
            let mut cur = *parent;
            let mut hops = 0;
            while let Some(p) = cur {
                match by_id.get(p) {
                    Some((pp, pn)) => {
                        parts.push(pn.to_string());
                        cur = *pp;
                    }
                    None => {
                        parts.push(format!("?{p}"));
                        break;
                    }
                }
                hops += 1;
                assert!(hops < 64, "parent cycle among spans: {spans:?}");
            }
            parts.reverse();
            parts.join(" > ")
        })
        .collect();
    out.sort();
    out
}

/// Whether `a` and `b` are the same cost: backends compute in binary
/// floating point (0.0027749999999999997 for 0.002775), obs in exact
/// picodollars, so equal means within a relative 1e-9.
pub fn same_cost(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-15
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_parents_and_flag_unknown_ones() {
        let spans =
            [("a", None, "root"), ("b", Some("a"), "child"), ("c", Some("b"), "leaf"), ("d", Some("zz"), "orphan")];
        assert_eq!(tree_paths(&spans), ["?zz > orphan", "root", "root > child", "root > child > leaf"]);
        assert!(same_cost(0.0027749999999999997, 0.002775));
        assert!(!same_cost(0.002775, 0.002776));
    }
}
