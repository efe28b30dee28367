//! Compiled conditions: a condition tree flattened into a list of tests.
//!
//! A condition as written is a tree: `all`, `any` and `not` around attribute
//! tests, segment references and time windows. Evaluated as a tree, every
//! level costs a recursive call, a match and an iterator, which for the few
//! tests a rule holds cost more than the tests themselves
//! (docs/performance.md, "Evaluation in process"). Compiled, the tree becomes its tests in
//! written order ("steps"), each saying where to go when it holds and when it
//! does not: a later step, or the answer. `not` swaps a subtree's answers,
//! `all` chains its items on "holds", `any` on "does not hold". Evaluation
//! (`eval::cond`) is then one loop that visits the same tests, in the same
//! order, stopping where the tree would have stopped.
//!
//! Every jump goes forward, so the loop ends within as many iterations as
//! there are steps.

use super::{AttrKey, AttrTest, SegmentId, TimeRange};

/// Where to go after a step: the index of a later step, or an answer.
pub(crate) type Next = u32;

/// The condition holds.
pub(crate) const TRUE: Next = u32::MAX;
/// The condition does not hold.
pub(crate) const FALSE: Next = u32::MAX - 1;

/// A compiled condition: its tests in written order, with jumps that
/// short-circuit as `all`, `any` and `not` do.
#[derive(Debug)]
pub struct Cond {
    /// Never empty; evaluation starts at the first.
    pub(crate) steps: Box<[Step]>,
}

/// One test and where to go after it.
#[derive(Debug)]
pub(crate) struct Step {
    /// What is tested.
    pub(crate) leaf: Leaf,
    /// The next step when the test holds.
    pub(crate) then: Next,
    /// The next step when it does not.
    pub(crate) otherwise: Next,
}

/// A test without sub-conditions.
#[derive(Debug)]
pub(crate) enum Leaf {
    /// A test on one attribute.
    Attr {
        /// The attribute, its name fingerprinted for lookups.
        attr: AttrKey,
        /// What the attribute's value must satisfy, operands compiled.
        test: AttrTest,
    },
    /// Segment membership.
    Segment(SegmentId),
    /// Evaluation time in `[after, before)`.
    Time(TimeRange),
}

impl Cond {
    fn leaf(leaf: Leaf) -> Cond {
        Cond {
            steps: Box::new([Step {
                leaf,
                then: TRUE,
                otherwise: FALSE,
            }]),
        }
    }

    /// A test on one attribute.
    pub(crate) fn attr(attr: AttrKey, test: AttrTest) -> Cond {
        Cond::leaf(Leaf::Attr { attr, test })
    }

    /// Membership of a segment.
    pub(crate) fn segment(id: SegmentId) -> Cond {
        Cond::leaf(Leaf::Segment(id))
    }

    /// The evaluation time inside `range`.
    pub(crate) fn time(range: TimeRange) -> Cond {
        Cond::leaf(Leaf::Time(range))
    }

    /// Holds when `inner` does not: its answers swapped.
    pub(crate) fn not(inner: Cond) -> Cond {
        let mut steps = inner.steps;
        for step in &mut steps {
            for next in [&mut step.then, &mut step.otherwise] {
                *next = match *next {
                    TRUE => FALSE,
                    FALSE => TRUE,
                    at => at,
                };
            }
        }
        Cond { steps }
    }

    /// Holds when every item does: each item's "holds" leads to the next.
    /// Without items, it always holds.
    pub(crate) fn all(items: Vec<Cond>) -> Cond {
        Cond::chain(items, TRUE)
    }

    /// Holds when any item does: each item's "does not hold" leads to the next.
    /// Without items, it never holds.
    pub(crate) fn any(items: Vec<Cond>) -> Cond {
        Cond::chain(items, FALSE)
    }

    /// The items one after another, an item's answer `on` leading to the next
    /// item's first step (the last item's answers stand).
    fn chain(items: Vec<Cond>, on: Next) -> Cond {
        if items.is_empty() {
            // No step to hold the answer: an unbounded time window always
            // holds. The compiler rejects empty lists; this keeps the
            // constructor total.
            let always = Cond::time(TimeRange {
                after: None,
                before: None,
            });
            return if on == TRUE {
                always
            } else {
                Cond::not(always)
            };
        }
        let count = items.len();
        let mut steps = Vec::with_capacity(items.iter().map(|c| c.steps.len()).sum());
        for (i, item) in items.into_iter().enumerate() {
            let base = steps.len() as Next;
            let following = base + item.steps.len() as Next;
            let last = i + 1 == count;
            for mut step in item.steps.into_vec() {
                for next in [&mut step.then, &mut step.otherwise] {
                    *next = match *next {
                        answer if answer == on && !last => following,
                        TRUE => TRUE,
                        FALSE => FALSE,
                        at => at + base,
                    };
                }
                steps.push(step);
            }
        }
        Cond {
            steps: steps.into_boxed_slice(),
        }
    }
}
