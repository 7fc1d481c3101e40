//! Table: an array of objects as a CSV or HTML table (logicapps-spec §6.17). Columns are the
//! keys of the first element, or `columns [{header, value}]` with `value` evaluated per element
//! (`item()`).

use super::{Finished, input_member, invalid_template, query::from_array};
use crate::{RunState, StepContext, scope::RunScope};
use hookflow_expr::to_text;
use hookflow_model::ActionId;
use serde_json::{Value, json};

pub(crate) fn start(state: &RunState, ctx: &StepContext<'_>, id: ActionId) -> Finished {
    let items = match from_array(state, ctx, id) {
        Ok(items) => items,
        Err(failed) => return failed,
    };
    let scope = RunScope::new(ctx, state, Some(id));
    let format = match input_member(ctx, id, "format").map(|f| f.eval(&scope)) {
        Some(Ok(Value::String(f))) => f,
        None => "CSV".to_owned(),
        Some(Ok(other)) => to_text(&other),
        Some(Err(error)) => return invalid_template(ctx, id, "inputs.format", error),
    };
    let (headers, rows) = match cells(state, ctx, id, &items) {
        Ok(table) => table,
        Err(failed) => return failed,
    };
    let body = if format.eq_ignore_ascii_case("HTML") {
        html(&headers, &rows)
    } else {
        csv(&headers, &rows)
    };
    Finished::succeeded(
        Some(json!({ "from": items, "format": format })),
        Some(json!({ "body": body })),
    )
}

type Cells = (Vec<String>, Vec<Vec<String>>);

fn cells(
    state: &RunState,
    ctx: &StepContext<'_>,
    id: ActionId,
    items: &[Value],
) -> Result<Cells, Finished> {
    let columns = input_member(ctx, id, "columns");
    let Some(columns) = columns else {
        let headers: Vec<String> = items
            .first()
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let rows = items
            .iter()
            .map(|item| {
                headers
                    .iter()
                    .map(|h| item.get(h).map(to_text).unwrap_or_default())
                    .collect()
            })
            .collect();
        return Ok((headers, rows));
    };
    // Each column's header and value are expressions; evaluated per element.
    let hookflow_expr::CompiledValue::Array(columns) = columns.into_owned() else {
        return Err(invalid_template(
            ctx,
            id,
            "inputs.columns",
            "columns must be an array of {header, value}",
        ));
    };
    let mut headers = Vec::new();
    let mut rows = vec![Vec::new(); items.len()];
    for column in &columns {
        let evaluated = column.eval(&RunScope::new(ctx, state, Some(id)));
        let header = match &evaluated {
            Ok(value) => value.get("header").map(to_text).unwrap_or_default(),
            Err(_) => String::new(),
        };
        headers.push(header);
        for (row, item) in rows.iter_mut().zip(items) {
            let scope = RunScope {
                item: Some(item),
                ..RunScope::new(ctx, state, Some(id))
            };
            let value = column
                .eval(&scope)
                .map_err(|e| invalid_template(ctx, id, "inputs.columns", e))?;
            row.push(value.get("value").map(to_text).unwrap_or_default());
        }
    }
    Ok((headers, rows))
}

fn csv(headers: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| {
        cells
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = line(headers);
    for row in rows {
        out.push_str("\r\n");
        out.push_str(&line(row));
    }
    out
}

fn html(headers: &[String], rows: &[Vec<String>]) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut out = String::from("<table><thead><tr>");
    for h in headers {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for c in row {
            out.push_str(&format!("<td>{}</td>", escape(c)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}
