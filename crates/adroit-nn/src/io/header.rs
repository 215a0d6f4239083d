//! A look at a safetensors header for what the `safetensors` parser does not check: tensor
//! names given twice, and data offsets so large that its sums of them overflow.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// The first key the header of the safetensors file `bytes` (8 bytes of little-endian length,
/// then a JSON object) names twice, if any; `None` too for a header that is not a JSON object
/// (the parser refuses those itself).
///
/// A JSON object with a key given twice is legal JSON, and the `safetensors` parser keeps the
/// last entry: a second entry with the same data offsets as the first but another dtype or
/// shape passes its checks, and the file then says two things about one tensor.
pub(crate) fn duplicate_tensor_name(bytes: &[u8]) -> Option<String> {
    let (header, _) = split(bytes)?;
    serde_json::Deserializer::from_slice(header)
        .deserialize_map(FirstDuplicateKey)
        .ok()
        .flatten()
}

/// The first tensor (by name) whose data offsets reach past the data that follows the header in
/// `bytes`, with its offsets; `None` if there is none, and for a header that is not a JSON
/// object of entries with two integer offsets (the parser refuses those itself).
///
/// The `safetensors` parser (0.4) adds the offsets to the header's size without an overflow
/// check: offsets near `u64::MAX` wrap in a release build (and are then refused) but panic
/// where overflow checks are on (debug builds, tests). Offsets within the file cannot overflow.
pub(crate) fn offsets_past_the_data(bytes: &[u8]) -> Option<(String, Vec<u64>)> {
    let (header, data) = split(bytes)?;
    let data = u64::try_from(data.len()).ok()?;
    entries(header)?.into_iter().find_map(|(name, entry)| {
        let offsets = data_offsets(&name, &entry)?;
        let offsets: Vec<u64> = offsets.iter().map(|v| v.as_u64()).collect::<Option<_>>()?;
        offsets.iter().any(|&o| o > data).then_some((name, offsets))
    })
}

/// The size of the data the header at the start of `header` (8 bytes of length, then the JSON
/// object; nothing after it is read) says follows it: its tensors' largest end offset (0 for
/// none). `None` for a header that is not a JSON object whose entries other than
/// `__metadata__` each give two integer data offsets (the parser refuses those itself).
pub(crate) fn data_size(header: &[u8]) -> Option<u64> {
    entries(split(header)?.0)?
        .iter()
        .filter(|(name, _)| *name != "__metadata__")
        .try_fold(0, |size: u64, (name, entry)| {
            let end = data_offsets(name, entry)?.get(1)?.as_u64()?;
            Some(size.max(end))
        })
}

/// The data offsets of the header entry `name`, in either form the parser reads a tensor's
/// entry in (serde reads a struct from an object or from an array of its fields in order):
/// `{"dtype": …, "shape": …, "data_offsets": [start, end]}` or `[dtype, shape, [start, end]]`.
/// `None` for `__metadata__` and for anything else.
fn data_offsets<'a>(
    name: &str,
    entry: &'a serde_json::Value,
) -> Option<&'a Vec<serde_json::Value>> {
    if name == "__metadata__" {
        return None;
    }
    match entry {
        serde_json::Value::Object(fields) => fields.get("data_offsets")?.as_array(),
        serde_json::Value::Array(fields) => fields.get(2)?.as_array(),
        _ => None,
    }
}

/// A safetensors file's `bytes` as its header's JSON text and the data after it, by the length
/// in its first 8 bytes; `None` if they do not hold that much.
fn split(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let end = usize::try_from(len).ok()?.checked_add(8)?;
    Some((bytes.get(8..end)?, bytes.get(end..)?))
}

/// The header's JSON object, if it is one.
fn entries(header: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_slice(header).ok()
}

/// Visits an object's keys (skipping the values) and stops at the first one seen before.
struct FirstDuplicateKey;

impl<'de> Visitor<'de> for FirstDuplicateKey {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a safetensors header (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            if !seen.insert(key.clone()) {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::{data_size, duplicate_tensor_name, offsets_past_the_data};

    fn file(header: &str) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes
    }

    #[test]
    fn finds_the_first_name_given_twice() {
        let entry = r#"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#;
        let twice = format!(r#"{{"a":{entry},"b":{entry},"a":{entry}}}"#);
        assert_eq!(duplicate_tensor_name(&file(&twice)), Some("a".into()));
        let once = format!(r#"{{"a":{entry},"b":{entry}}}"#);
        assert_eq!(duplicate_tensor_name(&file(&once)), None);
        // Not a header: left to the parser.
        assert_eq!(duplicate_tensor_name(&file("[1, 2]")), None);
        assert_eq!(
            duplicate_tensor_name(b"\xff\xff\xff\xff\xff\xff\xff\xff{}"),
            None
        );
        assert_eq!(duplicate_tensor_name(b"\x02"), None);
    }

    #[test]
    fn finds_offsets_past_the_data() {
        let entry =
            |a: u64, b: u64| format!(r#"{{"dtype":"F32","shape":[1],"data_offsets":[{a},{b}]}}"#);
        let mut bytes = file(&format!(r#"{{"a":{},"b":{}}}"#, entry(0, 4), entry(4, 8)));
        bytes.extend_from_slice(&[0; 8]);
        assert_eq!(offsets_past_the_data(&bytes), None);
        bytes.truncate(bytes.len() - 1); // the data one byte short
        assert_eq!(
            offsets_past_the_data(&bytes),
            Some(("b".into(), vec![4, 8]))
        );
        let huge = file(&format!(r#"{{"x":{}}}"#, entry(0, u64::MAX - 7)));
        assert_eq!(
            offsets_past_the_data(&huge),
            Some(("x".into(), vec![0, u64::MAX - 7]))
        );
        // An entry in the parser's other form, an array of the fields in order.
        let array = file(&format!(r#"{{"x":["F32",[1],[0,{}]]}}"#, u64::MAX - 7));
        assert_eq!(
            offsets_past_the_data(&array),
            Some(("x".into(), vec![0, u64::MAX - 7]))
        );
        // Not such a header: left to the parser.
        assert_eq!(offsets_past_the_data(&file("[1, 2]")), None);
        assert_eq!(
            offsets_past_the_data(&file(r#"{"__metadata__":{"k":"v"}}"#)),
            None
        );
    }

    #[test]
    fn reads_the_data_size_from_the_header_alone() {
        let entry =
            |a: u64, b: u64| format!(r#"{{"dtype":"F32","shape":[1],"data_offsets":[{a},{b}]}}"#);
        let two = format!(
            r#"{{"b":{},"a":{},"__metadata__":{{"k":"v"}}}}"#,
            entry(4, 8),
            entry(0, 4)
        );
        assert_eq!(data_size(&file(&two)), Some(8));
        let arrays = r#"{"a":["F32",[1],[0,4]],"b":["F32",[2],[4,12]]}"#;
        assert_eq!(data_size(&file(arrays)), Some(12));
        assert_eq!(data_size(&file(r#"{"__metadata__":{"k":"v"}}"#)), Some(0));
        assert_eq!(data_size(&file(r#"{"a":{"dtype":"F32"}}"#)), None);
        assert_eq!(data_size(&file("[1]")), None);
        assert_eq!(data_size(b"\x02"), None);
    }
}
