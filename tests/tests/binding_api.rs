//! One client API in every binding: the operations of the core's `Client` (Rust), of
//! `imds_client_*` in `include/imds.h` (C), of `imds._imds.Client` in its stub (Python; stubtest
//! checks the stub against the module) and of `Client` in `index.d.ts` (Node; the build checks it
//! is current) are read from those files and compared with one table. A binding that gains an
//! operation the others lack, or loses one, fails here until the table says why. Every operation
//! that takes the time takes it first (after the object), as quinn-proto does.
//!
//! The C++ wrapper's `imds::Client` (`include/imds.hpp`) is not a binding of its own but C with
//! ownership and types: it must have a method for every C operation, named as in C unless
//! [`CXX_RENAMED`] says otherwise, and nothing more than [`CXX_ONLY`] lists.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// One client operation: its name in Rust, C (`imds_client_` + name), Python and Node, `-` where
/// a binding does not have it, and why not.
struct Operation {
    rust: &'static str,
    c: &'static str,
    python: &'static str,
    node: &'static str,
    why_not_everywhere: &'static str,
}

const fn everywhere(
    rust: &'static str,
    c: &'static str,
    python: &'static str,
    node: &'static str,
) -> Operation {
    Operation {
        rust,
        c,
        python,
        node,
        why_not_everywhere: "",
    }
}

/// An operation only C has, and why.
const fn c_only(c: &'static str, why_not_everywhere: &'static str) -> Operation {
    Operation {
        rust: "-",
        c,
        python: "-",
        node: "-",
        why_not_everywhere,
    }
}

const C_MEMORY: &str = "C places and frees clients itself (heap or caller storage); the other \
                        languages' clients are values their runtime frees";
const C_ERRORS: &str = "C functions return a result code, and the message is fetched after; the \
                        other bindings return or raise an error that carries it";

const OPERATIONS: &[Operation] = &[
    everywhere("new", "new", "__new__", "constructor"),
    everywhere("settings", "settings", "settings", "settings"),
    everywhere("set_binding", "set_binding", "set_binding", "setBinding"),
    everywhere(
        "start_credentials",
        "start_credentials",
        "start_credentials",
        "startCredentials",
    ),
    everywhere("start_get", "start_get", "start_get", "startGet"),
    everywhere("poll", "poll", "poll", "poll"),
    everywhere(
        "handle_connected",
        "handle_connected",
        "handle_connected",
        "handleConnected",
    ),
    everywhere(
        "handle_connected_reused",
        "handle_connected_reused",
        "handle_connected_reused",
        "handleConnectedReused",
    ),
    everywhere("handle_data", "handle_data", "handle_data", "handleData"),
    everywhere("handle_eof", "handle_eof", "handle_eof", "handleEof"),
    everywhere(
        "handle_io_error",
        "handle_io_error",
        "handle_io_error",
        "handleIoError",
    ),
    everywhere(
        "handle_timeout",
        "handle_timeout",
        "handle_timeout",
        "handleTimeout",
    ),
    everywhere(
        "handle_closed",
        "handle_closed",
        "handle_closed",
        "handleClosed",
    ),
    everywhere("credentials", "credentials", "credentials", "credentials"),
    everywhere("body", "body", "body", "body"),
    everywhere(
        "poll_diagnostic",
        "next_diagnostic",
        "poll_diagnostic",
        "pollDiagnostic",
    ),
    everywhere("reset", "reset", "reset", "reset"),
    everywhere("cancel", "cancel", "cancel", "cancel"),
    Operation {
        rust: "-",
        c: "-",
        python: "drain_diagnostics",
        node: "diagnostics",
        why_not_everywhere: "every queued diagnostic as a list, where lists are cheap; Rust and C \
                             loop on poll_diagnostic / imds_client_next_diagnostic",
    },
    Operation {
        rust: "-",
        c: "credentials_json",
        python: "-",
        node: "processJson",
        why_not_everywhere: "the credential_process JSON; Rust writes it with \
                             Credentials::write_process_json, Python with \
                             Credentials.to_process_json()",
    },
    c_only(
        "next_trace_line",
        "C takes a diagnostic as text; the others hold a Diagnostic and format its `imds \
         --trace` line (cli::write_diagnostic_line, Diagnostic.line(), diagnostic.line)",
    ),
    c_only("last_error", C_ERRORS),
    c_only("last_error_line", C_ERRORS),
    c_only(
        "handle_unsupported",
        "a C driver without TLS ends the operation with the core's message for https; the \
         Rust blocking driver returns that error itself, and the Python and Node drivers speak \
         TLS",
    ),
    c_only("init", C_MEMORY),
    c_only("deinit", C_MEMORY),
    c_only("free", C_MEMORY),
    c_only("size", C_MEMORY),
    c_only("align", C_MEMORY),
];

/// C operations that `imds::Client` names otherwise: (C, C++).
const CXX_RENAMED: &[(&str, &str)] = &[
    ("new", "create"),
    ("init", "create_in"),
    ("size", "storage_size"),
    ("align", "storage_align"),
    ("free", "~Client"),
    ("deinit", "~Client"),
];

