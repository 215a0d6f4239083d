//! Weight files: round trips, a file written by the reference implementation, and every kind
//! of bad file gives a typed error naming the problem, leaving the model untouched.

use adroit_nn::io::{
    LoadReport, load_safetensors, load_safetensors_bytes, load_safetensors_partial,
    save_safetensors,
};
use adroit_nn::{Activation, Chain, Dense, NnError};
use nalgebra::dmatrix;
use rand::SeedableRng;
use std::path::PathBuf;

/// A fresh directory per test, removed when the guard drops (also when the test fails).
fn dir(test: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("adroit-nn-weights-{test}-"))
        .tempdir()
        .unwrap()
}

fn model(seed: u64) -> Chain<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Chain::new()
        .push(Dense::new(3, 4, Activation::Relu, &mut rng))
        .push(Dense::new(4, 2, Activation::Identity, &mut rng))
}

fn params(m: &Chain<f64>) -> Vec<f64> {
    let mut v = Vec::new();
    adroit_nn::Layer::visit(m, "", &mut |_, p| v.extend(p.iter().copied()));
    v
}

/// A safetensors file of the JSON `header` and `data`: 8 bytes of the header's length
/// (little-endian), the header, the data.
fn safetensors_file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn round_trip_and_atomic_write() {
    let tmp = dir("round_trip");
    let path = tmp.path().join("chain.safetensors");
    let original = model(1);
    save_safetensors(&original, &path).unwrap();
    let mut loaded = model(2);
    assert_ne!(params(&loaded), params(&original));
    load_safetensors(&mut loaded, &path).unwrap();
    assert_eq!(params(&loaded), params(&original));
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.ends_with(".tmp").then_some(name)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn reads_a_file_written_by_the_reference_implementation() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dense_f32.safetensors");
    let mut layer = Dense::<f32>::new(
        3,
        2,
        Activation::Identity,
        &mut rand::rngs::StdRng::seed_from_u64(0),
    );
    load_safetensors(&mut layer, &path).unwrap();
    assert_eq!(layer.weight, dmatrix![0.0, 0.1, 0.2; 1.0, 1.1, 1.2]);
    assert_eq!(layer.bias, Some(dmatrix![0.5; -0.5]));
}

