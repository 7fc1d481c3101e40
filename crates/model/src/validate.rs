//! The checks that need the whole definition: runAfter names resolved to sibling actions,
//! cycles among them, and the names expressions refer to (actions, parameters) and where
//! `listCallbackUrl()` appears.

use crate::parse::{Arena, Callback, CompiledSite, Ctx, Path};
use crate::{ParameterDef, RunAfter};
use hookflow_expr::{CompiledValue, Expr, Segment, Template};

/// Runs every whole-definition check, filling `Action::run_after` as names resolve.
pub(crate) fn check(ctx: &mut Ctx, arena: &mut Arena, parameters: &[ParameterDef]) {
    resolve_run_after(ctx, arena);
    check_cycles(ctx, arena);
    let sites = std::mem::take(&mut ctx.sites);
    for site in &sites {
        check_site(ctx, site, arena, parameters);
    }
}

/// `runAfter` may only name actions in the same container and branch (spec §5.2).
fn resolve_run_after(ctx: &mut Ctx, arena: &mut Arena) {
    for index in 0..arena.actions.len() {
        let mut resolved = Vec::new();
        for pending in &arena.meta[index].run_after {
            let Some(&target) = arena.names.get(&pending.name.to_ascii_lowercase()) else {
                ctx.error(&pending.path, "no such action");
                continue;
            };
            let here = &arena.actions[index].parent;
            let there = &arena.actions[target.0 as usize].parent;
            if here != there {
                let location = match there {
                    None => "at the top level".to_owned(),
                    Some(parent) => format!(
                        "inside '{}'",
                        arena.actions[parent.container.0 as usize].name
                    ),
                };
                ctx.error(
                    &pending.path,
                    format!(
                        "action '{}' is in another container ({location}); runAfter can only name actions in the same container",
                        pending.name
                    ),
                );
                continue;
            }
            resolved.push(RunAfter {
                action: target,
                statuses: pending.statuses,
            });
        }
        arena.actions[index].run_after = resolved;
    }
}

/// Reports every strongly connected set of actions (Tarjan), and self-references, as a cycle.
fn check_cycles(ctx: &mut Ctx, arena: &Arena) {
    let count = arena.actions.len();
    // successors[p] = actions that run after p.
    let mut successors = vec![Vec::new(); count];
    for (index, action) in arena.actions.iter().enumerate() {
        for run_after in &action.run_after {
            successors[run_after.action.0 as usize].push(index);
        }
    }
    for component in strongly_connected(&successors) {
        let self_loop = component.len() == 1 && successors[component[0]].contains(&component[0]);
        if component.len() < 2 && !self_loop {
            continue;
        }
        let mut members = component;
        members.sort_unstable();
        let names: Vec<String> = members
            .iter()
            .map(|&i| format!("'{}'", arena.actions[i].name))
            .collect();
        let message = if self_loop {
            format!("action {} runs after itself", names[0])
        } else {
            format!("runAfter cycle among actions {}", names.join(", "))
        };
        ctx.error(&arena.meta[members[0]].path.key("runAfter"), message);
    }
}

