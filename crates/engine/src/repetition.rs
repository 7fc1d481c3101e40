//! Repetitions: which iteration of its enclosing loops an action execution belongs to.
//!
//! An action inside Foreach/Until runs once per iteration, so its state is keyed by
//! `(ActionId, Repetition)`, the repetition being the loop indexes of its enclosing loops,
//! outermost first (`[]` outside loops, `[3]`, `[1, 4]` nested).
//!
//! Two text forms exist. The *canonical text* (`""`, `"000003"`, `"000001-000004"`) is what the
//! store keeps beside the action name; it sorts like the indexes. The *key text* names one
//! execution where a single string is all there is — effects, events, waits and callback URLs:
//! the action name alone outside loops, `Name#000003` inside. An event's key text is read back
//! by trying the whole text as an action name first, so names containing `#` keep working
//! outside loops.

use hookflow_model::{ActionId, Definition};
use std::fmt;

/// The loop indexes of one action execution, outermost loop first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repetition(pub Vec<u32>);

impl Repetition {
    /// No enclosing loop.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The repetition of an action one loop deeper, at iteration `index`.
    pub fn child(&self, index: u32) -> Self {
        let mut indexes = self.0.clone();
        indexes.push(index);
        Self(indexes)
    }

    /// The first `depth` indexes (the repetition of an enclosing action).
    pub fn truncated(&self, depth: usize) -> Self {
        Self(self.0[..depth.min(self.0.len())].to_vec())
    }

    /// Canonical text: six-digit indexes joined by `-`; `""` for none.
    pub fn text(&self) -> String {
        self.to_string()
    }

    /// Reads the canonical text back; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() {
            return Some(Self::none());
        }
        text.split('-')
            .map(|part| {
                (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| part.parse::<u32>().ok())
                    .flatten()
            })
            .collect::<Option<Vec<_>>>()
            .map(Self)
    }
}

impl fmt::Display for Repetition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, index) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            write!(f, "{index:06}")?;
        }
        Ok(())
    }
}

/// One action execution: an action and the iteration it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionKey {
    pub id: ActionId,
    pub repetition: Repetition,
}

impl ActionKey {
    pub fn new(id: ActionId, repetition: Repetition) -> Self {
        Self { id, repetition }
    }

    /// The key text: the action's name, `#` and the canonical repetition inside loops.
    pub fn text(&self, definition: &Definition) -> String {
        let name = &definition.action(self.id).name;
        if self.repetition.is_empty() {
            name.clone()
        } else {
            format!("{name}#{}", self.repetition)
        }
    }

    /// Reads a key text back (see the module docs); `None` when it names no action.
    pub fn parse(definition: &Definition, text: &str) -> Option<Self> {
        if let Some(id) = definition.action_id(text) {
            return Some(Self::new(id, Repetition::none()));
        }
        let (name, repetition) = text.rsplit_once('#')?;
        let id = definition.action_id(name)?;
        let repetition = Repetition::parse(repetition).filter(|r| !r.is_empty())?;
        Some(Self::new(id, repetition))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_round_trips() {
        for indexes in [vec![], vec![3], vec![1, 4], vec![999_999, 0]] {
            let repetition = Repetition(indexes);
            assert_eq!(Repetition::parse(&repetition.text()), Some(repetition));
        }
        assert_eq!(Repetition(vec![1, 4]).text(), "000001-000004");
        assert_eq!(Repetition::parse("1--2"), None);
        assert_eq!(Repetition::parse("x"), None);
    }
}
