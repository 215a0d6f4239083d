//! [`Slots`]: a rule's per-parameter state arrays, double-buffered so that a refused step can
//! be undone exactly.

use super::vectorised::vectorised;
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// What [`Slots::undo`] has to do to restore the state before the last [`Slots::advance`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum Undo {
    /// Nothing to undo (no step yet, already undone, or state read back from a checkpoint).
    #[default]
    Nothing,
    /// Swap the buffers back: the old state is in `spare`.
    Swap,
    /// The state was created by the last step: remove it again.
    Remove,
}

/// Per-parameter state arrays, created (zero or `init`) on the first update.
///
/// Each step writes the new state into a second set of arrays, reading the old one, and swaps
/// the two ([`advance`](Self::advance)): twice the memory, and the step before is still there
/// for [`undo`](Self::undo). The memory traffic can be one read per state array more than
/// updating in place (a CPU that fetches the new arrays' cache lines before writing them):
/// Adam's update of 669,706 `f32` parameters measured 0.97× a hand-written in-place loop's
/// time on an AMD Zen 5 machine but 1.76× on an Intel Xeon, where the loop's AVX-512 copy was
/// also 8 % slower than its AVX2 one (`BENCHMARKS.md` §W.6, §X.6); how much of that the
/// second set of arrays costs was not measured. Compared, written and read back by the
/// current arrays alone.
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub(crate) struct Slots<T> {
    arrays: Vec<DMatrix<T>>,
    /// The state before the last step (after [`advance`](Self::advance)), or a buffer to write
    /// the next state into.
    #[cfg_attr(feature = "serde", serde(skip))]
    spare: Vec<DMatrix<T>>,
    #[cfg_attr(feature = "serde", serde(skip))]
    undo: Undo,
}

/// The current arrays alone (the spare set is a buffer).
impl<T: std::fmt::Debug> std::fmt::Debug for Slots<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots")
            .field("arrays", &self.arrays)
            .finish()
    }
}

impl<T: PartialEq> PartialEq for Slots<T> {
    fn eq(&self, other: &Self) -> bool {
        let same = |(a, b): (&DMatrix<T>, &DMatrix<T>)| {
            a.shape() == b.shape() && a.as_slice() == b.as_slice()
        };
        self.arrays.len() == other.arrays.len() && self.arrays.iter().zip(&other.arrays).all(same)
    }
}

/// State read back must be finite: JSON has no NaN or infinity, but a value past the type's
/// range reads as one (`1e39` into `f32` state is `inf`, silently: training then stalled, every
/// update of that entry 0), as may a binary format's bytes. Each array is read in nalgebra's
/// format, `(entries, rows, columns)`, and its size checked here: nalgebra's own reader
/// multiplies the dimensions unchecked (`4294967296 × 4294967296` panicked with overflow
/// checks on).
#[cfg(feature = "serde")]
impl<'de, T: super::SerdeScalar> serde::Deserialize<'de> for Slots<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(serde::Deserialize)]
        #[serde(bound = "T: crate::optim::SerdeScalar")]
        struct Arrays<T> {
            arrays: Vec<(Vec<T>, usize, usize)>,
        }
        let Arrays { arrays } = Arrays::deserialize(d)?;
        let mut checked = Vec::with_capacity(arrays.len());
        for (k, (entries, rows, cols)) in arrays.into_iter().enumerate() {
            if rows.checked_mul(cols) != Some(entries.len()) {
                return Err(D::Error::custom(format!(
                    "optimiser state array {k} is {rows}×{cols} with {} entries",
                    entries.len()
                )));
            }
            if let Some(i) = entries.iter().position(|v: &T| !v.is_finite()) {
                return Err(D::Error::custom(format!(
                    "optimiser state array {k}, entry {i}, is {:?}: not finite (a value past \
                     the element type's range?)",
                    entries[i]
                )));
            }
            checked.push(DMatrix::from_vec(rows, cols, entries));
        }
        Ok(Self {
            arrays: checked,
            ..Self::default()
        })
    }
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self {
            arrays: Vec::new(),
            spare: Vec::new(),
            undo: Undo::Nothing,
        }
    }
}