#[test]
fn bad_files_give_typed_errors_and_leave_the_model_untouched() {
    let tmp = dir("bad_files");
    let d = tmp.path();
    let good = d.join("good.safetensors");
    save_safetensors(&model(1), &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let mut m = model(3);
    let before = params(&m);

    // Each corruption is named in words (the parser's errors print only variant names).
    let truncated = d.join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    let err = load_safetensors(&mut m, &truncated).unwrap_err();
    assert!(
        matches!(&err, NnError::InvalidFile { reason, .. }
            if reason.starts_with("its tensors' offsets do not cover the data exactly: the file \
                                   is truncated")),
        "{err}"
    );
    let stub = d.join("stub.safetensors");
    std::fs::write(&stub, &bytes[..5]).unwrap();
    let err = load_safetensors(&mut m, &stub).unwrap_err();
    assert!(err.to_string().contains("too short"), "{err}");

    let corrupted = d.join("corrupted.safetensors");
    let mut bad = bytes.clone();
    bad[8] = b'#'; // the header's opening brace: no longer JSON
    std::fs::write(&corrupted, &bad).unwrap();
    let err = load_safetensors(&mut m, &corrupted).unwrap_err();
    assert!(
        matches!(&err, NnError::InvalidFile { reason, .. } if reason.contains("not valid safetensors JSON")),
        "{err}"
    );

    // A device or a directory is not read (/dev/zero would never end).
    #[cfg(unix)]
    for special in ["/dev/zero", "/tmp"] {
        let err = load_safetensors(&mut m, special).unwrap_err();
        assert!(
            matches!(&err, NnError::Io { message, .. } if message.starts_with("not a regular file")),
            "{err}"
        );
    }

    // A NaN or infinite stored value is refused as a value beyond f32's range is. Saving
    // refuses such a model (nothing written), so the file is made by patching the bytes of a
    // finite one where a marker value sits.
    for (k, stored) in [(0, f64::NAN), (5, f64::INFINITY)] {
        let mark = |value: f64| {
            let mut marked = model(1);
            adroit_nn::Layer::visit_mut(&mut marked, &mut |p| {
                if p.len() == 12 {
                    p[k] = value;
                }
            });
            marked
        };
        let file = d.join(format!("poisoned-{k}.safetensors"));
        let refused = save_safetensors(&mark(stored), &file).unwrap_err();
        let entry = if k == 0 { "(0, 0)" } else { "(1, 1)" };
        assert_eq!(
            refused.to_string(),
            format!(
                "invalid data: parameter layers.0.weight, entry {entry}, is {stored}: only \
                 finite parameters are saved (the loaders refuse others; was the model diverged \
                 or edited by hand?)"
            )
        );
        assert!(!file.exists());
        let marker = 12345.678_f64;
        let mut bytes = adroit_nn::io::to_safetensors_bytes(&mark(marker)).unwrap();
        let at = bytes
            .windows(8)
            .position(|w| w == marker.to_le_bytes())
            .expect("the marker's bytes");
        bytes[at..at + 8].copy_from_slice(&stored.to_le_bytes());
        std::fs::write(&file, &bytes).unwrap();
        let err = load_safetensors(&mut m, &file).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid data: tensor layers.0.weight, entry {entry}, is {stored}: parameters \
                 must be finite (was the file saved from a diverged model?)"
            )
        );
        let mut narrow = Chain::<f32>::new()
            .push(Dense::new(
                3,
                4,
                Activation::Relu,
                &mut rand::rngs::StdRng::seed_from_u64(0),
            ))
            .push(Dense::new(
                4,
                2,
                Activation::Identity,
                &mut rand::rngs::StdRng::seed_from_u64(0),
            ));
        assert!(matches!(
            load_safetensors(&mut narrow, &file),
            Err(NnError::InvalidData { .. })
        ));
    }

    let f32_file = d.join("f32.safetensors");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let f32_model = Chain::<f32>::new()
        .push(Dense::new(3, 4, Activation::Relu, &mut rng))
        .push(Dense::new(4, 2, Activation::Identity, &mut rng));
    save_safetensors(&f32_model, &f32_file).unwrap();
    // An f32 file loads into the f64 model, widened exactly (PyTorch's load_state_dict casts
    // likewise); a non-float tensor is refused (`partial_loading_...` below).
    let mut widened = m.clone();
    load_safetensors(&mut widened, &f32_file).unwrap();
    let mut expected = Vec::new();
    adroit_nn::Layer::visit(&f32_model, "", &mut |_, p| {
        expected.extend(p.iter().map(|&v| f64::from(v)))
    });
    assert_eq!(params(&widened), expected);

    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let other = Chain::<f64>::new().push(Dense::new(3, 5, Activation::Relu, &mut rng));
    let shape_file = d.join("shape.safetensors");
    save_safetensors(&other, &shape_file).unwrap();
    let kept = params(&m);
    let err = load_safetensors(&mut m, &shape_file).unwrap_err();
    // Every problem at once (it named only the first shape mismatch): both tensors of the
    // first layer, and the second layer the file lacks.
    assert_eq!(
        err.to_string(),
        format!(
            "{} is of another architecture than the model: tensor layers.0.weight has shape \
             [5, 3], the model needs [4, 3]; tensor layers.0.bias has shape [5, 1], the model \
             needs [4, 1]; it has no tensor layers.1.weight, layers.1.bias",
            shape_file.display()
        )
    );
    assert!(
        matches!(&err, NnError::ArchitectureMismatch { shapes, missing, unexpected, .. }
        if shapes.len() == 2 && missing.len() == 2 && unexpected.is_empty())
    );
    assert_eq!(params(&m), kept);
    // One shape mismatch alone is a TensorShapeMismatch.
    let mut one = Chain::<f64>::new().push(Dense::new(3, 5, Activation::Relu, &mut rng));
    one.layer_mut::<Dense<f64>>(0).unwrap().bias = None;
    let no_bias = d.join("no_bias.safetensors");
    let mut saved = Chain::<f64>::new().push(Dense::new(3, 4, Activation::Relu, &mut rng));
    saved.layer_mut::<Dense<f64>>(0).unwrap().bias = None;
    save_safetensors(&saved, &no_bias).unwrap();
    let err = load_safetensors(&mut one, &no_bias).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor layers.0.weight has shape [4, 3], the model needs [5, 3]"
    );

    let mut bigger = model(4).push(Dense::new(2, 2, Activation::Identity, &mut rng));
    let err = load_safetensors(&mut bigger, &good).unwrap_err();
    assert!(
        matches!(&err, NnError::MissingTensor { names, unexpected, .. }
            if names == &["layers.2.weight", "layers.2.bias"] && unexpected.is_empty()),
        "{err}"
    );
    // A file of another architecture: every missing parameter and every unexpected tensor is
    // named at once (as PyTorch's load_state_dict error), and the model is untouched.
    let single = d.join("single.safetensors");
    save_safetensors(
        &Dense::<f64>::new(3, 4, Activation::Relu, &mut rng),
        &single,
    )
    .unwrap();
    let untouched = params(&m);
    let err = load_safetensors(&mut m, &single).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} has no tensor layers.0.weight, layers.0.bias, layers.1.weight, layers.1.bias; \
             it has tensors the model has no parameter for: bias, weight",
            single.display()
        )
    );
    assert_eq!(params(&m), untouched);

    let missing = d.join("does-not-exist.safetensors");
    assert!(matches!(
        load_safetensors(&mut m, &missing),
        Err(NnError::Io { .. })
    ));
    assert_eq!(params(&m), before, "nothing was loaded");
}

