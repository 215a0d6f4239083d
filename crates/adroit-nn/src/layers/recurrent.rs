//! [`Recurrent`]: what a layer over the steps of a sequence tells the layers built on it.

use crate::{Gru, Layer, Lstm, Rnn};
use adroit_reverse::matrix::MatScalar;

/// A layer that runs over the steps of a sequence, `x`: `(input·steps) × batch` (rows
/// `t·input .. (t + 1)·input` holding step `t`), to every step's `hidden` features or, with
/// [`outputs_last_only`](Self::outputs_last_only), the final state's: [`Rnn`], [`Lstm`],
/// [`Gru`], or a layer of your own. [`Bidirectional`](crate::Bidirectional) takes any two.
///
/// # Example
/// ```
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Gru, Recurrent};
/// let gru = Gru::<f64>::new(2, 5, &mut StdRng::seed_from_u64(0)).last_only();
/// assert_eq!((gru.step_input(), gru.step_hidden(), gru.outputs_last_only()), (2, 5, true));
/// ```
pub trait Recurrent<T: MatScalar>: Layer<T> {
    /// The features of one step in.
    fn step_input(&self) -> usize;
    /// The features of one step's output (the hidden state's).
    fn step_hidden(&self) -> usize;
    /// True when the layer outputs the final hidden state alone (`hidden × batch`), false for
    /// every step's (`(hidden·steps) × batch`).
    fn outputs_last_only(&self) -> bool;

    /// The value marking padding steps, if the layer skips them (`masking` on [`Rnn`],
    /// [`Lstm`] and [`Gru`]); the default, `None`, for a layer that runs every step.
    ///
    /// A step of a sequence (`input` rows of one column of `x`) is padding when every one of
    /// its features equals the mask value — Keras's `Masking(mask_value)` rule, under which
    /// padding may sit anywhere. At a padding step the state (an LSTM's `h` and `c`) carries
    /// over unchanged and the step's output is the mask value in every feature, so the final
    /// state ([`last_only`](Rnn::last_only), `forward_with_state`'s) is the one after the
    /// sequence's last real step. For sequences padded at the end this is PyTorch's
    /// `pack_padded_sequence` run: the same outputs (`pad_packed_sequence(…, padding_value)`
    /// with the mask value as its padding value; 0 by default, as the mask value 0 gives) and
    /// final states, and in a [`Bidirectional`](crate::Bidirectional) layer the reverse
    /// direction starts at each sequence's last real step (it reads the padding first and
    /// carries its initial state over it). Keras instead repeats the last real output at
    /// padding steps. Which steps are padding is read from the input's values and is not
    /// differentiated; padding steps' inputs get gradient 0.
    ///
    /// A real step whose features all happen to equal the mask value is skipped too: choose a
    /// value the data cannot take. The layer reads its own input, so the padding must reach
    /// it as the mask value: a layer before it that changes padded steps (a
    /// [`Dense`](crate::Dense) through [`TimeDistributed`](crate::TimeDistributed), an
    /// [`Embedding`](crate::Embedding)) hides them. A masked layer stacked on another with the
    /// same mask value skips the same steps, since the one below outputs the mask value there;
    /// for that a value the lower layer's states cannot take in every feature is safest (a
    /// value outside `(−1, 1)` for the `tanh`-bounded states of [`Lstm`], [`Gru`] and a `tanh`
    /// [`Rnn`], a negative one above a `Relu` [`Rnn`]).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Lstm, Recurrent};
    /// let lstm = Lstm::<f64>::new(2, 4, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(lstm.mask_value(), None);
    /// assert_eq!(lstm.masking(-1.0).mask_value(), Some(-1.0));
    /// ```
    fn mask_value(&self) -> Option<f64> {
        None
    }
}

/// The three layers' sizes, from their inherent accessors.
macro_rules! recurrent {
    ($($layer:ident),*) => {$(
        impl<T: MatScalar> Recurrent<T> for $layer<T> {
            fn step_input(&self) -> usize {
                self.input()
            }
            fn step_hidden(&self) -> usize {
                self.hidden()
            }
            fn outputs_last_only(&self) -> bool {
                self.last_only
            }
            fn mask_value(&self) -> Option<f64> {
                self.mask_value
            }
        }
    )*};
}

recurrent!(Rnn, Lstm, Gru);