/// Reads state that holds squares or magnitudes (Adam's `v`, AdaGrad's sum, …), refusing
/// a negative entry, which no step makes: its square root would be NaN (a refused step, for
/// ever, blamed on training) or its sum with ε near 0 (a huge step).
#[cfg(feature = "serde")]
pub(crate) fn non_negative<'de, D, T>(d: D) -> Result<Slots<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: super::SerdeScalar,
{
    use serde::Deserialize;
    use serde::de::Error;
    let slots = Slots::<T>::deserialize(d)?;
    for (k, a) in slots.arrays.iter().enumerate() {
        if let Some(i) = a.iter().position(|v| *v < T::zero()) {
            return Err(D::Error::custom(format!(
                "optimiser state array {k}, entry {i}, is {:?}: this state holds squares or \
                 magnitudes, never negative",
                a[i]
            )));
        }
    }
    Ok(slots)
}

impl<T> Slots<T> {
    /// Whether no state was created yet (no step, or the first one undone).
    pub(crate) fn is_empty(&self) -> bool {
        self.arrays.is_empty()
    }
}

impl<T: MatScalar> Slots<T> {
    /// Checks that the state arrays, once created, are one per parameter of the given shapes
    /// (state read back from another model's checkpoint is not): before a step, where
    /// [`advance`](Self::advance) would panic.
    pub(crate) fn check(&self, rule: &str, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        if self.arrays.is_empty() {
            return Ok(());
        }
        let invalid = |reason: String| NnError::InvalidConfig {
            name: "optimiser state",
            reason: format!(
                "{reason} (its state is for another model: read from another checkpoint?)"
            ),
        };
        if self.arrays.len() != shapes.len() {
            return Err(invalid(format!(
                "{rule}'s state holds arrays for {} parameters, the model has {}",
                self.arrays.len(),
                shapes.len()
            )));
        }
        for (k, (a, s)) in self.arrays.iter().zip(shapes).enumerate() {
            if a.shape() != *s {
                return Err(invalid(format!(
                    "{rule}'s state array {k} is {}×{}, parameter {k} is {}×{}",
                    a.nrows(),
                    a.ncols(),
                    s.0,
                    s.1
                )));
            }
        }
        Ok(())
    }

    /// One step of the state: `(old, new)`, the state arrays before this step (filled with
    /// `init` the first time) and the arrays to write the state after it into, both shaped
    /// like `updates`. `new` holds stale values: a rule writes every entry of it.
    ///
    /// # Panics
    /// If the number or shapes of `updates` differ from the state's (programmer errors:
    /// [`check`](Self::check) reports them before a step).
    #[track_caller]
    pub(crate) fn advance(
        &mut self,
        updates: &[DMatrix<T>],
        init: T,
    ) -> (&[DMatrix<T>], &mut [DMatrix<T>]) {
        let created = self.arrays.is_empty();
        if created {
            self.arrays = updates
                .iter()
                .map(|u| DMatrix::from_element(u.nrows(), u.ncols(), init))
                .collect();
        }
        assert!(
            self.arrays.len() == updates.len(),
            "optimizer: the number of parameters changed from {} to {} (an optimiser keeps \
             state for one model: use a new one for another model)",
            self.arrays.len(),
            updates.len()
        );
        for (a, u) in self.arrays.iter().zip(updates) {
            assert!(
                a.shape() == u.shape(),
                "optimizer: a parameter's shape changed from {}×{} to {}×{} (an optimiser keeps \
                 state for one model: use a new one for another model)",
                a.nrows(),
                a.ncols(),
                u.nrows(),
                u.ncols()
            );
        }
        let fits = self.spare.len() == self.arrays.len()
            && (self.spare.iter().zip(&self.arrays)).all(|(s, a)| s.shape() == a.shape());
        if !fits {
            self.spare = self.arrays.clone();
        }
        std::mem::swap(&mut self.arrays, &mut self.spare);
        self.undo = if created { Undo::Remove } else { Undo::Swap };
        (&self.spare, &mut self.arrays)
    }

    /// Restores the state before the last [`advance`](Self::advance) (none if it created the
    /// state); a second call, or a call after the state was read back, does nothing.
    pub(crate) fn undo(&mut self) {
        match std::mem::take(&mut self.undo) {
            Undo::Nothing => {}
            Undo::Swap => std::mem::swap(&mut self.arrays, &mut self.spare),
            Undo::Remove => self.arrays.clear(),
        }
    }
}