/// Methods of `imds::Client` that are not a C client operation, and why.
const CXX_ONLY: &[(&str, &str)] = &[
    (
        "Client",
        "constructors: empty, taking over a C client, moving",
    ),
    ("get", "the C client, to call imds.h directly"),
    ("release", "gives up ownership of the C client"),
    (
        "fetch_credentials",
        "imds_fetch_credentials(), the blocking call, which C names apart from the sans-IO \
         imds_client_* operations",
    ),
    ("fetch_metadata", "imds_fetch_metadata(), likewise"),
];

/// Parameter names of each operation, by name (the object itself left out).
type Surface = BTreeMap<String, Vec<String>>;

fn repo_file(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text from `start` to the line that closes it (the first line after it starting with
/// `end`).
fn block<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not found"));
    let rest = &text[from + start.len()..];
    let to = rest
        .find(&format!("\n{end}"))
        .unwrap_or_else(|| panic!("the block `{start}` does not end"));
    &rest[..to]
}

/// `name(params)` occurrences after each `marker` in `text`: the name and the parameter names
/// (each parameter's name is its last identifier before `:`, or the last word for C).
fn signatures(text: &str, marker: &str, c_style: bool) -> Surface {
    let mut surface = Surface::new();
    for (at, _) in text.match_indices(marker) {
        let after = &text[at + marker.len()..];
        let Some(open) = after.find('(') else {
            continue;
        };
        let name = after[..open].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(params) = parameters(&after[open..], c_style) {
            surface.insert(name.to_owned(), params);
        }
    }
    surface
}

/// The parameter names in `list`, which starts at the opening parenthesis (each parameter's name
/// is its last identifier before `:`, or the last word for C and C++); `None` when it does not
/// close.
fn parameters(list: &str, c_style: bool) -> Option<Vec<String>> {
    let close = list.find(')')?;
    let params = list[1..close]
        .split(',')
        .filter_map(|param| {
            let param = param.trim();
            let name = if c_style {
                param.rsplit([' ', '*']).next()
            } else {
                param.split(':').next()
            };
            let name = name?.trim().trim_start_matches("mut ").trim_matches('&');
            (!name.is_empty()).then(|| name.to_owned())
        })
        .filter(|name| !matches!(name.as_str(), "self" | "mut self" | "client" | "cls"))
        .collect();
    Some(params)
}

fn rust_surface() -> Surface {
    let source = repo_file("core/src/client.rs");
    signatures(block(&source, "impl Client {", "}"), "    pub fn ", false)
}

fn c_surface() -> Surface {
    let header = repo_file("include/imds.h");
    signatures(&header, " imds_client_", true)
}

fn python_surface() -> Surface {
    let stub = repo_file("bindings-python/python/imds/_imds.pyi");
    signatures(block(&stub, "\nclass Client:", "class "), "    def ", false)
}

fn node_surface() -> Surface {
    let typings = repo_file("bindings-node/index.d.ts");
    let class = block(&typings, "export declare class Client {", "}");
    let mut surface = signatures(class, "\n  ", false);
    surface.extend(signatures(class, "\n  get ", false));
    surface.remove("get");
    surface
}

/// The public methods of `imds::Client` in `include/imds.hpp`: each declaration at the class's
/// indentation, named by the word before its `(` (an overload's parameters replace the
/// previous one's).
fn cxx_surface() -> Surface {
    let header = repo_file("include/imds.hpp");
    let public = block(&header, "\nclass Client {", "private:");
    let mut surface = Surface::new();
    for (at, _) in public.match_indices("\n    ") {
        let after = &public[at + 5..];
        let line = after.lines().next().unwrap_or_default();
        if line.starts_with([' ', '/', '*']) {
            continue;
        }
        let Some(open) = line.find('(') else {
            continue;
        };
        let name = line[..open].rsplit(' ').next().unwrap_or_default();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || "_~".contains(c))
        {
            continue;
        }
        if let Some(params) = parameters(&after[open..], true) {
            surface.insert(name.to_owned(), params);
        }
    }
    surface
}

