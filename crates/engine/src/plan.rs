//! Facts about a definition that the engine looks up on every step, computed once per version
//! (durability.md §7: compile once) so a step costs the same in a 3-step and a 1,000-step run.

use hookflow_model::{ActionId, Branch, Definition};

#[derive(Debug, Clone)]
pub struct Plan {
    /// For each action, the actions whose `runAfter` names it.
    successors: Vec<Vec<ActionId>>,
    /// For each action, whether some action runs after it (leaves decide the run's status).
    has_successor: Vec<bool>,
    /// For each container, the actions directly inside it (every branch), in document order.
    children: Vec<Vec<ActionId>>,
}

impl Plan {
    pub fn new(definition: &Definition) -> Self {
        let mut successors = vec![Vec::new(); definition.actions.len()];
        let mut children = vec![Vec::new(); definition.actions.len()];
        for (index, action) in definition.actions.iter().enumerate() {
            for run_after in &action.run_after {
                successors[run_after.action.0 as usize].push(ActionId(index as u32));
            }
            if let Some(parent) = &action.parent {
                children[parent.container.0 as usize].push(ActionId(index as u32));
            }
        }
        let has_successor = successors.iter().map(|s| !s.is_empty()).collect();
        Self {
            successors,
            has_successor,
            children,
        }
    }

    pub fn successors(&self, id: ActionId) -> &[ActionId] {
        &self.successors[id.0 as usize]
    }

    pub fn is_leaf(&self, id: ActionId) -> bool {
        !self.has_successor[id.0 as usize]
    }

    /// The actions directly inside `container`, every branch together.
    pub fn children(&self, container: ActionId) -> &[ActionId] {
        &self.children[container.0 as usize]
    }

    /// The actions of one branch of `container` that run first (empty `runAfter`).
    pub(crate) fn branch_starts<'a>(
        &'a self,
        definition: &'a Definition,
        container: ActionId,
        branch: &'a Branch,
    ) -> impl Iterator<Item = ActionId> + 'a {
        self.branch(definition, container, branch)
            .filter(|&id| definition.action(id).run_after.is_empty())
    }

    /// The actions of one branch of `container`.
    pub(crate) fn branch<'a>(
        &'a self,
        definition: &'a Definition,
        container: ActionId,
        branch: &'a Branch,
    ) -> impl Iterator<Item = ActionId> + 'a {
        self.children(container).iter().copied().filter(move |&id| {
            definition
                .action(id)
                .parent
                .as_ref()
                .is_some_and(|p| &p.branch == branch)
        })
    }
}