#[test]
fn a_file_with_more_tensors_than_the_model_is_refused() {
    // It used to load the tensors the model names and ignore the rest: a one-layer model
    // silently took the first layer of a two-layer file.
    let tmp = dir("unexpected");
    let path = tmp.path().join("two_layers.safetensors");
    save_safetensors(&model(1), &path).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut smaller = Chain::<f64>::new().push(Dense::new(3, 4, Activation::Relu, &mut rng));
    let before = params(&smaller);
    let err = load_safetensors(&mut smaller, &path).unwrap_err();
    let names = vec!["layers.1.bias".to_string(), "layers.1.weight".to_string()];
    assert!(
        matches!(&err, NnError::UnexpectedTensors { names: n, .. } if *n == names),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("layers.1.bias, layers.1.weight"),
        "{err}"
    );
    assert_eq!(params(&smaller), before, "nothing was loaded");
}

#[test]
fn saves_to_a_long_file_name() {
    // The temporary `.{name}.{pid}.{n}.tmp` exceeded the 255-byte name limit for a valid
    // 252-byte name ("File name too long").
    let name = format!("{}.safetensors", "w".repeat(252 - ".safetensors".len()));
    let tmp = dir("long_name");
    let path = tmp.path().join(&name);
    save_safetensors(&model(1), &path).unwrap();
    let mut loaded = model(2);
    load_safetensors(&mut loaded, &path).unwrap();
    assert_eq!(params(&loaded), params(&model(1)));
}

#[test]
fn write_atomically_replaces_whole_files_and_names_the_path_on_error() {
    let tmp = dir("atomic");
    let d = tmp.path();
    let path = d.join("curves.svg");
    adroit_nn::io::write_atomically(&path, b"first").unwrap();
    adroit_nn::io::write_atomically(&path, b"second, longer").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
    // Into a directory that does not exist: an error naming the target, nothing left behind.
    let missing = d.join("no-such-dir").join("curves.svg");
    let err = adroit_nn::io::write_atomically(&missing, b"x").unwrap_err();
    assert!(matches!(&err, NnError::Io { .. }), "{err}");
    // It says which directory is missing (it said "No such file or directory", which reads
    // as a failed read of the file).
    assert!(
        err.to_string().ends_with(&format!(
            "the directory {} does not exist",
            d.join("no-such-dir").display()
        )),
        "{err}"
    );
    let names: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["curves.svg"], "no temporary left");
}

