//! The bounded diagnostic queue: when full, the oldest entry is dropped; it never allocates.

use crate::diagnostic::Diagnostic;

/// How many diagnostics are kept until the host drains them (a full exchange queues six; drain
/// after every `poll` to see them all).
pub const DIAGNOSTIC_CAPACITY: usize = 8;

/// A fixed ring of diagnostics.
#[derive(Clone, Debug)]
pub(super) struct DiagnosticQueue {
    queue: heapless::Deque<Diagnostic, DIAGNOSTIC_CAPACITY>,
}

impl DiagnosticQueue {
    /// An empty queue.
    pub(super) const fn new() -> Self {
        Self {
            queue: heapless::Deque::new(),
        }
    }

    /// Queues `diagnostic`, dropping the oldest when full.
    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        if self.queue.is_full() {
            let _ = self.queue.pop_front();
        }
        let _ = self.queue.push_back(diagnostic);
    }

    /// The oldest queued diagnostic.
    pub(super) fn pop(&mut self) -> Option<Diagnostic> {
        self.queue.pop_front()
    }
}
