//! [`Parallel`]: branches applied to the same input (or to ranges of its rows), their outputs
//! combined.

use super::chain::{DynLayer, cast_layer};
use crate::{Cast, CastSlot, Connection, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use std::ops::Range;

/// One branch: the rows of the input it reads (all of them for `None`) and its layer.
struct Branch<T: MatScalar> {
    rows: Option<Range<usize>>,
    layer: Box<dyn DynLayer<T>>,
}

impl<T: MatScalar> Branch<T> {
    /// The number of input rows the branch reads, where known (its range's, or its layer's
    /// for the whole input).
    fn input_rows(&self) -> Option<usize> {
        match &self.rows {
            Some(rows) => Some(rows.len()),
            None => self.layer.input_size(),
        }
    }

    /// The branch's output features, where known; `input` is the [`Parallel`]'s input size,
    /// what a whole-input branch that keeps the size gives.
    fn output_rows(&self, input: Option<usize>) -> Option<usize> {
        match self.input_rows().or(input) {
            Some(n) => self.layer.output_size_for(n).ok().flatten(),
            None => self.layer.output_size(),
        }
    }

    /// The images a whole-input branch gives, where known: its layer's output images, or
    /// `input` (the [`Parallel`]'s input images) through a layer that keeps the size. `None`
    /// for a branch over a range of rows.
    fn output_image(&self, input: Option<(usize, usize, usize)>) -> Option<(usize, usize, usize)> {
        let kept = self.layer.preserves_size().then_some(input).flatten();
        self.rows
            .is_none()
            .then(|| self.layer.output_image_shape().or(kept))?
    }
}

/// Images' `(channels, height, width)`.
type Image = (usize, usize, usize);

/// The first shape that differs from the first one, with its index: `(i, first, other)`.
fn disagreement(mut shapes: impl Iterator<Item = (usize, Image)>) -> Option<(usize, Image, Image)> {
    let (_, first) = shapes.next()?;
    shapes
        .find(|&(_, s)| s != first)
        .map(|(i, s)| (i, first, s))
}

/// `c × h × w`, as the errors name images.
fn image((c, h, w): Image) -> String {
    format!("{c} × {h} × {w}")
}

/// Flux's `Parallel(connection, layers...)`: each branch maps the same `features × batch`
/// input, and their outputs are combined — summed ([`Connection::Add`]) or stacked in branch
/// order ([`Connection::Concat`], Flux's `Parallel(vcat, …)`). A branch added with
/// [`push_rows`](Self::push_rows) reads only a range of the input's rows: how a model
/// routes the features of one data matrix to different layers (a categorical id to an
/// [`Embedding`](crate::Embedding), the numeric features past it unchanged through
/// [`Activation::Identity`](crate::Activation::Identity)), as PyTorch code does by slicing
/// its input in `forward`. Parameters and state are named `layers.{i}.…`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Connection, Dense, Embedding, Layer, Parallel};
/// let mut rng = StdRng::seed_from_u64(0);
/// // Row 0 holds a category id (10 categories), rows 1..4 three numeric features.
/// let inputs = Parallel::<f64>::new(Connection::Concat)
///     .push_rows(0..1, Embedding::new(10, 4, &mut rng)) // → 4 features
///     .push_rows(1..4, Activation::Identity); // → 3 features
/// let model = Chain::new()
///     .push(inputs)
///     .push(Dense::new(7, 1, Activation::Identity, &mut rng));
/// assert_eq!(model.input_size(), Some(4));
/// let x = dmatrix![3.0, 9.0; 0.5, -1.0; 2.0, 0.0; 1.5, 1.0]; // 4 rows × 2 samples
/// assert_eq!(model.predict(&x).unwrap().shape(), (1, 2));
/// ```
pub struct Parallel<T: MatScalar> {
    branches: Vec<Branch<T>>,
    connection: Connection,
}

impl<T: MatScalar> Parallel<T> {
    /// No branches yet, combined by `connection`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Connection, Parallel};
    /// let p = Parallel::<f64>::new(Connection::Add);
    /// assert_eq!((p.len(), p.connection()), (0, Connection::Add));
    /// ```
    pub fn new(connection: Connection) -> Self {
        Self {
            branches: Vec::new(),
            connection,
        }
    }

    /// Adds a branch that reads the whole input.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Connection, Dense, Layer, Parallel};
    /// let twice = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// // x + 2x, Flux's Parallel(+, identity, Dense(...)).
    /// let p = Parallel::<f64>::new(Connection::Add).push(Activation::Identity).push(twice);
    /// assert_eq!(p.predict(&dmatrix![1.0, 5.0]).unwrap(), dmatrix![3.0, 15.0]);
    /// ```
    pub fn push<L: Layer<T> + Clone + 'static>(mut self, layer: L) -> Self {
        self.branches.push(Branch {
            rows: None,
            layer: Box::new(layer),
        });
        self
    }

    /// Adds a branch that reads the rows `rows` of the input (features `rows.start` to
    /// `rows.end − 1`). When every branch reads a range, the input must have as many rows as
    /// the largest range end (rows between ranges are skipped); a whole-input branch stating a
    /// size sets it instead (the first such branch), and whole-input branches that state none
    /// (activations) leave it open: [`input_size`](Layer::input_size) is then `None`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Connection, Layer, Parallel};
    /// // The two halves of four features, swapped.
    /// let p = Parallel::<f64>::new(Connection::Concat)
    ///     .push_rows(2..4, Activation::Identity)
    ///     .push_rows(0..2, Activation::Identity);
    /// assert_eq!(p.predict(&dmatrix![1.0; 2.0; 3.0; 4.0]).unwrap(), dmatrix![3.0; 4.0; 1.0; 2.0]);
    /// ```
    pub fn push_rows<L: Layer<T> + Clone + 'static>(
        mut self,
        rows: Range<usize>,
        layer: L,
    ) -> Self {
        self.branches.push(Branch {
            rows: Some(rows),
            layer: Box::new(layer),
        });
        self
    }

    /// The number of branches.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Activation, Connection, Parallel};
    /// let p = Parallel::<f64>::new(Connection::Add).push(Activation::Tanh).push(Activation::Relu);
    /// assert_eq!(p.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.branches.len()
    }

    /// True when there is no branch.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Connection, Parallel};
    /// assert!(Parallel::<f32>::new(Connection::Concat).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.branches.is_empty()
    }

    /// How the branches' outputs are combined.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Connection, Parallel};
    /// assert_eq!(Parallel::<f64>::new(Connection::Concat).connection(), Connection::Concat);
    /// ```
    pub fn connection(&self) -> Connection {
        self.connection
    }

    /// The layer of branch `i` as its concrete type `L`; `None` if there is no branch `i` or
    /// its layer is not an `L`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Activation, Connection, Parallel};
    /// let p = Parallel::<f64>::new(Connection::Add).push(Activation::Tanh);
    /// assert_eq!(p.layer::<Activation>(0), Some(&Activation::Tanh));
    /// assert!(p.layer::<Activation>(1).is_none());
    /// ```
    pub fn layer<L: 'static>(&self, i: usize) -> Option<&L> {
        self.branches.get(i)?.layer.as_any().downcast_ref()
    }

    /// The layer of branch `i` as its concrete type `L`, mutably.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Connection, Dense, Parallel};
    /// let dense = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// let mut p = Parallel::<f64>::new(Connection::Add).push(dense);
    /// p.layer_mut::<Dense<f64>>(0).unwrap().weight[0] = 3.0;
    /// assert_eq!(p.layer::<Dense<f64>>(0).unwrap().weight, dmatrix![3.0]);
    /// ```
    pub fn layer_mut<L: 'static>(&mut self, i: usize) -> Option<&mut L> {
        self.branches.get_mut(i)?.layer.as_any_mut().downcast_mut()
    }
}

