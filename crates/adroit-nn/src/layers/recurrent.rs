//! [`Recurrent`]: what a layer over the steps of a sequence tells the layers built on it.

use crate::{Gru, Layer, Lstm, Rnn};
use adroit_reverse::matrix::MatScalar;

/// A layer that runs over the steps of a sequence, `x`: `(input·steps) × batch` (rows
/// `t·input .. (t + 1)·input` holding step `t`), to every step's `hidden` features or, with
/// [`outputs_last_only`](Self::outputs_last_only), the final state's: [`Rnn`], [`Lstm`],
/// [`Gru`], or a layer of your own. [`Bidirectional`](crate::Bidirectional) takes any two of
/// one type that implements [`Cast`](crate::Cast) (adroit-nn's do; a layer of your own needs
/// its own `Cast` impl to go in one).
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
        }
    )*};
}

recurrent!(Rnn, Lstm, Gru);
