//! XPath 1.0 grammar by recursive descent, with a nesting bound (the text may come from a
//! variable, so its size is not limited by the expression limit).

use super::lexer::Token;
use crate::Error;

const MAX_DEPTH: usize = 64;

/// Operators in one expression. A chain `1+1+1+...` nests to the left without recursing in the
/// parser, but evaluating (and dropping) it recurses once per operator.
const MAX_OPERATORS: usize = 512;

#[derive(Debug)]
pub(super) enum Expr {
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    Literal(String),
    Number(f64),
    Call(String, Vec<Expr>),
    /// `start` then `steps`; a filter start is `(primary)[predicates]`.
    Path(Start, Vec<Step>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum BinOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug)]
pub(super) enum Start {
    Root,
    Context,
    Filter(Box<Expr>, Vec<Expr>),
}

#[derive(Debug)]
pub(super) struct Step {
    pub axis: Axis,
    pub test: NodeTest,
    pub predicates: Vec<Expr>,
}

/// Axes; the reverse ones (ancestor, preceding...) are walked nearest-first, which is also
/// the order their predicates count positions in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Axis {
    Child,
    Descendant,
    DescendantOrSelf,
    Parent,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
    Following,
    Preceding,
    Attribute,
    /// `self::`.
    Itself,
}

#[derive(Debug)]
pub(super) enum NodeTest {
    /// `name` or `p:name` (prefix as written).
    Name(Option<String>, String),
    /// `*` or `p:*`.
    Any(Option<String>),
    Node,
    Text,
    Comment,
    Pi(Option<String>),
}

pub(super) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    operators: usize,
}

fn err(message: impl Into<String>) -> Error {
    Error::invalid(format!("the XPath is not valid: {}", message.into()))
}

impl Parser {
    pub fn new(tokens: Vec<Token>) -> Self {
        Parser {
            tokens,
            pos: 0,
            depth: 0,
            operators: 0,
        }
    }

