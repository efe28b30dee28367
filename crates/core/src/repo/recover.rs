//! One definition read past its mistakes: every unknown key is reported,
//! not the first alone, with a hint when the model takes the key one level
//! deeper or higher (the usual cause, indentation), so one reading of a
//! file says all that is wrong in it.

use crate::diagnostic::{KeyPath, PathSeg};
use crate::parse::{DeError, DeErrorKind, Key, Node, NodeKind, from_node};

/// How many unknown keys one definition may have before reading it stops.
const MAX_UNKNOWN_KEYS: usize = 32;

/// Reads one definition, reporting every unknown key rather than the first
/// alone: each is dropped from a copy and the read retried, so a misspelt key
/// does not hide the definition's other mistakes — the rest of it then reaches
/// the compiler, which finds them. (The environment has errors either way, so
/// a definition read this way is never served.) Other mistakes end the read:
/// a wrong value cannot be dropped without inventing another problem.
pub(super) fn read_definition<T: serde::de::DeserializeOwned>(
    def: &Node,
) -> (Option<T>, Vec<DeError>) {
    let mut errors: Vec<DeError> = Vec::new();
    let mut repaired: Option<Node> = None;
    let value = loop {
        let node = repaired.as_ref().unwrap_or(def);
        match from_node(node) {
            Ok(value) => break Some(value),
            Err(e) if e.kind == DeErrorKind::UnknownKey && errors.len() < MAX_UNKNOWN_KEYS => {
                let path = e.path();
                errors.push(e);
                if !repaired.get_or_insert_with(|| def.clone()).remove(&path.0) {
                    break None;
                }
            }
            Err(e) => {
                // A complaint about a map an unknown key was dropped from (a
                // required key missing, "a condition needs `attr`…") most
                // often restates that key, misspelt, already reported with
                // its hint.
                // So does a missing key of the map above, named like an
                // unknown key found one level too deep (an indentation
                // mistake, hinted as such).
                let restated = |u: &DeError| {
                    let path = u.path();
                    parent(&path) == e.path()
                        || (e.kind == DeErrorKind::MissingKey
                            && parent(&parent(&path)) == e.path()
                            && matches!(path.0.last(), Some(PathSeg::Key(k))
                                if e.message == format!("missing required key `{k}`")))
                };
                if !errors.iter().any(restated) {
                    errors.push(e);
                }
                break None;
            }
        }
    };
    let base = repaired.as_ref().unwrap_or(def);
    for e in &mut errors {
        if e.kind == DeErrorKind::UnknownKey
            && let Some(hint) = placement_hint::<T>(def, base, &e.path())
        {
            e.hint = Some(hint);
        }
    }
    (value, errors)
}

/// For an unknown key that the model accepts one level deeper (under a key
/// beside it) or one level up (beside the key holding it), a hint saying
/// so: the usual cause is indentation (docs/flag-format.md, "Finding
/// mistakes"). Decided by reading probes through the model itself — `base`
/// (the definition without its unknown keys) with the map holding the key
/// replaced — so the hint cannot drift from what the model takes.
fn placement_hint<T: serde::de::DeserializeOwned>(
    def: &Node,
    base: &Node,
    path: &KeyPath,
) -> Option<String> {
    let (PathSeg::Key(name), parents) = path.0.split_last()? else {
        return None;
    };
    let parent_path = KeyPath(parents.to_vec());
    let NodeKind::Map(entries) = &def.lookup(&parent_path)?.kind else {
        return None;
    };
    let (key, value) = entries.iter().find(|(k, _)| k.name == *name)?;
    let map = |pos, entries| Node::new(pos, NodeKind::Map(entries));
    // `probe(at, as_name)`: does the map at `at` (made by `wrap`) take the
    // value under `as_name`? A map taking any name at all (variants, split
    // weights) proves nothing, so `name` must be taken and a name no model
    // has refused.
    let takes_exactly = |at: &KeyPath, wrap: &dyn Fn(Node) -> Node, target: &KeyPath| {
        let probe = |as_name: &str| {
            let mut probe = base.clone();
            let entry = Key {
                name: as_name.to_owned(),
                pos: key.pos,
            };
            *probe.lookup_mut(target)? = wrap(map(value.pos, vec![(entry, value.clone())]));
            Some(accepts::<T>(&probe, at, as_name))
        };
        probe(name) == Some(true) && probe(" not a key ") == Some(false)
    };
    // Deeper: the parent holding only `sibling: {name: value}`.
    for (sibling, sibling_value) in entries.iter().filter(|(k, _)| k.name != *name) {
        let wrap = |inner: Node| {
            let inner = Node::new(sibling_value.pos, inner.kind);
            map(sibling.pos, vec![(sibling.clone(), inner)])
        };
        if takes_exactly(&parent_path.key(sibling.name.clone()), &wrap, &parent_path) {
            return Some(format!(
                "`{name}` belongs under `{}:` — check its indentation",
                sibling.name
            ));
        }
    }
    // Shallower: the grandparent holding only `name: value`.
    if let Some((PathSeg::Key(holder), grand)) = parents.split_last() {
        let grand_path = KeyPath(grand.to_vec());
        if takes_exactly(&grand_path, &|inner| inner, &grand_path) {
            return Some(format!(
                "`{name}` belongs beside `{holder}:`, one level up — check its indentation"
            ));
        }
    }
    None
}

/// Whether reading `probe` took `name` as a key of the map at `at`. Keys are
/// read in order and missing keys reported after the last, so an error
/// beneath `at.name`, or a missing key of `at` or a map above it, means
/// `name` was accepted; any other error decides nothing (no hint).
fn accepts<T: serde::de::DeserializeOwned>(probe: &Node, at: &KeyPath, name: &str) -> bool {
    let Err(e) = from_node::<T>(probe) else {
        return true;
    };
    let path = e.path();
    let under_key = at.key(name.to_owned());
    match e.kind {
        DeErrorKind::MissingKey => at.0.starts_with(&path.0),
        DeErrorKind::UnknownKey => path.0.starts_with(&under_key.0) && path != under_key,
        DeErrorKind::Other => path.0.starts_with(&under_key.0),
    }
}

/// The path of the map or list holding `path`'s last segment.
pub(super) fn parent(path: &KeyPath) -> KeyPath {
    let mut parent = path.clone();
    parent.0.pop();
    parent
}
