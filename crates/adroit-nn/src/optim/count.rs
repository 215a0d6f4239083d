//! [`Count`]: a rule's step count, whose last advance can be undone.

/// A step count (or any small `Copy` state) that remembers its value before the last
/// [`set`](Self::set), so that a refused step can [`undo`](Self::undo) it. Compared, written and
/// read back by its value alone (the format of a plain number: checkpoints are unchanged).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Count<V> {
    value: V,
    before: Option<V>,
}

impl<V: Copy> Count<V> {
    pub(crate) fn new(value: V) -> Self {
        Self {
            value,
            before: None,
        }
    }

    pub(crate) fn get(&self) -> V {
        self.value
    }

    /// Sets the value, remembering the old one for [`undo`](Self::undo).
    pub(crate) fn set(&mut self, value: V) {
        self.before = Some(self.value);
        self.value = value;
    }

    /// Forgets the value before the last [`set`](Self::set): [`undo`](Self::undo) does nothing
    /// until the next one.
    pub(crate) fn forget(&mut self) {
        self.before = None;
    }

    /// Restores the value before the last [`set`](Self::set); a second call does nothing.
    pub(crate) fn undo(&mut self) {
        if let Some(before) = self.before.take() {
            self.value = before;
        }
    }
}

impl<V: PartialEq> PartialEq for Count<V> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

#[cfg(feature = "serde")]
impl<V: serde::Serialize> serde::Serialize for Count<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

#[cfg(feature = "serde")]
impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for Count<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        V::deserialize(d).map(|value| Self {
            value,
            before: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Count;

    #[test]
    fn undo_restores_the_value_before_the_last_set_once() {
        let mut c = Count::new(3);
        c.set(4);
        c.set(5);
        c.undo();
        assert_eq!(c.get(), 4);
        c.undo(); // only the last set is remembered
        assert_eq!(c.get(), 4);
        assert_eq!(Count::new(4), c);
    }
}
