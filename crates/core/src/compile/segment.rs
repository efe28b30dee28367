//! Segments: keys and conditions, and the check that no segment refers to
//! itself (which would make evaluation loop).

use super::{Compiler, check_key};
use crate::diagnostic::KeyPath;
use crate::model::{Condition, Segment};
use crate::ruleset::{CompiledSegment, StrSet};

impl Compiler<'_> {
    /// Compiles every segment, in definition order (ids follow that order).
    pub(super) fn segments(&mut self) -> Vec<CompiledSegment> {
        let model = self.model;
        self.check_cycles();
        model
            .segments
            .iter()
            .map(|(name, seg)| self.segment(name, seg))
            .collect()
    }

    /// Warns about segments nothing refers to: usually a typo elsewhere or a
    /// leftover after a launch.
    pub(super) fn warn_unused_segments(&mut self) {
        let model = self.model;
        let mut used: Vec<&str> = Vec::new();
        for flag in model.flags.values() {
            for rule in &flag.rules {
                referenced_segments(&rule.when, &mut used);
            }
            if let Some(names) = flag.rollout.as_ref().and_then(|r| r.segments.as_ref()) {
                used.extend(names.iter().map(String::as_str));
            }
        }
        for seg in model.segments.values() {
            if let Some(c) = &seg.when {
                referenced_segments(c, &mut used);
            }
        }
        for name in model.segments.keys() {
            if !used.contains(&name.as_str()) {
                self.warning(
                    KeyPath::root().key("segments").key(name),
                    format!("segment `{name}` is not used by any flag of this environment"),
                );
            }
        }
    }

    fn segment(&mut self, name: &str, seg: &Segment) -> CompiledSegment {
        let path = KeyPath::root().key("segments").key(name);
        if let Err(msg) = check_key("segment key", name) {
            self.error(path.clone(), msg);
        }
        if seg.when.is_none() && seg.keys.is_none() {
            self.error(path.clone(), "a segment needs `when`, `keys` or both");
        }
        let keys = seg.keys.clone().unwrap_or_default();
        for (i, k) in keys.iter().enumerate() {
            if k.is_empty() {
                self.error(path.key("keys").index(i), "keys cannot be empty strings");
            }
        }
        let when = seg
            .when
            .as_ref()
            .and_then(|c| self.condition(c, &path.key("when")));
        CompiledSegment {
            name: name.into(),
            keys: StrSet::new(keys.into_iter().map(String::into_boxed_str).collect()),
            when,
        }
    }

    /// Reports each segment that reaches itself through `segment:` references.
    fn check_cycles(&mut self) {
        let model = self.model;
        let edges: Vec<Vec<usize>> = model
            .segments
            .values()
            .map(|s| {
                let mut names = Vec::new();
                if let Some(c) = &s.when {
                    referenced_segments(c, &mut names);
                }
                names
                    .iter()
                    .filter_map(|n| model.segments.get_index_of(*n))
                    .collect()
            })
            .collect();
        for start in 0..edges.len() {
            if let Some(cycle) = find_cycle(start, &edges) {
                let names: Vec<&str> = cycle
                    .iter()
                    .map(|&i| model.segments.get_index(i).map_or("?", |(k, _)| k.as_str()))
                    .collect();
                let (name, _) = model
                    .segments
                    .get_index(start)
                    .expect("index from enumeration");
                self.error(
                    KeyPath::root().key("segments").key(name).key("when"),
                    format!("segment `{name}` refers to itself: {}", names.join(" → ")),
                );
            }
        }
    }
}

/// The segment names a condition mentions.
pub(crate) fn referenced_segments<'c>(cond: &'c Condition, out: &mut Vec<&'c str>) {
    match cond {
        Condition::Segment(s) => out.push(s),
        Condition::All(items) | Condition::Any(items) => {
            for c in items {
                referenced_segments(c, out);
            }
        }
        Condition::Not(c) => referenced_segments(c, out),
        Condition::Attr(_) | Condition::Time(_) | Condition::Percentage(_) | Condition::Flag(_) => {
        }
    }
}

/// A path from `start` back to itself, if there is one (iterative DFS).
pub(super) fn find_cycle(start: usize, edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    let mut stack = vec![(start, 0usize)];
    let mut on_path = vec![start];
    let mut visited = vec![false; edges.len()];
    visited[start] = true;
    while let Some((node, next)) = stack.last_mut() {
        let node = *node;
        if let Some(&succ) = edges[node].get(*next) {
            *next += 1;
            if succ == start {
                on_path.push(start);
                return Some(on_path);
            }
            if !visited[succ] {
                visited[succ] = true;
                stack.push((succ, 0));
                on_path.push(succ);
            }
        } else {
            stack.pop();
            on_path.pop();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_cycle;

    #[test]
    fn cycles() {
        let edges = vec![vec![1], vec![2], vec![0], vec![]];
        assert_eq!(find_cycle(0, &edges), Some(vec![0, 1, 2, 0]));
        assert_eq!(find_cycle(3, &edges), None);
        let self_loop = vec![vec![0]];
        assert_eq!(find_cycle(0, &self_loop), Some(vec![0, 0]));
    }
}
