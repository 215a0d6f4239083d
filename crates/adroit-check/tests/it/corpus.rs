//! Replays the committed fuzzing seeds (`fuzz/seeds/`), so the fuzz targets' checks run in
//! every `cargo test`, without a nightly toolchain.

use adroit_check::program::Program;
use std::path::PathBuf;

/// The committed seeds of `target` (file name and bytes), at least `at_least` of them.
fn seeds(target: &str, at_least: usize) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= at_least,
        "the {target} corpus has {} seeds",
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(&p).expect("seed file"),
            )
        })
        .collect()
}

#[test]
fn program_seeds_forward_equals_reverse() {
    for (name, bytes) in seeds("program", 8) {
        if let Err(e) = adroit_check::scenario::check_program_bytes(&bytes) {
            panic!("{name}: {e}");
        }
        let (p, x) = Program::decode(&bytes);
        assert_eq!(x.len(), p.n_inputs, "{name}");
    }
}

#[test]
fn tape_misuse_seeds_hold() {
    for (name, bytes) in seeds("tape_misuse", 4) {
        if let Err(e) = adroit_check::scenario::run_tape_scenario(&bytes) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn matrix_program_seeds_hold() {
    for (name, bytes) in seeds("matrix_program", 8) {
        if let Err(e) = adroit_check::matrix_program::check_bytes(&bytes) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn matrix_program_hvp_seeds_hold_and_are_checked() {
    for (name, bytes) in seeds("matrix_program_hvp", 8) {
        match adroit_check::matrix_program::check_hvp_bytes(&bytes) {
            Ok(checked) => assert!(
                checked,
                "{name}: a seed of the hvp target is a smooth program"
            ),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

/// The seeds that reach the special functions keep decoding to them (a change of the decoder's
/// tags would otherwise leave the fuzzer without them, silently).
#[test]
fn special_function_seeds_decode_to_their_functions() {
    let named = [
        ("seed-12-erf-erfc", "(erf(x0) * erfc(x1))"),
        ("seed-13-ln-gamma-digamma", "(ln_gamma(x0) * digamma(x1))"),
    ];
    let all = seeds("program", 8);
    for (file, program) in named {
        let (_, bytes) = all
            .iter()
            .find(|(name, _)| name.ends_with(file))
            .unwrap_or_else(|| panic!("no seed {file}"));
        assert_eq!(Program::decode(bytes).0.to_string(), program, "{file}");
    }
}
