//! The accumulator that carries `count`, `sum` and `avg` inside the
//! differential `diff`.
//!
//! Each input row contributes one [`Accum`]: its group's row count (1) and
//! one [`AccState`] per accumulable aggregate, multiplied by the row's
//! multiplicity. Accumulators add, negate and scale by a multiplicity
//! exactly (see [`acc_state`](super::acc_state)), so retracting a row
//! restores the previous state and an emptied group accumulates to zero.
//!
//! The states live inline in the accumulator ([`States`]) for up to
//! [`INLINE_STATES`] aggregates, so creating, cloning, adding and dropping
//! an accumulator allocates nothing in the common case (counts, integer
//! sums, single-scale numeric sums); differential clones and adds diffs
//! many times per update while sorting, merging and reading arrangements.
//!
//! Memory: one accumulator per group in the arrangement of contributions
//! (once merged), [`INLINE_STATES`] × 24 bytes plus 16 whatever the
//! number of aggregates up to that.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use differential_dataflow::difference::{Abelian, IsZero, Monoid, Multiply, Semigroup};

use super::acc_state::AccState;
use crate::plan::Diff;

/// How many states an accumulator holds without a heap allocation.
pub(crate) const INLINE_STATES: usize = 6;

/// A sequence of states: inline up to [`INLINE_STATES`], on the heap
/// beyond. Unused inline slots hold the empty `count` state. Compares,
/// hashes and serializes as the slice of its states.
#[derive(Clone)]
pub(crate) enum States {
    /// At most [`INLINE_STATES`] states, the first `len` of `slots`.
    Inline {
        /// Number of states.
        len: u8,
        /// The states, then fillers.
        slots: [AccState; INLINE_STATES],
    },
    /// More states.
    Heap(Vec<AccState>),
}

impl States {
    /// No states.
    #[inline]
    pub fn new() -> States {
        States::Inline { len: 0, slots: Default::default() }
    }

    /// Appends a state.
    #[inline]
    pub fn push(&mut self, state: AccState) {
        match self {
            States::Inline { len, slots } if (*len as usize) < INLINE_STATES => {
                slots[*len as usize] = state;
                *len += 1;
            }
            States::Inline { len, slots } => {
                let mut v: Vec<AccState> = slots[..*len as usize].iter_mut().map(std::mem::take).collect();
                v.push(state);
                *self = States::Heap(v);
            }
            States::Heap(v) => v.push(state),
        }
    }

    /// Removes every state.
    #[inline]
    pub fn clear(&mut self) {
        *self = States::new();
    }

    /// Makes `self` a copy of `other`, reusing inline storage.
    #[inline]
    fn assign(&mut self, other: &States) {
        match (&mut *self, other) {
            (States::Inline { len, slots }, States::Inline { len: l2, slots: s2 }) => {
                for (a, b) in slots.iter_mut().zip(s2.iter()).take((*len).max(*l2) as usize) {
                    a.clone_from(b);
                }
                *len = *l2;
            }
            _ => *self = other.clone(),
        }
    }
}

impl Default for States {
    fn default() -> States {
        States::new()
    }
}

impl Deref for States {
    type Target = [AccState];
    #[inline]
    fn deref(&self) -> &[AccState] {
        match self {
            States::Inline { len, slots } => &slots[..*len as usize],
            States::Heap(v) => v,
        }
    }
}

impl DerefMut for States {
    #[inline]
    fn deref_mut(&mut self) -> &mut [AccState] {
        match self {
            States::Inline { len, slots } => &mut slots[..*len as usize],
            States::Heap(v) => v,
        }
    }
}

impl FromIterator<AccState> for States {
    fn from_iter<I: IntoIterator<Item = AccState>>(iter: I) -> States {
        let mut s = States::new();
        for state in iter {
            s.push(state);
        }
        s
    }
}

impl std::fmt::Debug for States {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for States {
    fn eq(&self, other: &States) -> bool {
        **self == **other
    }
}

impl Eq for States {}

impl PartialOrd for States {
    fn partial_cmp(&self, other: &States) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for States {
    fn cmp(&self, other: &States) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl Hash for States {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl Serialize for States {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for States {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<States, D::Error> {
        Ok(Vec::<AccState>::deserialize(d)?.into_iter().collect())
    }
}

/// A group's accumulated state: its row count and one state per
/// accumulable aggregate. The zero accumulator has no states.
#[derive(Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Accum {
    /// Rows in the group.
    pub rows: i64,
    /// Per-aggregate states (empty for the zero accumulator).
    pub states: States,
}

impl Clone for Accum {
    #[inline]
    fn clone(&self) -> Accum {
        Accum { rows: self.rows, states: self.states.clone() }
    }

    #[inline]
    fn clone_from(&mut self, source: &Accum) {
        self.rows = source.rows;
        self.states.assign(&source.states);
    }
}

impl IsZero for Accum {
    #[inline]
    fn is_zero(&self) -> bool {
        self.rows == 0 && self.states.iter().all(AccState::is_zero)
    }
}

impl Semigroup for Accum {
    #[inline]
    fn plus_equals(&mut self, rhs: &Accum) {
        self.rows = self.rows.wrapping_add(rhs.rows);
        if self.states.is_empty() {
            self.states.assign(&rhs.states);
        } else if !rhs.states.is_empty() {
            for (a, b) in self.states.iter_mut().zip(rhs.states.iter()) {
                a.plus_equals(b);
            }
        }
        if self.rows == 0 && !self.states.is_empty() && self.states.iter().all(AccState::is_zero) {
            self.states.clear();
        }
    }
}

impl Monoid for Accum {
    fn zero() -> Accum {
        Accum::default()
    }
}

impl Abelian for Accum {
    fn negate(&mut self) {
        self.rows = self.rows.wrapping_neg();
        for s in self.states.iter_mut() {
            s.scale(-1);
        }
    }
}

impl Multiply<Diff> for Accum {
    type Output = Accum;
    #[inline]
    fn multiply(mut self, rhs: &Diff) -> Accum {
        match *rhs {
            1 => self,
            0 => Accum::default(),
            by => {
                self.rows = self.rows.wrapping_mul(by);
                for s in self.states.iter_mut() {
                    s.scale(by);
                }
                self
            }
        }
    }
}