#[test]
#[cfg(unix)] // symbolic links and mode bits
fn write_atomically_overwrites_as_a_write_would() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let tmp = dir("overwrite");
    let d = tmp.path();
    let write = adroit_nn::io::write_atomically;
    // A read-only file is refused and left as it was (checked on the mode bits, so also when
    // the tests run as root).
    let locked = d.join("locked.safetensors");
    write(&locked, b"kept").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o444)).unwrap();
    let err = write(&locked, b"new").unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(std::fs::read(&locked).unwrap(), b"kept");
    // The permissions of a replaced file are kept.
    let shared = d.join("shared.safetensors");
    write(&shared, b"one").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();
    write(&shared, b"two").unwrap();
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        (std::fs::read(&shared).unwrap(), mode),
        (b"two".to_vec(), 0o640)
    );
    // Through a symbolic link: the file it names is replaced, the link stays a link.
    let link = d.join("latest.safetensors");
    symlink(&shared, &link).unwrap();
    write(&link, b"three").unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&shared).unwrap(), b"three");
    // A directory is not a file to overwrite.
    let err = write(&d.to_path_buf(), b"x").unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn partial_loading_reports_missing_and_unexpected_tensors_and_loads_the_rest() {
    let tmp = dir("partial");
    let d = tmp.path();
    // The file: a 3 → 4 layer and a 4 → 2 layer. The model: the same first layer, a 4 → 2
    // layer without bias, a third layer.
    let file = d.join("file.safetensors");
    let source = model(1);
    save_safetensors(&source, &file).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let mut target = Chain::<f64>::new()
        .push(Dense::new(3, 4, Activation::Relu, &mut rng))
        .push(Dense::new(4, 2, Activation::Relu, &mut rng).without_bias())
        .push(Dense::new(2, 2, Activation::Identity, &mut rng));
    let third_before = target.layer::<Dense<f64>>(2).unwrap().clone();
    let report = load_safetensors_partial(&mut target, &file).unwrap();
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        report,
        LoadReport {
            loaded: names(&["layers.0.weight", "layers.0.bias", "layers.1.weight"]),
            missing: names(&["layers.2.weight", "layers.2.bias"]),
            unexpected: names(&["layers.1.bias"]),
        }
    );
    let first = target.layer::<Dense<f64>>(0).unwrap();
    assert_eq!(Some(first), source.layer::<Dense<f64>>(0));
    let second = target.layer::<Dense<f64>>(1).unwrap();
    assert_eq!(second.weight, source.layer::<Dense<f64>>(1).unwrap().weight);
    assert_eq!(target.layer::<Dense<f64>>(2), Some(&third_before));
}

