//! Reading fuzzer bytes one at a time, for the decoders of [`program`](crate::program) and
//! [`matrix_program`](crate::matrix_program).

/// Reads bytes one at a time; exhausted input reads as zeros.
pub(crate) struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    /// A reader at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// The next byte (0 past the end).
    pub(crate) fn next(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// True once every byte has been read.
    pub(crate) fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// A value from `0..n` (`n ≥ 1`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::from(self.next()) % n
    }
}