/// The name `imds::Client` gives the C operation `c`.
fn cxx_name(c: &'static str) -> &'static str {
    CXX_RENAMED
        .iter()
        .find(|(from, _)| *from == c)
        .map_or(c, |(_, to)| to)
}

fn column(binding: &str) -> impl Fn(&Operation) -> &'static str + '_ {
    move |operation| match binding {
        "rust" => operation.rust,
        "c" => operation.c,
        "python" => operation.python,
        _ => operation.node,
    }
}

fn surfaces() -> [(&'static str, Surface); 4] {
    [
        ("rust", rust_surface()),
        ("c", c_surface()),
        ("python", python_surface()),
        ("node", node_surface()),
    ]
}

#[test]
fn every_binding_has_exactly_the_operations_of_the_table() {
    let mut problems = Vec::new();
    for (binding, surface) in surfaces() {
        assert!(surface.len() > 10, "{binding}: only {surface:?} found");
        let expected: Vec<&str> = OPERATIONS
            .iter()
            .map(column(binding))
            .filter(|name| *name != "-")
            .collect();
        for name in &expected {
            if !surface.contains_key(*name) {
                problems.push(format!("{binding} lacks `{name}`"));
            }
        }
        for name in surface.keys() {
            if !expected.contains(&name.as_str()) {
                problems.push(format!(
                    "{binding} has `{name}`, which the table does not list: add it to every \
                     binding, or list it with the reason the others lack it"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_operation_missing_somewhere_says_why_and_core_operations_are_everywhere() {
    for operation in OPERATIONS {
        let names = [
            operation.rust,
            operation.c,
            operation.python,
            operation.node,
        ];
        let missing = names.contains(&"-");
        assert_eq!(
            missing,
            !operation.why_not_everywhere.is_empty(),
            "{names:?}: a reason exactly when a binding lacks it"
        );
        assert!(
            operation.rust == "-" || !missing,
            "{names:?}: every operation of the core's Client is in every binding"
        );
    }
}

#[test]
fn the_cxx_wrapper_has_every_c_operation() {
    let surface = cxx_surface();
    let expected: Vec<&str> = OPERATIONS
        .iter()
        .filter(|operation| operation.c != "-")
        .map(|operation| cxx_name(operation.c))
        .collect();
    let mut problems = Vec::new();
    for name in &expected {
        if !surface.contains_key(*name) {
            problems.push(format!("imds::Client lacks `{name}`"));
        }
    }
    for name in surface.keys() {
        let listed = CXX_ONLY.iter().any(|(only, _)| only == name);
        if !expected.contains(&name.as_str()) && !listed {
            problems.push(format!(
                "imds::Client has `{name}`, which is no C operation: wrap C as it is, or list \
                 it in CXX_ONLY with the reason"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_time_comes_first() {
    let mut problems = Vec::new();
    for (binding, surface) in surfaces().into_iter().chain([("c++", cxx_surface())]) {
        for (name, params) in &surface {
            let at = params
                .iter()
                .position(|p| matches!(p.as_str(), "now" | "now_ms"));
            if at.is_some_and(|at| at != 0) {
                problems.push(format!("{binding} `{name}({})`", params.join(", ")));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "`now` is not the first argument of: {}",
        problems.join("; ")
    );
}

#[test]
fn the_surfaces_are_read_with_their_parameters() {
    let [(_, rust), (_, c), (_, python), (_, node)] = surfaces();
    assert_eq!(rust["start_get"], ["now", "path"]);
    assert_eq!(c["start_get"], ["now_ms", "path", "path_len"]);
    assert_eq!(python["start_get"], ["now", "path"]);
    assert_eq!(node["startGet"], ["now", "path"]);
    let cxx = cxx_surface();
    assert_eq!(cxx["start_get"], ["now_ms", "path"]);
    assert_eq!(cxx["set_binding"], ["name"]);
    assert_eq!(cxx["~Client"], Vec::<String>::new());
    assert_eq!(rust["handle_closed"], Vec::<String>::new());
    assert!(node.contains_key("settings") && python.contains_key("settings"));
}

/// Lower-case words of a name in any binding's style: `ConnectionRefused`,
/// `IMDS_IO_ERROR_CONNECTION_REFUSED` (prefix removed) and `connectionRefused` all give
/// `connection refused`.
fn words(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c == '_' {
            out.push(' ');
        } else if c.is_ascii_uppercase() && i > 0 && !name.contains('_') {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The identifiers before `suffix` on the lines of `text` that hold it.
fn names_before(text: &str, suffix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.split_once(suffix).map(|(name, _)| name.trim()))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .map(words)
        .collect()
}

/// How a driver reports a transport failure: the same classes, in the same order, in every
/// binding (the class decides whether the core retries it).
#[test]
fn every_binding_reports_the_same_io_error_classes() {
    let core = repo_file("core/src/client/transport.rs");
    let rust = names_before(block(&core, "pub enum IoError {", "}"), ",");
    let header = repo_file("include/imds.h");
    let c: Vec<String> = names_before(block(&header, "enum imds_io_error", "}"), " = ")
        .into_iter()
        .map(|name| name.trim_start_matches("imds io error ").to_owned())
        .collect();
    let stub = repo_file("bindings-python/python/imds/_imds.pyi");
    let python = names_before(
        block(&stub, "\nclass IoError:", "    def "),
        ": Final[IoError]",
    );
    let typings = repo_file("bindings-node/index.d.ts");
    let signature = typings
        .lines()
        .find(|line| line.contains("handleIoError(now: number, kind: "))
        .expect("handleIoError in index.d.ts");
    let node: Vec<String> = signature
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(words)
        .collect();
    assert_eq!(
        rust,
        [
            "connection refused",
            "connect failed",
            "connection reset",
            "other"
        ]
    );
    assert_eq!(c, rust, "C");
    assert_eq!(python, rust, "Python");
    assert_eq!(node, rust, "Node");
}