#[test]
fn partial_loading_still_refuses_a_tensor_that_does_not_fit_and_changes_nothing() {
    let tmp = dir("partial_bad");
    let d = tmp.path();
    let file = d.join("file.safetensors");
    save_safetensors(&model(1), &file).unwrap();
    // layers.0 fits; layers.1.weight is 4 → 3 here against 4 → 2 in the file.
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut target = Chain::<f64>::new()
        .push(Dense::new(3, 4, Activation::Relu, &mut rng))
        .push(Dense::new(4, 3, Activation::Identity, &mut rng));
    let before = params(&target);
    let err = load_safetensors_partial(&mut target, &file).unwrap_err();
    // Both of layers.1's tensors, and nothing about missing or unexpected ones (loading
    // partially, those are reported, not refused).
    assert!(
        matches!(&err, NnError::ArchitectureMismatch { shapes, missing, unexpected, .. }
            if shapes.iter().map(|s| s.name.as_str()).eq(["layers.1.weight", "layers.1.bias"])
                && missing.is_empty() && unexpected.is_empty()),
        "{err}"
    );
    assert_eq!(
        params(&target),
        before,
        "the fitting first layer was not loaded either"
    );
    // A model of the other float type loads the fitting layer converted (f64 → f32 rounded).
    let mut single = Chain::<f32>::new().push(Dense::new(3, 4, Activation::Relu, &mut rng));
    let report = load_safetensors_partial(&mut single, &file).unwrap();
    assert_eq!(report.loaded, ["layers.0.weight", "layers.0.bias"]);
    let mut double = Chain::<f64>::new().push(Dense::new(3, 4, Activation::Relu, &mut rng));
    load_safetensors_partial(&mut double, &file).unwrap();
    let mut rounded = Vec::new();
    adroit_nn::Layer::visit(&single, "", &mut |_, p| rounded.extend(p.iter().copied()));
    let expected: Vec<f32> = params(&double).iter().map(|&p| p as f32).collect();
    assert_eq!(rounded, expected);
    // A finite F64 beyond f32's range is refused rather than loaded as ∞, model untouched.
    let mut huge = model(1);
    adroit_nn::Layer::visit_mut(&mut huge, &mut |p| p[(0, 0)] = 1e300);
    let huge_file = d.join("huge.safetensors");
    save_safetensors(&huge, &huge_file).unwrap();
    let before = single.clone();
    let err = load_safetensors_partial(&mut single, &huge_file).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid data: tensor layers.0.weight, entry (0, 0), is 1e300, beyond the f32 model's range"
    );
    let mut a = Vec::new();
    let mut b = Vec::new();
    adroit_nn::Layer::visit(&single, "", &mut |_, p| a.extend(p.iter().copied()));
    adroit_nn::Layer::visit(&before, "", &mut |_, p| b.extend(p.iter().copied()));
    assert_eq!(a, b);
    // A tensor that is not a float is refused, naming it and the types.
    let ints: Vec<u8> = (0..12_i32).flat_map(|v| v.to_le_bytes()).collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::I32, vec![4, 3], &ints).unwrap();
    let bytes = safetensors::tensor::serialize([("layers.0.weight", view)], &None).unwrap();
    let int_file = d.join("ints.safetensors");
    std::fs::write(&int_file, bytes).unwrap();
    let err = load_safetensors_partial(&mut double, &int_file).unwrap_err();
    assert_eq!(
        err,
        NnError::DtypeMismatch {
            name: "layers.0.weight".into(),
            expected: "F64 (or F32, converted)".into(),
            found: "I32".into()
        }
    );
}

#[test]
fn architecture_problems_are_listed_whatever_the_tensors_types() {
    // A tensor of another type was not shape-checked: with a wrong shape too it went
    // unlisted, and the one other mismatch was reported as if it were the only problem.
    let tmp = dir("architecture");
    let file = tmp.path().join("mixed.safetensors");
    let ints: Vec<u8> = (0..15_i32).flat_map(|v| v.to_le_bytes()).collect();
    let floats: Vec<u8> = (0..5).flat_map(|v| f64::from(v).to_le_bytes()).collect();
    let weight =
        safetensors::tensor::TensorView::new(safetensors::Dtype::I32, vec![5, 3], &ints).unwrap();
    let bias =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![5, 1], &floats).unwrap();
    let extra =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F64, vec![5, 1], &floats).unwrap();
    let tensors = [
        ("layers.0.weight", weight),
        ("layers.0.bias", bias),
        ("layers.9.bias", extra),
    ];
    std::fs::write(
        &file,
        safetensors::tensor::serialize(tensors, &None).unwrap(),
    )
    .unwrap();
    let mut target = model(5);
    let before = params(&target);
    let err = load_safetensors(&mut target, &file).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is of another architecture than the model: tensor layers.0.weight has shape \
             [5, 3], the model needs [4, 3]; tensor layers.0.bias has shape [5, 1], the model \
             needs [4, 1]; it has no tensor layers.1.weight, layers.1.bias; it has tensors the \
             model has no parameter for: layers.9.bias",
            file.display()
        )
    );
    assert_eq!(params(&target), before);
    // Loading partially, the missing and unexpected tensors are not problems: the two shapes
    // are; and one shape alone, with tensors missing, is a TensorShapeMismatch.
    let err = load_safetensors_partial(&mut target, &file).unwrap_err();
    assert!(
        matches!(&err, NnError::ArchitectureMismatch { shapes, missing, unexpected, .. }
            if shapes.len() == 2 && missing.is_empty() && unexpected.is_empty()),
        "{err}"
    );
    let one = tmp.path().join("one.safetensors");
    let weight =
        safetensors::tensor::TensorView::new(safetensors::Dtype::I32, vec![5, 3], &ints).unwrap();
    std::fs::write(
        &one,
        safetensors::tensor::serialize([("layers.0.weight", weight)], &None).unwrap(),
    )
    .unwrap();
    let err = load_safetensors_partial(&mut target, &one).unwrap_err();
    assert!(
        matches!(&err, NnError::TensorShapeMismatch { name, .. } if name == "layers.0.weight"),
        "{err}"
    );
    assert_eq!(params(&target), before);
}