impl<T: MatScalar> Parallel<T> {
    /// The combined output size for an input of `input` features (if known): the branches'
    /// common size for [`Connection::Add`], their sum for [`Connection::Concat`].
    fn output_from(&self, input: Option<usize>) -> Option<usize> {
        let mut sizes = self.branches.iter().map(|b| b.output_rows(input));
        match self.connection {
            Connection::Add => sizes.find_map(|n| n),
            Connection::Concat => sizes.sum(),
        }
    }
}

impl<T: MatScalar> Parallel<T> {
    /// The branches' output sizes `(branch, size if known)` combined: for
    /// [`Connection::Add`] their common size (an error naming two branches whose known sizes
    /// differ), for [`Connection::Concat`] their sum where all are known.
    fn combined(&self, sizes: &[(usize, Option<usize>)]) -> Result<Option<usize>, NnError> {
        match self.connection {
            Connection::Add => {
                let mut known = sizes.iter().filter_map(|&(i, n)| n.map(|n| (i, n)));
                let Some((first, size)) = known.next() else {
                    return Ok(None);
                };
                match known.find(|&(_, n)| n != size) {
                    Some((i, n)) => Err(NnError::InvalidConfig {
                        name: "Parallel",
                        reason: format!(
                            "Connection::Add needs equal output sizes: branch {i} gives {n} \
                             features, branch {first} {size}"
                        ),
                    }),
                    None => Ok(Some(size)),
                }
            }
            Connection::Concat => Ok(sizes.iter().map(|&(_, n)| n).sum()),
        }
    }
}