/// Tarjan's algorithm, iterative so a long runAfter chain cannot exhaust the stack.
fn strongly_connected(successors: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let count = successors.len();
    let mut index = vec![UNSEEN; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut components = Vec::new();
    for root in 0..count {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, position of the next successor to visit)
        let mut work = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut next)) = work.last_mut() {
            if let Some(&succ) = successors[node].get(*next) {
                *next += 1;
                if index[succ] == UNSEEN {
                    index[succ] = next_index;
                    low[succ] = next_index;
                    next_index += 1;
                    stack.push(succ);
                    on_stack[succ] = true;
                    work.push((succ, 0));
                } else if on_stack[succ] {
                    low[node] = low[node].min(index[succ]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// Checks every expression of one compiled value.
fn check_site(ctx: &mut Ctx, site: &CompiledSite, arena: &Arena, parameters: &[ParameterDef]) {
    let mut check = |ctx: &mut Ctx, expr: &Expr, path: &Path| {
        for name in expr.referenced_actions() {
            if !arena.names.contains_key(&name.to_ascii_lowercase()) {
                ctx.error(
                    path,
                    format!("the expression refers to action '{name}', which does not exist"),
                );
            }
        }
        let functions = expr.functions_called();
        if site.callback == Callback::Forbidden && functions.iter().any(|f| f == "listcallbackurl")
        {
            ctx.error(path, "listCallbackUrl() is only available in the inputs of an HttpWebhook trigger or action");
        }
        if functions.iter().any(|f| f == "parameters") {
            for name in literal_parameter_names(expr.source()) {
                if !parameters
                    .iter()
                    .any(|p| p.name.eq_ignore_ascii_case(&name))
                {
                    ctx.error(
                        path,
                        format!(
                            "the expression refers to parameter '{name}', which is not declared"
                        ),
                    );
                }
            }
        }
    };
    walk(ctx, &site.value, &site.path, &mut check);
}

type Check<'a> = dyn FnMut(&mut Ctx, &Expr, &Path) + 'a;

/// Calls `check` on every expression in `value`, with the path of the string holding it.
fn walk(ctx: &mut Ctx, value: &CompiledValue, path: &Path, check: &mut Check<'_>) {
    match value {
        CompiledValue::Constant(_) => {}
        CompiledValue::Template(template) => template_exprs(ctx, template, path, check),
        CompiledValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(ctx, item, &path.index(i), check);
            }
        }
        CompiledValue::Object(entries) => {
            for (key, item) in entries {
                // An expression key (errata E11) is reported at its object.
                template_exprs(ctx, key, path, check);
                walk(ctx, item, &path.key(&key_text(key)), check);
            }
        }
    }
}

fn template_exprs(ctx: &mut Ctx, template: &Template, path: &Path, check: &mut Check<'_>) {
    match template {
        Template::Literal(_) => {}
        Template::Whole(expr) => check(ctx, expr, path),
        Template::Interpolated(segments) => {
            for segment in segments {
                if let Segment::Expr(expr) = segment {
                    check(ctx, expr, path);
                }
            }
        }
    }
}

/// The key as written, near enough for a path.
fn key_text(key: &Template) -> String {
    match key {
        Template::Literal(text) => text.clone(),
        Template::Whole(expr) => format!("@{}", expr.source()),
        Template::Interpolated(segments) => segments
            .iter()
            .map(|segment| match segment {
                Segment::Text(text) => text.clone(),
                Segment::Expr(expr) => format!("@{{{}}}", expr.source()),
            })
            .collect(),
    }
}

/// Names given as a string literal to `parameters(...)` in expression text:
/// `parameters('apiKey')` → `apiKey`. `hookflow-expr` exposes no call arguments, so this is a
/// small scan of the source that skips string literals; computed names are not checked.
fn literal_parameter_names(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i = read_string(&chars, i).1;
            continue;
        }
        if !(c.is_alphabetic() || c == '_') {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let ident: String = chars[start..i].iter().collect();
        let after_dot = start > 0 && matches!(chars[start - 1], '.' | '?');
        if after_dot || !ident.eq_ignore_ascii_case("parameters") {
            continue;
        }
        let open = skip_spaces(&chars, i);
        if chars.get(open) != Some(&'(') {
            continue;
        }
        let quote = skip_spaces(&chars, open + 1);
        if chars.get(quote) != Some(&'\'') {
            continue;
        }
        let (literal, end) = read_string(&chars, quote);
        if chars.get(skip_spaces(&chars, end)) == Some(&')') {
            names.push(literal);
        }
        i = end;
    }
    names
}

/// The string literal starting at the quote at `start` (`''` is a quote), and the index after it.
fn read_string(chars: &[char], start: usize) -> (String, usize) {
    let mut text = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                text.push('\'');
                i += 2;
                continue;
            }
            return (text, i + 1);
        }
        text.push(chars[i]);
        i += 1;
    }
    (text, i)
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::literal_parameter_names;

    #[test]
    fn parameter_names_in_source() {
        assert_eq!(literal_parameter_names("parameters('a')"), ["a"]);
        assert_eq!(
            literal_parameter_names("concat(parameters( 'it''s' ), PARAMETERS('b'))"),
            ["it's", "b"]
        );
        assert!(
            literal_parameter_names("concat('parameters(''x'')', parameters(variables('n')))")
                .is_empty()
        );
        assert!(literal_parameter_names("triggerBody()?.parameters").is_empty());
    }
}