/// A custom layer whose `visit` gives both of its parameters the same name (an easy slip
/// when wrapping two sub-layers under one prefix).
#[derive(Clone)]
struct SameNames {
    a: nalgebra::DMatrix<f64>,
    b: nalgebra::DMatrix<f64>,
}

impl adroit_nn::Layer<f64> for SameNames {
    fn forward(
        &self,
        x: adroit_reverse::matrix::MatVar<f64>,
        _: &mut adroit_nn::Context<f64>,
    ) -> adroit_reverse::matrix::MatVar<f64> {
        x
    }
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a nalgebra::DMatrix<f64>)) {
        f(&format!("{prefix}w"), &self.a);
        f(&format!("{prefix}w"), &self.b);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut nalgebra::DMatrix<f64>)) {
        f(&mut self.a);
        f(&mut self.b);
    }
}

#[test]
fn two_parameters_with_one_name_are_refused_on_save_and_load() {
    let tmp = dir("same-names");
    let d = tmp.path();
    let path = d.join("w.safetensors");
    let layer = SameNames {
        a: dmatrix![1.0],
        b: dmatrix![2.0],
    };
    let duplicate_names = |e: &NnError| matches!(e, NnError::InvalidConfig { name: "parameter names", reason } if reason.contains("two parameters named `w`"));
    let err = save_safetensors(&layer, &path).unwrap_err();
    assert!(duplicate_names(&err), "{err:?}");
    assert!(!path.exists(), "nothing written");
    // Loading is refused before the file is read (it would copy one tensor into both).
    save_safetensors(
        &Dense::from_parts(dmatrix![5.0], None, Activation::Identity).unwrap(),
        &path,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut target = layer.clone();
    let err = load_safetensors(&mut target, &path).unwrap_err();
    assert!(duplicate_names(&err), "{err:?}");
    assert_eq!(
        (target.a.clone(), target.b.clone()),
        (dmatrix![1.0], dmatrix![2.0])
    );
    // Before the file is read: a missing file or a directory is not what is reported (a
    // review caught a refactor that read first), and the in-memory loaders refuse it too.
    for missing in [d.join("absent.safetensors"), d.to_path_buf()] {
        let err = load_safetensors(&mut target, &missing).unwrap_err();
        assert!(duplicate_names(&err), "{err:?}");
    }
    let bytes = adroit_nn::io::to_safetensors_bytes(
        &Dense::from_parts(dmatrix![5.0], None, Activation::Identity).unwrap(),
    )
    .unwrap();
    let err = load_safetensors_bytes(&mut target, &bytes).unwrap_err();
    assert!(duplicate_names(&err), "{err:?}");
}

#[test]
fn a_file_naming_a_tensor_twice_is_refused() {
    // Two header entries `weight` with the same data offsets, F64 [1, 1] then F32 [1, 2]: the
    // safetensors parser keeps the last, which fits the model, so the file loaded silently
    // although it also says the bytes are one f64.
    let data: Vec<u8> = [1.5f32, -2.0f32]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let header = r#"{"weight":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},"weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#;
    let bytes = safetensors_file(header, &data);
    let d = dir("twice");
    let path = d.path().join("twice.safetensors");
    std::fs::write(&path, &bytes).unwrap();
    let w = nalgebra::dmatrix![0.0, 0.0];
    let mut layer = Dense::from_parts(w.clone(), None, Activation::Identity).unwrap();
    let err = load_safetensors(&mut layer, &path).unwrap_err();
    assert!(
        matches!(&err, NnError::InvalidFile { reason, .. } if reason.contains("lists tensor `weight` twice")),
        "{err}"
    );
    assert_eq!(layer.weight, w, "the model is unchanged");
    // The same file with the name once loads.
    let once = r#"{"weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#;
    std::fs::write(&path, safetensors_file(once, &data)).unwrap();
    load_safetensors(&mut layer, &path).unwrap();
    assert_eq!(layer.weight, nalgebra::dmatrix![1.5, -2.0]);
}

#[path = "../../../../fuzz/shared/weights_check.rs"]
mod weights_check;

/// Replays the `weights_load` fuzz target's seeds (`fuzz/seeds/weights_load/`: valid files of
/// its models, and any crash found, once fixed) through its check: nothing panics, a refused
/// load leaves the model unchanged, an accepted one is finite; the valid seeds load into both
/// element types. Plus a few byte strings the loader must refuse whole.
#[test]
fn weights_load_fuzz_seeds_replay() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/weights_load");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let accepted = weights_check::check_weights_bytes(&data);
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("valid-"))
        {
            assert_eq!(accepted, (true, true), "{}", path.display());
        }
        seeds += 1;
    }
    assert!(seeds >= 2, "the seeds of {} are missing", dir.display());
    // The valid seeds are what the model of seed 0 saves, in both element types, and both
    // load into both (through the check above, and here by name).
    let f32_file = adroit_nn::io::to_safetensors_bytes(&weights_check::model::<f32>(0)).unwrap();
    let f64_file = adroit_nn::io::to_safetensors_bytes(&weights_check::model::<f64>(0)).unwrap();
    for (name, bytes) in [("valid-f32", f32_file), ("valid-f64", f64_file)] {
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), bytes, "{name}");
        assert_eq!(
            weights_check::check_weights_bytes(&bytes),
            (true, true),
            "{name}"
        );
    }
    let valid = std::fs::read(dir.join("valid-f32")).unwrap();
    for bad in [
        &b""[..],
        &b"\xff\xff\xff\xff\xff\xff\xff\xff{}"[..],
        &valid[..valid.len() - 1],
        &valid[..20],
    ] {
        assert_eq!(weights_check::check_weights_bytes(bad), (false, false));
    }
}

