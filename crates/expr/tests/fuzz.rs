//! A bounded, deterministic fuzz loop: random sequences of expression tokens, random calls and
//! random nested expressions over the whole function table must parse and evaluate without
//! panicking (errors are fine). The PRNG is a few lines of xorshift so the test needs no
//! dependency and every failure is reproducible from its seed and iteration number. Runs in CI;
//! the loop counts keep it to a few seconds in a debug build.

mod common;

use common::TestScope;
use hookflow_expr::{parse_expr, parse_template};

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "?",
    "?.",
    "?[",
    "'",
    "''",
    "'a'",
    "'é😀'",
    "@",
    "@{",
    "}",
    "@@",
    " ",
    "-",
    "0",
    "1",
    "-1",
    "2.5",
    "1e400",
    "9223372036854775807",
    "-9223372036854775808",
    "true",
    "null",
    "x",
    "concat(",
    "substring(",
    "slice(",
    "split(",
    "indexOf(",
    "nthIndexOf(",
    "add(",
    "div(",
    "mod(",
    "mul(",
    "sub(",
    "range(",
    "createArray(",
    "json(",
    "'{\"a\":[1]}'",
    "triggerBody()",
    "body(",
    "'Get_Order'",
    "variables(",
    "'list'",
    "parameters(",
    "if(",
    "and(",
    "or(",
    "coalesce(",
    "equals(",
    "first(",
    "last(",
    "skip(",
    "take(",
    "union(",
    "intersection(",
    "sort(",
    "chunk(",
    "formatDateTime(",
    "'2018-03-15T13:00:00Z'",
    "'yyyy MMMM dddd fffffff'",
    "parseDateTime(",
    "'fr-FR'",
    "formatNumber(",
    "'#,##0.00;(0)'",
    "'E5'",
    "addToTime(",
    "'Month'",
    "convertTimeZone(",
    "'UTC'",
    "'Pacific Standard Time'",
    "dateDifference(",
    "ticks(",
    "base64ToString(",
    "'%%'",
    "uriHost(",
    "'http://[::1]:x'",
    "decimal(",
    "'1.5'",
    "guid(",
    "'X'",
    "rand(",
    "min(",
    "max(",
    "setProperty(",
    "removeProperty(",
    "string(",
    "int(",
    "float(",
    "bool(",
    "length(",
    "utcNow(",
    "'o'",
];

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_token_soup_never_panics() {
    let scope = TestScope::default();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = (rng.next() % 24) as usize;
        let text: String = (0..len)
            .map(|_| TOKENS[(rng.next() % TOKENS.len() as u64) as usize])
            .collect();
        if let Ok(expr) = parse_expr(&text) {
            let _ = expr.eval(&scope);
        }
        if let Ok(template) = parse_template(&text) {
            let _ = template.eval(&scope);
        }
    }
}

/// Well-formed calls with random arguments reach deeper into the functions than token soup.
#[test]
fn random_calls_never_panic() {
    let names = hookflow_expr::function_names();
    let args = [
        "''",
        "'abc'",
        "'2018-03-15T13:00:00Z'",
        "0",
        "-1",
        "3",
        "2.5",
        "-9223372036854775808",
        "9223372036854775807",
        "null",
        "true",
        "createArray(1, 'a')",
        "json('{\"a\":1}')",
        "'Day'",
        "'N2'",
        "'http://h:1/p?q'",
        "'0,0.00'",
        "'dd/MM/yyyy'",
        "'de-DE'",
        "decimal('79228162514264337593543950335')",
        "'UTC'",
    ];
    let scope = TestScope::default();
    let mut rng = XorShift(42);
    for _ in 0..20_000 {
        let name = names[(rng.next() % names.len() as u64) as usize];
        let n = (rng.next() % 5) as usize;
        let list: Vec<&str> = (0..n)
            .map(|_| args[(rng.next() % args.len() as u64) as usize])
            .collect();
        if let Ok(expr) = parse_expr(&format!("{name}({})", list.join(", "))) {
            let _ = expr.eval(&scope);
        }
    }
}

