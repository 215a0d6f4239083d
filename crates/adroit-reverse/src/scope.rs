//! The stack of recording scopes shared by the scalar tape and the matrix tape: the active
//! tape and the suspended outer ones, opened and closed in nested order.

/// A tape that can be the active one of a scope.
pub(crate) trait ScopedTape {
    /// The placeholder active when no scope is open (id 0).
    fn none() -> Self;
    /// The tape's id (0 for the placeholder).
    fn id(&self) -> u64;
}

/// The active tape and the suspended outer ones.
pub(crate) struct ScopeStack<Tp> {
    pub(crate) active: Tp,
    pub(crate) suspended: Vec<Tp>,
}

impl<Tp: ScopedTape> ScopeStack<Tp> {
    /// Makes `fresh` the active tape, suspending the current one; returns its id.
    pub(crate) fn open(&mut self, fresh: Tp) -> u64 {
        let id = fresh.id();
        let outer = std::mem::replace(&mut self.active, fresh);
        self.suspended.push(outer);
        id
    }

    /// Removes the tape with `id` (and any scope left open inside it, which only a leaked
    /// guard can cause) and restores the tape that was active before it.
    pub(crate) fn close(&mut self, id: u64) -> Tp {
        loop {
            let outer = self.suspended.pop().unwrap_or_else(Tp::none);
            let tape = std::mem::replace(&mut self.active, outer);
            if tape.id() == id || self.active.id() == 0 && self.suspended.is_empty() {
                return tape;
            }
        }
    }
}