/// Data offsets near u64::MAX: the safetensors parser sums them unchecked, a panic with
/// overflow checks on (a robustness hunt's finding); refused first, the model unchanged.
#[test]
fn offsets_near_the_largest_integer_are_refused_without_a_panic() {
    for (a, b) in [(0, u64::MAX - 7), (u64::MAX - 15, u64::MAX - 7)] {
        let header = format!(
            r#"{{"x":{{"dtype":"U8","shape":[{}],"data_offsets":[{a},{b}]}}}}"#,
            b - a
        );
        let bytes = safetensors_file(&header, &[]);
        let mut m = model(3);
        let before = params(&m);
        let err = load_safetensors_bytes(&mut m, &bytes).unwrap_err();
        assert!(err.to_string().contains("reach past the data"), "{err}");
        assert_eq!(params(&m), before);
    }
}

/// A value the model refuses (a negative BatchNorm running variance) is refused at loading,
/// not at the model's next use, and the model keeps its values (a robustness hunt's finding).
#[test]
fn values_the_model_refuses_are_refused_at_loading() {
    use adroit_nn::{BatchNorm, Layer};
    let net = || {
        Chain::<f64>::new()
            .push(Dense::new(
                3,
                4,
                Activation::Tanh,
                &mut rand::rngs::StdRng::seed_from_u64(1),
            ))
            .push(BatchNorm::new(4))
    };
    let mut saved = net();
    saved.visit_state_mut(&mut |s| s.fill(-5.0)); // running mean −5 (fine), variance −5 (not)
    let bytes = adroit_nn::io::to_safetensors_bytes(&saved).unwrap();
    let mut target = net();
    let before = adroit_nn::io::to_safetensors_bytes(&target).unwrap();
    let err = load_safetensors_bytes(&mut target, &bytes).unwrap_err();
    assert!(
        matches!(&err, NnError::InvalidFile { reason, .. } if reason.contains("a variance cannot be negative")),
        "{err}"
    );
    assert_eq!(
        adroit_nn::io::to_safetensors_bytes(&target).unwrap(),
        before
    );
}

