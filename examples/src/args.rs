//! Command-line flags, parsed by hand.

/// What `research-agent --help` prints.
pub const USAGE: &str = "\
usage: research-agent [--topics N] [--quick] [--serve]
                      [--prometheus-rules PATH] [--grafana-dashboard PATH]

Runs a simulated multi-agent research job instrumented with obs, then prints
a summary of the metrics it recorded.

  --topics N   topics to research, one researcher each (default 4, max 64)
  --quick      latencies divided by 10 (the run takes well under a second)
  --serve      keep serving the live view (/) and /metrics after the run,
               until Ctrl-C
  --prometheus-rules PATH   write Prometheus alerting and recording rules for
                            this program's agents, models and tools, and exit
  --grafana-dashboard PATH  write a Grafana dashboard (JSON) for them, and exit
  -h, --help   this text

Environment: OBS_PROMETHEUS_ADDR (default 127.0.0.1:9464), OBS_EXPORTERS,
OBS_LOG_FORMAT, RUST_LOG.";

/// The parsed flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    /// `--topics N`.
    pub topics: usize,
    /// `--quick`.
    pub quick: bool,
    /// `--serve`.
    pub serve: bool,
    /// `--prometheus-rules PATH`.
    pub prometheus_rules: Option<String>,
    /// `--grafana-dashboard PATH`.
    pub grafana_dashboard: Option<String>,
}

impl Default for Args {
    fn default() -> Self {
        Args { topics: 4, quick: false, serve: false, prometheus_rules: None, grafana_dashboard: None }
    }
}

/// Why the flags were not parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// `--help` was asked for.
    Help,
    /// A mistake, with what to do instead.
    Invalid(String),
}

fn path(flag: &str, v: Option<String>) -> Result<String, ArgsError> {
    v.filter(|p| !p.is_empty() && !p.starts_with("--"))
        .ok_or_else(|| ArgsError::Invalid(format!("{flag} needs a file path, e.g. `{flag} out/file`")))
}

fn topics(v: Option<&str>) -> Result<usize, ArgsError> {
    let v = v.ok_or_else(|| ArgsError::Invalid("--topics needs a number, e.g. `--topics 4`".into()))?;
    match v.parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(ArgsError::Invalid(format!("--topics takes a number from 1 to 64, not `{v}`"))),
    }
}

impl Args {
    /// Parses the arguments that follow the program name.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Args, ArgsError> {
        let mut out = Args::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "-h" | "--help" => return Err(ArgsError::Help),
                "--quick" => out.quick = true,
                "--serve" => out.serve = true,
                "--topics" => out.topics = topics(it.next().as_deref())?,
                "--prometheus-rules" => out.prometheus_rules = Some(path(&arg, it.next())?),
                "--grafana-dashboard" => out.grafana_dashboard = Some(path(&arg, it.next())?),
                other => match other.strip_prefix("--topics=") {
                    Some(v) => out.topics = topics(Some(v))?,
                    None => return Err(ArgsError::Invalid(format!("unknown argument `{other}`"))),
                },
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(s.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags() {
        assert_eq!(parse(&[]), Ok(Args::default()));
        assert_eq!(
            parse(&["--quick", "--topics", "2", "--serve"]),
            Ok(Args { topics: 2, quick: true, serve: true, ..Args::default() })
        );
        let a = parse(&["--prometheus-rules", "r.yml", "--grafana-dashboard", "d.json"]).unwrap();
        assert_eq!((a.prometheus_rules.as_deref(), a.grafana_dashboard.as_deref()), (Some("r.yml"), Some("d.json")));
        assert_eq!(
            parse(&["--prometheus-rules"]),
            Err(ArgsError::Invalid("--prometheus-rules needs a file path, e.g. `--prometheus-rules out/file`".into()))
        );
        assert_eq!(parse(&["--topics=7"]).map(|a| a.topics), Ok(7));
        assert_eq!(parse(&["--help"]), Err(ArgsError::Help));
        assert!(matches!(parse(&["--topics"]), Err(ArgsError::Invalid(_))));
        assert!(matches!(parse(&["--topics", "0"]), Err(ArgsError::Invalid(_))));
        assert!(matches!(parse(&["--topic", "3"]), Err(ArgsError::Invalid(_))));
    }
}
