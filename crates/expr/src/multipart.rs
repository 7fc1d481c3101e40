//! Reading form bodies: `application/x-www-form-urlencoded` text and `multipart/form-data`
//! bytes, for the form-data functions. Small and strict enough for what WDL needs: parts,
//! their headers and their bodies; no nested multiparts.

/// One part of a multipart body.
#[derive(Debug)]
pub(crate) struct Part {
    /// Header names as written; look them up ignoring case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `a=1&b=x+y` → `[("a", "1"), ("b", "x y")]`, percent-decoded.
pub(crate) fn parse_urlencoded(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// A parameter of a header value: `boundary` in `multipart/form-data; boundary=xyz`, `name` in
/// `form-data; name="field"`. Quotes are removed.
pub(crate) fn header_param(value: &str, param: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case(param) {
            return None;
        }
        let v = v.trim();
        Some(
            v.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(v)
                .to_string(),
        )
    })
}

/// Linear-time search (bodies can be large and boundaries chosen by the sender).
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(haystack.get(from..)?, needle).map(|i| i + from)
}

/// Splits a multipart body on its boundary. Text before the first boundary and after the
/// closing one is ignored, as RFC 2046 says.
pub(crate) fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut parts = Vec::new();
    let Some(mut at) = find(body, delimiter, 0) else {
        return parts;
    };
    loop {
        let start = at + delimiter.len();
        if body.get(start..start + 2) == Some(b"--") {
            break;
        }
        let Some(next) = find(body, delimiter, start) else {
            break;
        };
        let mut chunk = &body[start..next];
        chunk = chunk
            .strip_prefix(b"\r\n")
            .or_else(|| chunk.strip_prefix(b"\n"))
            .unwrap_or(chunk);
        chunk = chunk
            .strip_suffix(b"\r\n")
            .or_else(|| chunk.strip_suffix(b"\n"))
            .unwrap_or(chunk);
        parts.push(part(chunk));
        at = next;
    }
    parts
}

fn part(chunk: &[u8]) -> Part {
    let (head, body) = match find(chunk, b"\r\n\r\n", 0) {
        Some(i) => (&chunk[..i], &chunk[i + 4..]),
        None => match find(chunk, b"\n\n", 0) {
            Some(i) => (&chunk[..i], &chunk[i + 2..]),
            None => (&chunk[..0], chunk),
        },
    };
    let headers = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(':')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    Part {
        headers,
        body: body.to_vec(),
    }
}