/// Leaves of every type the functions take: text in the shapes they parse (timestamps, formats,
/// XML, JSON, base64, data URIs, URIs, XPath), numbers at the edges, structures, binary.
const LEAVES: &[&str] = &[
    "''",
    "'abc'",
    "'é😀'",
    "'2018-03-15T13:00:00Z'",
    "'03/15/2018 12:00:00'",
    "'yyyy-MM-dd HH:mm:ss.fffffff zzz'",
    "'D'",
    "'#,##0.00;(0)'",
    "'C2'",
    "'fr-FR'",
    "'Day'",
    "'Pacific Standard Time'",
    "'<a x=\"1\"><b>1</b><b>2</b><!--c--></a>'",
    "'<r xmlns=\"u\"><p:x xmlns:p=\"v\"/></r>'",
    "'//b'",
    "'sum(//b) div count(//*)'",
    "'/a/b[last()]/@x'",
    "'{\"a\":[1,{\"b\":null}]}'",
    "'[1,2'",
    "'aGVsbG8='",
    "'data:text/plain;base64,aGk='",
    "'data:,a%20b'",
    "'https://u@h:8080/p?q=1#f'",
    "'a=1&b=2'",
    "0",
    "-1",
    "3",
    "2.5",
    "1e308",
    "-9223372036854775808",
    "9223372036854775807",
    "null",
    "true",
    "false",
    "[1, 'a', null]",
    "createArray()",
    "json('{\"a\":{\"b\":[1,2]},\"@x\":\"y\"}')",
    "binary('xyz')",
    "xml('<a><b>1</b></a>')",
    "decimal('79228162514264337593543950335')",
    "triggerBody()",
    "triggerOutputs()",
    "variables('list')",
    "parameters('age')",
    "body('Get_Order')",
    "item()",
    "utcNow()",
];

const ACCESSORS: &[&str] = &["", "", "", ".a", "?.b", "[0]", "?[1]", "['x']", "?['kind']"];

/// A random expression: a leaf, or a call to any function in the table with a random number of
/// random arguments (usually within its arity), maybe followed by a member access.
fn random_expression(rng: &mut XorShift, names: &[&str], depth: u32, out: &mut String) {
    if depth == 0 || rng.next().is_multiple_of(4) {
        out.push_str(LEAVES[(rng.next() % LEAVES.len() as u64) as usize]);
        return;
    }
    let name = names[(rng.next() % names.len() as u64) as usize];
    let count = match hookflow_expr::function_info(name) {
        Some(info) if !rng.next().is_multiple_of(16) => {
            let max = info.max_args.unwrap_or(info.min_args + 3);
            info.min_args + (rng.next() % (max - info.min_args + 1) as u64) as usize
        }
        _ => (rng.next() % 5) as usize,
    };
    out.push_str(name);
    out.push('(');
    for i in 0..count {
        if i > 0 {
            out.push_str(", ");
        }
        random_expression(rng, names, depth - 1, out);
    }
    out.push(')');
    out.push_str(ACCESSORS[(rng.next() % ACCESSORS.len() as u64) as usize]);
}

#[test]
fn random_nested_expressions_never_panic() {
    let names = hookflow_expr::function_names();
    let scope = TestScope::default();
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
    let mut evaluated = 0;
    for _ in 0..100_000 {
        let mut text = String::new();
        random_expression(&mut rng, &names, 4, &mut text);
        if let Ok(expr) = parse_expr(&text) {
            evaluated += 1;
            let _ = expr.eval(&scope);
        }
    }
    // Most generated expressions are well-formed, so the evaluator (not just the parser) is
    // what this exercises.
    assert!(evaluated > 60_000, "only {evaluated} expressions parsed");
}

/// XPath text comes from data too: random token sequences against a small document.
#[test]
fn random_xpath_never_panics() {
    const XPATH_TOKENS: &[&str] = &[
        "/",
        "//",
        "a",
        "b",
        "*",
        "@x",
        "@*",
        ".",
        "..",
        "[",
        "]",
        "(",
        ")",
        "1",
        "2.5",
        "'s'",
        "=",
        "!=",
        "<",
        ">=",
        "+",
        "-",
        " div ",
        " mod ",
        " and ",
        " or ",
        "|",
        ",",
        "text()",
        "node()",
        "count(",
        "sum(",
        "last()",
        "position()",
        "name(",
        "substring(",
        "concat(",
        "string(",
        "number(",
        "translate(",
        "child::",
        "ancestor::",
        "following::",
        "preceding-sibling::",
        "attribute::",
        "p:",
        "comment()",
        "processing-instruction(",
    ];
    let scope = TestScope::default();
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let doc = "'<a x=\"1\"><b>1</b><b x=\"2\">2<c/></b><!--k--><?pi v?></a>'";
    for _ in 0..20_000 {
        let len = 1 + (rng.next() % 12) as usize;
        let xpath: String = (0..len)
            .map(|_| XPATH_TOKENS[(rng.next() % XPATH_TOKENS.len() as u64) as usize])
            .collect::<String>()
            .replace('\'', "''");
        if let Ok(expr) = parse_expr(&format!("xpath({doc}, '{xpath}')")) {
            let _ = expr.eval(&scope);
        }
    }
}
