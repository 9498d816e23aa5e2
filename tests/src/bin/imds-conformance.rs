//! `imds-conformance`: runs the conformance scenarios against `imds` command lines.
//!
//! ```text
//! imds-conformance --impl rust=target/debug/imds [--impl c=build/c/imds ...]
//!                  [--impl-list "rust=target/debug/imds python=.venv/bin/python -m imds"]
//!                  [--scenarios DIR] [--only TEXT] [--scenario NAME] [--jobs N] [--verbose]
//! ```
//!
//! `--impl-list` takes a Make-style list (`CONFORMANCE_IMPLS`): a word `NAME=...` starts an
//! implementation, the words after it are its arguments. `--only TEXT` keeps the scenarios whose
//! name contains TEXT; `--scenario NAME` keeps the one named NAME (an unknown name is an error).
//! Both may be repeated; a scenario is kept when any of them selects it.
//!
//! Each scenario runs against each implementation with its own mock and a fresh `HOME`. Prints
//! one line per run, the differences of each failure, and closes with `N passed, N failed`; exits
//! 1 when anything failed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use imds_testkit::conformance::{self, Implementation, Scenario};

const USAGE: &str = "usage: imds-conformance --impl NAME=COMMAND [--impl ...] [--impl-list LIST] [--scenarios DIR] [--only TEXT] [--scenario NAME] [--jobs N] [--verbose]";

struct Options {
    implementations: Vec<Implementation>,
    scenarios: PathBuf,
    only: Vec<String>,
    named: Vec<String>,
    jobs: usize,
    verbose: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        implementations: Vec::new(),
        scenarios: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance"),
        only: Vec::new(),
        named: Vec::new(),
        jobs: 4,
        verbose: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--impl" => options
                .implementations
                .push(Implementation::parse(&value("--impl")?)?),
            "--impl-list" => {
                for spec in conformance::split_impl_list(&value("--impl-list")?) {
                    options.implementations.push(Implementation::parse(&spec)?);
                }
            }
            "--scenarios" => options.scenarios = PathBuf::from(value("--scenarios")?),
            "--only" => options.only.push(value("--only")?),
            "--scenario" => options.named.push(value("--scenario")?),
            "--jobs" => {
                options.jobs = value("--jobs")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--jobs needs a number from 1 up")?;
            }
            "--verbose" | "-v" => options.verbose = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if options.implementations.is_empty() {
        return Err("give at least one --impl NAME=COMMAND".into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("imds-conformance: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let scenarios = match Scenario::load_dir(&options.scenarios) {
        Ok(scenarios) => scenarios,
        Err(problem) => {
            eprintln!("imds-conformance: {problem}");
            return ExitCode::from(2);
        }
    };
    if let Some(unknown) = options
        .named
        .iter()
        .find(|name| !scenarios.iter().any(|s| &s.name == *name))
    {
        eprintln!(
            "imds-conformance: no scenario named `{unknown}` in {}",
            options.scenarios.display()
        );
        return ExitCode::from(2);
    }
    let select_all = options.only.is_empty() && options.named.is_empty();
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .filter(|s| {
            select_all
                || options.only.iter().any(|o| s.name.contains(o))
                || options.named.contains(&s.name)
        })
        .collect();
    println!(
        "conformance: {} scenarios x {} implementations ({})",
        scenarios.len(),
        options.implementations.len(),
        options
            .implementations
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let runs: Vec<(usize, usize)> = (0..options.implementations.len())
        .flat_map(|i| (0..scenarios.len()).map(move |s| (i, s)))
        .collect();
    let next = AtomicUsize::new(0);
    let passed = AtomicUsize::new(0);
    let failed = Arc::new(Mutex::new(Vec::<String>::new()));
    let print = Mutex::new(());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.min(runs.len()).max(1) {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(i, s)) = runs.get(n) else { return };
                    let implementation = &options.implementations[i];
                    let scenario = &scenarios[s];
                    let outcome = conformance::run(scenario, implementation);
                    let _guard = print.lock().unwrap_or_else(|e| e.into_inner());
                    let label = format!("{} {}", implementation.name, scenario.name);
                    if outcome.passed() {
                        passed.fetch_add(1, Ordering::SeqCst);
                        if options.verbose {
                            println!("ok   {label} ({} ms)", outcome.elapsed.as_millis());
                        }
                    } else {
                        println!("FAIL {label}: {}", scenario.description);
                        for failure in &outcome.failures {
                            println!("    {failure}");
                        }
                        failed.lock().unwrap_or_else(|e| e.into_inner()).push(label);
                    }
                }
            });
        }
    });
    let failed = failed.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let passed = passed.load(Ordering::SeqCst);
    for implementation in &options.implementations {
        let prefix = format!("{} ", implementation.name);
        let bad = failed.iter().filter(|f| f.starts_with(&prefix)).count();
        println!(
            "  {}: {} of {} scenarios pass",
            implementation.name,
            scenarios.len() - bad,
            scenarios.len()
        );
    }
    println!("{passed} passed, {} failed", failed.len());
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