    pub fn parse(mut self) -> Result<Expr, Error> {
        let expr = self.or_expr()?;
        match self.peek() {
            None => Ok(expr),
            Some(t) => Err(err(format!("unexpected {t:?}"))),
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.pos + n)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn require(&mut self, token: &Token) -> Result<(), Error> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(err(format!("expected {token:?}")))
        }
    }

    fn eat_name(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Token::Name(n)) if n == name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::limit(format!(
                "the XPath is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(())
    }

    fn operator(&mut self) -> Result<(), Error> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(Error::limit(format!(
                "the XPath has more than {MAX_OPERATORS} operators"
            )));
        }
        Ok(())
    }

    pub fn or_expr(&mut self) -> Result<Expr, Error> {
        self.enter()?;
        let mut left = self.and_expr()?;
        while self.eat_name("or") {
            self.operator()?;
            left = Expr::Binary(BinOp::Or, Box::new(left), Box::new(self.and_expr()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, Error> {
        let mut left = self.equality()?;
        while self.eat_name("and") {
            self.operator()?;
            left = Expr::Binary(BinOp::And, Box::new(left), Box::new(self.equality()?));
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, Error> {
        let mut left = self.relational()?;
        loop {
            let op = match self.peek() {
                Some(Token::Eq) => BinOp::Eq,
                Some(Token::NotEq) => BinOp::NotEq,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.operator()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.relational()?));
        }
    }

    fn relational(&mut self) -> Result<Expr, Error> {
        let mut left = self.additive()?;
        loop {
            let op = match self.peek() {
                Some(Token::Lt) => BinOp::Lt,
                Some(Token::LtEq) => BinOp::LtEq,
                Some(Token::Gt) => BinOp::Gt,
                Some(Token::GtEq) => BinOp::GtEq,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.operator()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.additive()?));
        }
    }

    fn additive(&mut self) -> Result<Expr, Error> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Some(Token::Plus) => BinOp::Add,
                Some(Token::Minus) => BinOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.operator()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, Error> {
        let mut left = self.unary()?;
        loop {
            // After an operand, `*` and these names can only be operators.
            let op = match self.peek() {
                Some(Token::Star) => BinOp::Mul,
                Some(Token::Name(n)) if n == "div" => BinOp::Div,
                Some(Token::Name(n)) if n == "mod" => BinOp::Mod,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.operator()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        if self.eat(&Token::Minus) {
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        let mut left = self.path_expr()?;
        while self.eat(&Token::Pipe) {
            self.operator()?;
            left = Expr::Union(Box::new(left), Box::new(self.path_expr()?));
        }
        Ok(left)
    }

    fn path_expr(&mut self) -> Result<Expr, Error> {
        let filter = match self.peek() {
            Some(Token::Literal(_) | Token::Number(_) | Token::LParen | Token::Dollar) => true,
            Some(Token::Name(n)) => {
                self.peek_at(1) == Some(&Token::LParen)
                    && !matches!(
                        n.as_str(),
                        "node" | "text" | "comment" | "processing-instruction"
                    )
            }
            _ => false,
        };
        if !filter {
            return self.location_path();
        }
        let primary = self.primary()?;
        let mut predicates = Vec::new();
        while self.peek() == Some(&Token::LBracket) {
            predicates.push(self.predicate()?);
        }
        let is_path = matches!(self.peek(), Some(Token::Slash | Token::DoubleSlash));
        if predicates.is_empty() && !is_path {
            return Ok(primary);
        }
        let mut steps = Vec::new();
        if is_path {
            self.relative_steps(&mut steps, true)?;
        }
        Ok(Expr::Path(
            Start::Filter(Box::new(primary), predicates),
            steps,
        ))
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        match self.peek().cloned() {
            Some(Token::Literal(s)) => {
                self.pos += 1;
                Ok(Expr::Literal(s))
            }
            Some(Token::Number(n)) => {
                self.pos += 1;
                Ok(Expr::Number(n))
            }
            Some(Token::LParen) => {
                self.pos += 1;
                let inner = self.or_expr()?;
                self.require(&Token::RParen)?;
                Ok(inner)
            }
            Some(Token::Dollar) => Err(err("variables are not supported")),
            Some(Token::Name(name)) => {
                self.pos += 2;
                let mut args = Vec::new();
                if !self.eat(&Token::RParen) {
                    loop {
                        args.push(self.or_expr()?);
                        if self.eat(&Token::RParen) {
                            break;
                        }
                        self.require(&Token::Comma)?;
                    }
                }
                Ok(Expr::Call(name, args))
            }
            other => Err(err(format!("unexpected {other:?}"))),
        }
    }

    fn predicate(&mut self) -> Result<Expr, Error> {
        self.require(&Token::LBracket)?;
        let expr = self.or_expr()?;
        self.require(&Token::RBracket)?;
        Ok(expr)
    }

    fn location_path(&mut self) -> Result<Expr, Error> {
        let mut steps = Vec::new();
        let start = match self.peek() {
            Some(Token::Slash) => {
                self.pos += 1;
                // A lone `/` is the document node.
                if self.starts_step() {
                    self.relative_steps(&mut steps, false)?;
                }
                Start::Root
            }
            Some(Token::DoubleSlash) => {
                steps.push(descendant_or_self());
                self.pos += 1;
                self.relative_steps(&mut steps, false)?;
                Start::Root
            }
            _ => {
                self.relative_steps(&mut steps, false)?;
                Start::Context
            }
        };
        Ok(Expr::Path(start, steps))
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(),
            Some(Token::Dot | Token::DotDot | Token::At | Token::Star | Token::Name(_))
        )
    }

    /// Steps separated by `/` or `//`; `leading` when a separator comes first.
    fn relative_steps(&mut self, steps: &mut Vec<Step>, leading: bool) -> Result<(), Error> {
        let mut need_separator = leading;
        loop {
            if need_separator {
                match self.peek() {
                    Some(Token::Slash) => self.pos += 1,
                    Some(Token::DoubleSlash) => {
                        self.pos += 1;
                        steps.push(descendant_or_self());
                    }
                    _ => return Ok(()),
                }
            }
            steps.push(self.step()?);
            need_separator = true;
        }
    }

    fn step(&mut self) -> Result<Step, Error> {
        if self.eat(&Token::Dot) {
            return Ok(simple(Axis::Itself, NodeTest::Node));
        }
        if self.eat(&Token::DotDot) {
            return Ok(simple(Axis::Parent, NodeTest::Node));
        }
        let axis = if self.eat(&Token::At) {
            Axis::Attribute
        } else if let (Some(Token::Name(n)), Some(Token::ColonColon)) =
            (self.peek(), self.peek_at(1))
        {
            let axis = axis_named(n)?;
            self.pos += 2;
            axis
        } else {
            Axis::Child
        };
        let test = self.node_test()?;
        let mut predicates = Vec::new();
        while self.peek() == Some(&Token::LBracket) {
            predicates.push(self.predicate()?);
        }
        Ok(Step {
            axis,
            test,
            predicates,
        })
    }

    fn node_test(&mut self) -> Result<NodeTest, Error> {
        match self.peek().cloned() {
            Some(Token::Star) => {
                self.pos += 1;
                Ok(NodeTest::Any(None))
            }
            Some(Token::Name(name)) => {
                self.pos += 1;
                if self.peek() == Some(&Token::LParen) {
                    self.pos += 1;
                    let test = match name.as_str() {
                        "node" => NodeTest::Node,
                        "text" => NodeTest::Text,
                        "comment" => NodeTest::Comment,
                        "processing-instruction" => match self.peek().cloned() {
                            Some(Token::Literal(target)) => {
                                self.pos += 1;
                                NodeTest::Pi(Some(target))
                            }
                            _ => NodeTest::Pi(None),
                        },
                        other => return Err(err(format!("'{other}()' is not a node test"))),
                    };
                    self.require(&Token::RParen)?;
                    return Ok(test);
                }
                Ok(match name.split_once(':') {
                    Some((prefix, "*")) => NodeTest::Any(Some(prefix.to_string())),
                    Some((prefix, local)) => {
                        NodeTest::Name(Some(prefix.to_string()), local.to_string())
                    }
                    None => NodeTest::Name(None, name),
                })
            }
            other => Err(err(format!("expected a node test, found {other:?}"))),
        }
    }
}

fn simple(axis: Axis, test: NodeTest) -> Step {
    Step {
        axis,
        test,
        predicates: Vec::new(),
    }
}

fn descendant_or_self() -> Step {
    simple(Axis::DescendantOrSelf, NodeTest::Node)
}

fn axis_named(name: &str) -> Result<Axis, Error> {
    Ok(match name {
        "child" => Axis::Child,
        "descendant" => Axis::Descendant,
        "descendant-or-self" => Axis::DescendantOrSelf,
        "parent" => Axis::Parent,
        "ancestor" => Axis::Ancestor,
        "ancestor-or-self" => Axis::AncestorOrSelf,
        "following-sibling" => Axis::FollowingSibling,
        "preceding-sibling" => Axis::PrecedingSibling,
        "following" => Axis::Following,
        "preceding" => Axis::Preceding,
        "attribute" => Axis::Attribute,
        "self" => Axis::Itself,
        other => return Err(err(format!("unknown axis '{other}'"))),
    })
}
