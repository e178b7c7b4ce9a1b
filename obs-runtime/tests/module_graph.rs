//! The runtime's modules depend on each other in one direction only.
//!
//! Reads every file under `src/`, maps it to its top-level module (the first
//! path segment: `src/metrics/cells.rs` is `metrics`, `src/lib.rs` is the crate
//! root), and collects the modules it names through `crate::` paths: `use`
//! statements, grouped ones (`use crate::{a, b::c}`) and inline paths
//! (`crate::ledger::record(..)`). A name re-exported at the crate root
//! (`crate::UnboundedLabelValue`) counts as the module it comes from. Comments
//! and string literals are skipped; `#[cfg(test)]` modules count too, since
//! tests should respect the layers as well. The test fails, printing a cycle
//! and where each of its edges is written, if the graph has one.
//!
//! The layering is documented in the crate-level doc of `src/lib.rs`, as one
//! `L<n>  a · b · c` line per layer; a second test reads that table and
//! checks every edge against it (an edge may stay in its layer, or go down),
//! so the documentation cannot drift from the code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// An edge's evidence: `file:line`.
type Edges = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source with comments removed and string and char literals emptied,
/// keeping every newline so line numbers still match.
fn strip(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'/' && next == Some(b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && next == Some(b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == b'\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == b'r' && (next == Some(b'"') || next == Some(b'#')) && !ident_byte(b, i.wrapping_sub(1)) {
            // A raw string: r"..", r#".."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == b'"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&b'#')) {
                    j += 1 + hashes;
                    break;
                }
                if b[j] == b'\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                if b.get(i) == Some(&b'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\'' {
            // A char literal ('a', '\'', '\u{1F600}'), or a lifetime.
            let close = if next == Some(b'\\') {
                b[i + 2..].iter().position(|&x| x == b'\'').map(|p| i + 2 + p)
            } else {
                let ch_len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + ch_len) == Some(&b'\'')).then_some(i + 1 + ch_len)
            };
            match close {
                Some(end) => {
                    out.push_str("' '");
                    i = end + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let ch = src[i..].chars().next().expect("a char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn ident_byte(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// The first identifier of each item of a `{ .. }` use group starting at `open`.
fn group_heads(s: &str, open: usize) -> Vec<String> {
    let b = s.as_bytes();
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_item_start = true;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'{' => {
                depth += 1;
                at_item_start = depth == 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            b',' if depth == 1 => at_item_start = true,
            c if at_item_start && depth == 1 && (c.is_ascii_alphabetic() || c == b'_') => {
                let end = (i..b.len()).find(|&j| !ident_byte(b, j)).unwrap_or(b.len());
                heads.push(s[i..end].to_string());
                at_item_start = false;
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    heads
}

/// Every `crate::X` and `crate::{X, ..}` in `s`, with its line.
fn crate_refs(s: &str) -> Vec<(String, usize)> {
    let b = s.as_bytes();
    let mut refs = Vec::new();
    let mut from = 0;
    while let Some(p) = s[from..].find("crate::") {
        let at = from + p;
        from = at + "crate::".len();
        // `$crate::` and `my_crate::` are other paths.
        if at > 0 && (ident_byte(b, at - 1) || b[at - 1] == b'$') {
            continue;
        }
        let line = s[..at].matches('\n').count() + 1;
        let rest = &s[from..];
        let rest_trim = rest.trim_start();
        let skipped = rest.len() - rest_trim.len();
        if rest_trim.starts_with('{') {
            for h in group_heads(s, from + skipped) {
                refs.push((h, line));
            }
        } else {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            if end > 0 {
                refs.push((rest[..end].to_string(), line));
            }
        }
    }
    refs
}

/// Names the crate root re-exports, mapped to the module they come from
/// (`pub use budget::BudgetExceeded;` maps `BudgetExceeded` to `budget`).
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for stmt in lib.split(';') {
        let t = stmt.trim();
        let Some(path) = t.strip_prefix("pub use ").or_else(|| t.strip_prefix("pub(crate) use ")) else { continue };
        let path = path.trim().trim_start_matches("crate::");
        let Some((module, tail)) = path.split_once("::") else { continue };
        if !modules.contains(module) {
            continue;
        }
        let names: Vec<&str> = match tail.rfind('{') {
            Some(open) => tail[open + 1..].trim_end_matches('}').split(',').collect(),
            None => vec![tail.rsplit("::").next().unwrap_or(tail)],
        };
        for n in names {
            let n = n.trim();
            let n = n.split(" as ").last().unwrap_or(n).trim();
            if !n.is_empty() && n != "self" {
                map.insert(n.to_string(), module.to_string());
            }
        }
    }
    map
}

fn module_graph(src: &Path) -> Edges {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let module_of = |f: &Path| -> String {
        let rel = f.strip_prefix(src).expect("under src");
        let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
        first.trim_end_matches(".rs").to_string()
    };
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).filter(|m| m != "lib").collect();
    let lib = strip(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let reexports = root_reexports(&lib, &modules);

    let mut edges = Edges::new();
    for f in &files {
        let from = module_of(f);
        let text = strip(&std::fs::read_to_string(f).expect("read"));
        let rel = f.strip_prefix(src.parent().expect("crate dir")).expect("in crate").display().to_string();
        let mut add = |to: String, line: usize| {
            if to != from {
                edges.entry(from.clone()).or_default().entry(to).or_default().push(format!("{rel}:{line}"));
            }
        };
        for (name, line) in crate_refs(&text) {
            if modules.contains(&name) {
                add(name, line);
            } else if let Some(m) = reexports.get(&name) {
                add(m.clone(), line);
            } else if name != "self" {
                // Defined in lib.rs itself: the crate root, the top layer.
                add("lib".to_string(), line);
            }
        }
        if from == "lib" {
            // The root's own relative paths: `pub use budget::BudgetExceeded;`.
            for (i, l) in text.lines().enumerate() {
                if let Some(path) = l.trim().strip_prefix("pub use ") {
                    let head = path.split("::").next().unwrap_or("");
                    if modules.contains(head) {
                        add(head.to_string(), i + 1);
                    }
                }
            }
        }
    }
    edges
}

/// A cycle of the graph, as a list of modules whose last points to the first.
fn find_cycle(edges: &Edges) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        n: &str,
        edges: &Edges,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(n.to_string(), Mark::Open);
        stack.push(n.to_string());
        for next in edges.get(n).into_iter().flat_map(|m| m.keys()) {
            match marks.get(next.as_str()) {
                Some(Mark::Open) => {
                    let at = stack.iter().position(|s| s == next).expect("on the stack");
                    return Some(stack[at..].to_vec());
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(c) = visit(next, edges, marks, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(n.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in edges.keys() {
        if !marks.contains_key(n.as_str()) {
            if let Some(c) = visit(n, edges, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn runtime_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = module_graph(&src);
    assert!(edges.len() > 5, "the scan found the modules: {edges:?}");
    if let Some(cycle) = find_cycle(&edges) {
        let mut msg = format!("module cycle: {} -> {}\n", cycle.join(" -> "), cycle[0]);
        for (i, from) in cycle.iter().enumerate() {
            let to = &cycle[(i + 1) % cycle.len()];
            let at = &edges[from][to];
            msg.push_str(&format!("  {from} -> {to}: {}\n", at.join(", ")));
        }
        panic!("{msg}");
    }
}

/// The layer of each module, from the `L<n>  a · b` lines of lib.rs's doc.
fn documented_layers(lib_src: &str) -> BTreeMap<String, u32> {
    let mut layers = BTreeMap::new();
    for line in lib_src.lines() {
        let Some(rest) = line.trim_start().strip_prefix("//! L") else { continue };
        let Some((n, modules)) = rest.split_once(char::is_whitespace) else { continue };
        let Ok(n) = n.parse::<u32>() else { continue };
        for m in modules.split('·') {
            layers.insert(m.trim().to_string(), n);
        }
    }
    layers
}

#[test]
fn every_edge_stays_in_its_documented_layer_or_goes_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = module_graph(&src);
    let layers = documented_layers(&std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
        let m = first.trim_end_matches(".rs");
        if !layers.contains_key(m) {
            problems.push(format!("module `{m}` is missing from the layer table in lib.rs"));
        }
    }
    for (from, tos) in &edges {
        for (to, at) in tos {
            match (layers.get(from), layers.get(to)) {
                (Some(a), Some(b)) if b > a => {
                    problems.push(format!("{from} (L{a}) -> {to} (L{b}) points up: {}", at.join(", ")))
                }
                _ => {}
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "the module graph does not match lib.rs's layers:\n{}", problems.join("\n"));
}

#[test]
fn the_scanner_reads_grouped_inline_and_reexported_paths() {
    let s = strip(
        "use crate::{a, b::{c, d}, e::f as g};\n// crate::commented\nlet x = \"crate::quoted\";\nfn f() { crate::h::i(); $crate::j; my_crate::k; }\n",
    );
    let names: Vec<String> = crate_refs(&s).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a", "b", "e", "h"]);
    assert_eq!(crate_refs(&s)[3].1, 4, "line numbers survive stripping");
    let modules: BTreeSet<String> = ["labels", "record"].map(String::from).into();
    let re = root_reexports(
        "pub use labels::{LabelValue, UnboundedLabelValue};\npub use record::{enabled, Status};",
        &modules,
    );
    assert_eq!(re.get("UnboundedLabelValue").map(String::as_str), Some("labels"));
    assert_eq!(re.get("Status").map(String::as_str), Some("record"));
    let mut cyclic = Edges::new();
    for (a, b) in [("x", "y"), ("y", "z"), ("z", "x"), ("w", "x")] {
        cyclic.entry(a.into()).or_default().insert(b.into(), vec![]);
    }
    assert_eq!(find_cycle(&cyclic).map(|c| c.len()), Some(3));
    cyclic.get_mut("z").expect("z").clear();
    assert_eq!(find_cycle(&cyclic), None);
    let layers = documented_layers("//! text\n//! L1  metrics · context\n//!     not a layer\n//! L0  time\n");
    assert_eq!(layers.get("context"), Some(&1));
    assert_eq!(layers.get("time"), Some(&0));
    assert_eq!(layers.len(), 3);
}