/// The entries of one state array before and after a step, pairwise: `(old, new)` (over
/// contiguous slices, so the rules' loops vectorise).
pub(crate) fn pairs<'a, T: MatScalar>(
    old: &'a DMatrix<T>,
    new: &'a mut DMatrix<T>,
) -> impl Iterator<Item = (&'a T, &'a mut T)> {
    old.as_slice().iter().zip(new.as_mut_slice())
}

/// One state's arrays before and after a step, from [`Slots::advance`].
pub(crate) type Step<'a, T> = (&'a [DMatrix<T>], &'a mut [DMatrix<T>]);

/// `f(g, (old, new))` on every entry: `g` the entry of `updates` (a gradient, to replace by
/// its update), `old` and `new` the state's entry before and after the step. The loop runs
/// [`vectorised`], `f` inlined into it: `f` should be a `move` closure (capturing its
/// coefficients by value, not by reference, which LLVM then reloads at every entry instead of
/// vectorising the loop) marked `#[inline(always)]`.
pub(crate) fn each_entry<T: MatScalar>(
    updates: &mut [DMatrix<T>],
    (old, new): Step<'_, T>,
    mut f: impl FnMut(&mut T, (T, &mut T)),
) {
    vectorised(
        #[inline(always)]
        move || {
            for ((u, old), new) in updates.iter_mut().zip(old).zip(new) {
                for (g, (&old, new)) in u.as_mut_slice().iter_mut().zip(pairs(old, new)) {
                    f(g, (old, new));
                }
            }
        },
    );
}

/// [`each_entry`] with two states: `f(g, (a_old, a_new), (b_old, b_new))` (a `move` closure
/// marked `#[inline(always)]`, as there).
pub(crate) fn each_entry2<T: MatScalar>(
    updates: &mut [DMatrix<T>],
    (a_old, a_new): Step<'_, T>,
    (b_old, b_new): Step<'_, T>,
    mut f: impl FnMut(&mut T, (T, &mut T), (T, &mut T)),
) {
    let states = (a_old.iter().zip(a_new)).zip(b_old.iter().zip(b_new));
    vectorised(
        #[inline(always)]
        move || {
            for (u, ((a_old, a), (b_old, b))) in updates.iter_mut().zip(states) {
                let entries = pairs(a_old, a).zip(pairs(b_old, b));
                for (g, ((&a_old, a), (&b_old, b))) in u.as_mut_slice().iter_mut().zip(entries) {
                    f(g, (a_old, a), (b_old, b));
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::Slots;
    use nalgebra::dmatrix;

    /// One step: `new = old + 1` in every entry.
    fn step(s: &mut Slots<f64>, init: f64) {
        let (old, new) = s.advance(&[dmatrix![0.0, 0.0]], init);
        for (o, n) in old.iter().zip(new.iter_mut()) {
            n.zip_apply(o, |n, o| *n = o + 1.0);
        }
    }

    #[test]
    fn advance_reads_the_old_state_and_undo_restores_it_exactly() {
        let mut s = Slots::default();
        step(&mut s, 5.0);
        assert_eq!(s.arrays, vec![dmatrix![6.0, 6.0]]);
        step(&mut s, 5.0);
        step(&mut s, 5.0);
        assert_eq!(s.arrays, vec![dmatrix![8.0, 8.0]]);
        s.undo();
        assert_eq!(s.arrays, vec![dmatrix![7.0, 7.0]]);
        s.undo(); // one step only
        assert_eq!(s.arrays, vec![dmatrix![7.0, 7.0]]);
        step(&mut s, 5.0);
        assert_eq!(s.arrays, vec![dmatrix![8.0, 8.0]]);
    }

    #[test]
    fn undoing_the_first_step_removes_the_state() {
        let mut s = Slots::default();
        step(&mut s, 5.0);
        s.undo();
        assert_eq!(s, Slots::default());
        assert!(s.arrays.is_empty());
        step(&mut s, 1.0); // created afresh from the new `init`
        assert_eq!(s.arrays, vec![dmatrix![2.0, 2.0]]);
    }
}