/// A file whose size is not the one its header gives is refused from the header alone, not
/// read whole first (a 1 GB file was: 2.8 s and 1 GB of memory before its error).
#[test]
fn a_file_larger_than_its_header_says_is_refused_from_the_header() {
    let tmp = dir("larger_than_its_header");
    let path = tmp.path().join("padded.safetensors");
    save_safetensors(&model(1), &path).unwrap();
    // 1 GiB, sparse where the file system allows: no data is written
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(1 << 30).unwrap();
    let mut m = model(3);
    let before = params(&m);
    let err = load_safetensors(&mut m, &path).unwrap_err().to_string();
    let data = (1u64 << 30) - 8 - header_len(&path);
    assert!(err.contains("is truncated or has bytes appended"), "{err}");
    assert!(err.contains(&format!("the file holds {data})")), "{err}");
    assert_eq!(params(&m), before);
    // Another 1 GiB file, whose first 8 bytes read as no header length that fits: refused from
    // those 8 (the parser's errors for them, as on the whole file).
    for head in [u64::MAX, 200_000_000] {
        let other = tmp.path().join("other.bin");
        std::fs::write(&other, head.to_le_bytes()).unwrap();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&other)
            .unwrap();
        file.set_len(1 << 30).unwrap();
        let err = load_safetensors(&mut m, &other).unwrap_err().to_string();
        assert!(err.contains("its header is over the 100 MB"), "{err}");
    }
    assert_eq!(params(&m), before);
}

/// The header length a safetensors file states in its first 8 bytes.
fn header_len(path: &std::path::Path) -> u64 {
    use std::io::Read;
    let mut head = [0; 8];
    std::fs::File::open(path)
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    u64::from_le_bytes(head)
}

/// A tensor's header entry may also be an array of its fields in order, `[dtype, shape,
/// [start, end]]`, which the safetensors parser reads as it reads the object form: both
/// loaders take such a file, and refuse one whose offsets overflow the parser's sums without
/// a panic (a hunt's finding: the checks before the parser read the object form only, so the
/// parser panicked with overflow checks on, and the file loader refused a valid file).
#[test]
fn entries_written_as_arrays_are_read_as_the_parser_reads_them() {
    let saved = model(1);
    let bytes = adroit_nn::io::to_safetensors_bytes(&saved).unwrap();
    let len = usize::try_from(u64::from_le_bytes(bytes[..8].try_into().unwrap())).unwrap();
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    let arrays: serde_json::Map<String, serde_json::Value> = header
        .into_iter()
        .map(|(name, entry)| match name.as_str() {
            "__metadata__" => (name, entry),
            _ => {
                let fields = [&entry["dtype"], &entry["shape"], &entry["data_offsets"]];
                (name, serde_json::json!(fields))
            }
        })
        .collect();
    let text = serde_json::to_string(&arrays).unwrap();
    assert!(text.contains(r#":["F64",["#), "{text}");
    let file = safetensors_file(&text, &bytes[8 + len..]);
    let mut from_bytes = model(2);
    load_safetensors_bytes(&mut from_bytes, &file).unwrap();
    assert_eq!(params(&from_bytes), params(&saved));
    let tmp = dir("array_entries");
    let path = tmp.path().join("arrays.safetensors");
    std::fs::write(&path, &file).unwrap();
    let mut from_file = model(2);
    load_safetensors(&mut from_file, &path).unwrap();
    assert_eq!(params(&from_file), params(&saved));
    // 4n = 2⁶⁴ − 8 bytes of data for n entries: the parser's own size checks pass, its sum of
    // the header's size and the end offset overflows.
    let n = (1_u64 << 62) - 2;
    let header = format!(r#"{{"x":["F32",[{n}],[0,{}]]}}"#, 4 * n);
    let huge = safetensors_file(&header, &[]);
    let mut m = model(3);
    let before = params(&m);
    let err = load_safetensors_bytes(&mut m, &huge).unwrap_err();
    assert!(err.to_string().contains("reach past the data"), "{err}");
    std::fs::write(&path, &huge).unwrap();
    let err = load_safetensors(&mut m, &path).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("its header gives {} bytes of data", 4 * n)),
        "{err}"
    );
    assert_eq!(params(&m), before);
}
