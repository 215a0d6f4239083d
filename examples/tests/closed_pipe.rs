//! The example programs end quietly and successfully when their output's reader has closed
//! the pipe (`… | head`), as Unix tools do; seven of them panicked there ("failed printing to
//! stdout: Broken pipe", exit code 101), found by a session's run of every example.
//!
//! The programs are the example binaries `cargo test -p adroit-examples` (or `--workspace`)
//! builds beside this test, in `target/<profile>/examples/`; `--test closed_pipe` alone does
//! not rebuild them and would run whatever binaries an earlier build left there. Each runs with
//! its standard output on a pipe whose reading end is closed before it starts, so its first
//! write fails.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The example binary `name` built with this test.
fn example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p adroit-examples` (which builds the examples), not \
         this test target alone",
        path.display()
    );
    path
}

/// Runs `name` with `args` writing into a closed pipe; its exit status and standard error.
fn run_into_a_closed_pipe(name: &str, args: &[&str]) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = Command::new(example(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the example starts");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_examples_end_quietly_when_their_reader_has_gone() {
    let checkpoints = tempfile::tempdir().unwrap();
    let dir = checkpoints.path().to_str().unwrap();
    let runs: [(&str, &[&str]); 7] = [
        ("quickstart", &[]),
        ("dense_gradient", &[]),
        ("censored_gamma", &[]),
        ("gaussian_process", &[]),
        ("laplace", &[]),
        ("logistic_newton", &[]),
        ("resume", &["--epochs", "2", "--dir", dir]),
    ];
    for (name, args) in runs {
        let (status, stderr) = run_into_a_closed_pipe(name, args);
        assert!(status.success(), "{name}: {status}\n{stderr}");
        assert!(
            stderr.is_empty(),
            "{name} wrote to standard error:\n{stderr}"
        );
    }
    // resume wrote its checkpoint before the report it could not print.
    assert!(checkpoints.path().join("weights-2.safetensors").exists());
}