impl<T: MatScalar> Clone for Parallel<T> {
    fn clone(&self) -> Self {
        Self {
            branches: self
                .branches
                .iter()
                .map(|b| Branch {
                    rows: b.rows.clone(),
                    layer: b.layer.clone_box(),
                })
                .collect(),
            connection: self.connection,
        }
    }
}

/// Shows the connection and each branch's rows and layer type.
impl<T: MatScalar> std::fmt::Debug for Parallel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for b in &self.branches {
            match &b.rows {
                Some(rows) => list.entry(&format_args!("rows {rows:?}: {}", b.layer.type_name())),
                None => list.entry(&format_args!("{}", b.layer.type_name())),
            };
        }
        list.finish()?;
        write!(f, " combined by {:?}", self.connection)
    }
}

impl<T: MatScalar> Layer<T> for Parallel<T> {
    /// Each branch on the input (or its rows), combined; `x`: `features × batch`.
    ///
    /// # Panics
    /// If there is no branch, a branch's rows lie beyond the input's, or with
    /// [`Connection::Add`] two branches' outputs differ in shape (programmer errors, reported
    /// by [`Layer::check_params`] first where the sizes are known).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        assert!(!self.branches.is_empty(), "Parallel: no branches");
        let outputs: Vec<MatVar<T>> = self
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let input = match &b.rows {
                    Some(rows) => {
                        assert!(
                            rows.end <= x.nrows() && rows.start < rows.end,
                            "Parallel: branch {i} reads rows {rows:?} of an input of {} rows",
                            x.nrows()
                        );
                        x.rows(rows.start, rows.len())
                    }
                    None => x,
                };
                b.layer.forward(input, ctx)
            })
            .collect();
        match self.connection {
            Connection::Add => {
                let first = outputs[0].shape();
                outputs[1..]
                    .iter()
                    .enumerate()
                    .fold(outputs[0], |sum, (i, y)| {
                        assert!(
                            y.shape() == first,
                            "Parallel (Add): branch {} gives {}×{}, branch 0 {}×{}; adding needs \
                         the same shape",
                            i + 1,
                            y.nrows(),
                            y.ncols(),
                            first.0,
                            first.1
                        );
                        sum + *y
                    })
            }
            Connection::Concat => MatVar::vcat(&outputs),
        }
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        for (i, b) in self.branches.iter().enumerate() {
            b.layer.visit(&format!("{prefix}layers.{i}."), f);
        }
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        for b in &mut self.branches {
            b.layer.visit_mut(f);
        }
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        for b in &self.branches {
            b.layer.visit_params(f);
        }
    }

    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        for (i, b) in self.branches.iter().enumerate() {
            b.layer.visit_state(&format!("{prefix}layers.{i}."), f);
        }
    }

    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        for b in &mut self.branches {
            b.layer.visit_state_mut(f);
        }
    }

    /// The input size a whole-input branch states; else, when every branch reads a range, the
    /// largest end of the ranges: the input has exactly that many rows (rows between ranges
    /// are skipped; rows after the last range are refused as a size mismatch, so that data
    /// with too few or too many features is an error before any forward pass).
    fn input_size(&self) -> Option<usize> {
        if self.branches.iter().any(|b| b.rows.is_none()) {
            return self
                .branches
                .iter()
                .filter(|b| b.rows.is_none())
                .find_map(|b| b.layer.input_size());
        }
        self.branches
            .iter()
            .filter_map(|b| b.rows.as_ref().map(|r| r.end))
            .max()
    }

    /// [`Connection::Add`]: the branches' common output size; [`Connection::Concat`]: their
    /// sum, where every branch's is known.
    fn output_size(&self) -> Option<usize> {
        self.output_from(self.input_size())
    }

    /// As [`output_size`](Layer::output_size), for an input of `input` features, checking
    /// each branch for it: its rows within the input, its layer able to take them, and with
    /// [`Connection::Add`] the known output sizes equal.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        let invalid = |reason: String| NnError::InvalidConfig {
            name: "Parallel",
            reason,
        };
        let mut sizes = Vec::with_capacity(self.branches.len());
        for (i, b) in self.branches.iter().enumerate() {
            let rows = match &b.rows {
                Some(r) if r.end > input => {
                    return Err(invalid(format!(
                        "branch {i} reads rows {r:?} of an input of {input} features"
                    )));
                }
                Some(r) => r.len(),
                None => input,
            };
            let out = b.layer.output_size_for(rows).map_err(|e| match e {
                NnError::InvalidConfig { reason, .. } => invalid(format!("branch {i}: {reason}")),
                other => other,
            })?;
            sizes.push((i, out));
        }
        self.combined(&sizes)
    }

    /// Each branch's own check; then that there is a branch, every row range is non-empty,
    /// a branch's layer takes the rows its range gives, whole-input branches agree on the
    /// input size (and on the images, where they state them) and every range lies within it,
    /// and with [`Connection::Add`] the known output sizes (and images) agree.
    fn check_params(&self) -> Result<(), NnError> {
        let invalid = |reason: String| {
            Err(NnError::InvalidConfig {
                name: "Parallel",
                reason,
            })
        };
        if self.branches.is_empty() {
            return invalid("it has no branches".into());
        }
        let mut whole = None;
        for (i, b) in self.branches.iter().enumerate() {
            b.layer.check_params()?;
            match (&b.rows, b.layer.input_size()) {
                (Some(rows), _) if rows.start >= rows.end => {
                    return invalid(format!("branch {i} reads the empty rows {rows:?}"));
                }
                (Some(rows), Some(n)) if n != rows.len() => {
                    return invalid(format!(
                        "branch {i} reads rows {rows:?} ({} features) but its layer takes {n}",
                        rows.len()
                    ));
                }
                (None, Some(n)) => match whole {
                    Some(m) if m != n => {
                        return invalid(format!(
                            "branch {i} takes {n} input features, an earlier branch {m}"
                        ));
                    }
                    _ => whole = Some(n),
                },
                _ => {}
            }
        }
        if let Some(n) = whole
            && let Some((i, rows)) = self
                .branches
                .iter()
                .enumerate()
                .find_map(|(i, b)| b.rows.as_ref().filter(|r| r.end > n).map(|r| (i, r)))
        {
            return invalid(format!(
                "branch {i} reads rows {rows:?} of an input of {n} features (what the \
                 whole-input branches take)"
            ));
        }
        // Whole-input branches over images must agree on them, not only on their features;
        // adding pixel to pixel needs the images they give to agree too.
        let taken = self
            .branches
            .iter()
            .enumerate()
            .filter(|(_, b)| b.rows.is_none());
        let taken = taken.filter_map(|(i, b)| b.layer.input_image_shape().map(|s| (i, s)));
        if let Some((i, first, other)) = disagreement(taken) {
            return invalid(format!(
                "branch {i} takes images of {}, an earlier branch {}",
                image(other),
                image(first)
            ));
        }
        let input = self.input_image_shape();
        let given = self.branches.iter().enumerate();
        let given = given.filter_map(|(i, b)| b.output_image(input).map(|s| (i, s)));
        if self.connection == Connection::Add
            && let Some((i, first, other)) = disagreement(given)
        {
            return invalid(format!(
                "branch {i} gives images of {}, an earlier branch {}; Connection::Add adds \
                 pixel to pixel, so they need the same (channels, height, width)",
                image(other),
                image(first)
            ));
        }
        let sizes: Vec<(usize, Option<usize>)> = self
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| (i, b.output_rows(whole)))
            .collect();
        self.combined(&sizes).map(|_| ())
    }

    /// The images the whole-input branches take (the first that states them).
    fn input_image_shape(&self) -> Option<(usize, usize, usize)> {
        self.branches
            .iter()
            .filter(|b| b.rows.is_none())
            .find_map(|b| b.layer.input_image_shape())
    }

    /// Where every branch reads the whole input and gives images (or keeps the input's):
    /// [`Connection::Add`], their common shape; [`Connection::Concat`], their channels
    /// stacked, for images of one height and width. Else `None`.
    fn output_image_shape(&self) -> Option<(usize, usize, usize)> {
        let input = self.input_image_shape();
        let outputs: Vec<(usize, usize, usize)> = self
            .branches
            .iter()
            .map(|b| b.output_image(input))
            .collect::<Option<_>>()?;
        let (_, h, w) = *outputs.first()?;
        match self.connection {
            Connection::Add => outputs
                .iter()
                .all(|&s| s == outputs[0])
                .then_some(outputs[0]),
            Connection::Concat => outputs
                .iter()
                .all(|&(_, oh, ow)| (oh, ow) == (h, w))
                .then(|| (outputs.iter().map(|s| s.0).sum(), h, w)),
        }
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// Each branch's layer cast through its [`Layer::cast_into`] (a layer that cannot be cast is
/// [`NnError::NotCastable`] with its path, `layers.{i}`), rows and connection kept.
impl<T: MatScalar> Cast for Parallel<T> {
    type Output<U: MatScalar> = Parallel<U>;

    fn cast<U: MatScalar>(&self) -> Result<Parallel<U>, NnError> {
        let branches = self
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                Ok(Branch {
                    rows: b.rows.clone(),
                    layer: cast_layer(b.layer.as_ref(), &format!("layers.{i}"))?,
                })
            })
            .collect::<Result<_, NnError>>()?;
        Ok(Parallel {
            branches,
            connection: self.connection,
        })
    }
}
