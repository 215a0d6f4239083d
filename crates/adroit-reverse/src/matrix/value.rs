//! The value of a node of the matrix tape: owned by the tape, or borrowed from the caller of a
//! gradient call for that call's duration (so a gradient with respect to large matrices, such
//! as a network's weights, does not copy them).
//!
//! Borrowing needs `unsafe`: the tape lives in a thread-local while recording, which cannot
//! carry the borrow's lifetime. The contract of [`NodeValue::borrowed`] — the tape holding the
//! value is dropped before the borrow ends — is kept by its two callers,
//! [`value_and_gradient`](super::value_and_gradient) and [`evaluate`](super::evaluate) (in
//! `matrix::api`, the one other place with `unsafe`), whose tape is a local dropped — or
//! recycled with its values cleared — before they return (on a panic in the user's function
//! too: the recording's scope guard drops it), while their `inputs` stay borrowed for the
//! whole call. Variables of that tape used later fail the tape-id check before any value is
//! read.

#![allow(unsafe_code)]

use nalgebra::DMatrix;
use std::ptr::NonNull;

/// A node's value.
pub(crate) enum NodeValue<T> {
    /// Computed by the recording, owned by the tape; its buffer goes to the buffer pool when
    /// the recording ends.
    Owned(DMatrix<T>),
    /// The caller's data owned by the tape (a constant, a pullback's copy of an input): freed
    /// when the recording ends, not pooled (its size need not be one the operations ask for,
    /// and pooled it could only wait, unused, in the pool).
    Data(DMatrix<T>),
    /// An input borrowed from the caller (see the module docs).
    Borrowed(NonNull<DMatrix<T>>),
}

impl<T> NodeValue<T> {
    /// A value borrowed from `m`.
    ///
    /// # Safety
    /// The tape this value is stored on must be dropped, and no reference obtained from
    /// [`get`](Self::get) used, after the borrow of `m` ends; `m` must not be mutated meanwhile
    /// (a shared borrow held by the caller for that long guarantees it).
    pub(crate) unsafe fn borrowed(m: &DMatrix<T>) -> Self {
        NodeValue::Borrowed(NonNull::from(m))
    }

    /// The matrix.
    #[inline]
    pub(crate) fn get(&self) -> &DMatrix<T> {
        match self {
            NodeValue::Owned(m) | NodeValue::Data(m) => m,
            // SAFETY: `borrowed`'s contract: the pointee outlives this tape, unmutated.
            NodeValue::Borrowed(p) => unsafe { p.as_ref() },
        }
    }
}
