//! Table tests for content: binary envelopes, `xml()`, `json()` of XML, `xpath()` and the
//! form-data functions, against a [`StaticScope`] built from a JSON context (so these rows
//! also exercise the public offline scope).
//!
//! Rows come from the function reference's examples (the XPath ones on its `items` document)
//! and from behaviour observed in Logic Apps where the reference is vague.

mod common;

use common::run_table;
use hookflow_expr::StaticScope;
use serde_json::json;

/// The reference's `items` document (xpath examples 1 to 7), with the attributes of 4 and 6.
const ITEMS: &str = r#"<?xml version="1.0"?>
<produce>
  <item>
    <name expired='true' price='12'>Gala</name>
    <type>apple</type>
    <count>20</count>
  </item>
  <item>
    <name expired='false' price='40'>Honeycrisp</name>
    <type>apple</type>
    <count>10</count>
  </item>
</produce>"#;

fn scope() -> StaticScope {
    let context = json!({
        "parameters": {
            "items": ITEMS,
            "file": r#"<?xml version="1.0"?><file xmlns="https://contoso.com"><location>Paris</location></file>"#
        },
        "trigger": {
            "outputs": {
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                "body": {"$content-type": "application/x-www-form-urlencoded", "$content": "YT0xJmI9eCt5JmI9eg=="}
            }
        },
        "actions": {
            "Send_an_email": {"outputs": {"body": {
                "$content-type": "application/x-www-form-urlencoded",
                "$content": "",
                "$formdata": [{"key": "Subject", "value": "Hello world"}, {"key": "To", "value": "a"}, {"key": "To", "value": "b"}]
            }}},
            "Upload": {"outputs": {
                "headers": {"Content-Type": "multipart/form-data; boundary=XyZ"},
                "body": {
                    "$content-type": "multipart/form-data; boundary=XyZ",
                    "$content": "LS1YeVoNCkNvbnRlbnQtRGlzcG9zaXRpb246IGZvcm0tZGF0YTsgbmFtZT0idGl0bGUiDQoNCkhlbGxvDQotLVh5Wg0KQ29udGVudC1EaXNwb3NpdGlvbjogZm9ybS1kYXRhOyBuYW1lPSJmaWxlIjsgZmlsZW5hbWU9ImEuYmluIg0KQ29udGVudC1UeXBlOiBhcHBsaWNhdGlvbi9vY3RldC1zdHJlYW0NCg0KQUINCi0tWHlaLS0NCg=="
                }
            }},
            "Parts": {"outputs": {"body": {
                "$content-type": "multipart/form-data",
                "$multipart": [
                    {"headers": {"Content-Disposition": "form-data; name=\"x\""}, "body": "first"},
                    {"headers": {"Content-Disposition": "form-data; name=\"y\""}, "body": {"$content-type": "application/json", "$content": "eyJhIjoxfQ=="}}
                ]
            }}},
            "Json": {"outputs": {"body": {"a": 1}}}
        }
    });
    match StaticScope::from_context(&context) {
        Ok(scope) => scope,
        Err(e) => panic!("bad test context: {e}"),
    }
}

const XML: &[(&str, &str)] = &[
    // Reference: xml().
    (
        "@xml('<name>Sophia Owen</name>')",
        r#"{"$content-type": "application/xml;charset=utf-8", "$content": "PG5hbWU+U29waGlhIE93ZW48L25hbWU+"}"#,
    ),
    (
        "@{xml(json('{ \"name\": \"Sophia Owen\" }'))}",
        r#""<name>Sophia Owen</name>""#,
    ),
    (
        "@{xml(json('{\"person\": {\"name\": \"Sophia Owen\", \"city\": \"Seattle\"}}'))}",
        r#""<person><name>Sophia Owen</name><city>Seattle</city></person>""#,
    ),
    // Writing back as .NET does.
    ("@{xml('<root/>')}", r#""<root />""#),
    ("@{xml('<root></root>')}", r#""<root></root>""#),
    (
        "@{xml('<root> <!-- a --> b <!-- c --> </root>')}",
        r#""<root><!-- a --> b <!-- c --></root>""#,
    ),
    (
        "@{xml('<root a=\"x&quot;y\">&#65;&lt;</root>')}",
        r#""<root a=\"x&quot;y\">A&lt;</root>""#,
    ),
    (
        "@{xml('<?xml version=\"1.0\" encoding=\"utf-8\"?><root/>')}",
        r#""<?xml version=\"1.0\" encoding=\"utf-8\"?><root />""#,
    ),
    (
        "@{xml('<aaa:root xmlns:aaa=\"test\" />')}",
        r#""<aaa:root xmlns:aaa=\"test\" />""#,
    ),
    (
        "@xml(xml('<root/>'))",
        r#"{"$content-type": "application/xml;charset=utf-8", "$content": "PHJvb3QgLz4="}"#,
    ),
    ("@xml('some text')", "!InvalidArgument: not valid XML"),
    ("@xml('<one/><two/>')", "!InvalidArgument: not valid XML"),
    (
        "@xml('<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>')",
        "!InvalidArgument: not valid XML",
    ),
    ("@xml(1)", "!InvalidArgument: XML text or a JSON object"),
    // JSON → XML names and values.
    (
        "@{xml(json('{\"ro:ot\": \"text\"}'))}",
        r#""<ot>text</ot>""#,
    ),
    (
        "@{xml(json('{\"ro ot\": \"text\"}'))}",
        r#""<ro_x0020_ot>text</ro_x0020_ot>""#,
    ),
    (
        "@{xml(json('{\"root\": \"te<xt\"}'))}",
        r#""<root>te&lt;xt</root>""#,
    ),
    (
        "@{xml(json('{\"root\": {\"@attr\": \"v\", \"#text\": \"t\", \"flag\": true, \"n\": null}}'))}",
        r#""<root attr=\"v\">t<flag>true</flag><n /></root>""#,
    ),
    (
        "@{xml(json('{\"a\": {\"b\": [1, 2]}}'))}",
        r#""<a><b>1</b><b>2</b></a>""#,
    ),
    (
        "@xml(json('{\"a\": 1, \"b\": 2}'))",
        "!InvalidArgument: exactly one root property",
    ),
    (
        "@xml(json('{}'))",
        r#"{"$content-type": "application/xml;charset=utf-8", "$content": ""}"#,
    ),
    // Reference: json() of XML (examples 3 and 4).
    (
        "@json(xml('<?xml version=\"1.0\"?> <root> <person id=\"1\"> <name>Sophia Owen</name> <occupation>Engineer</occupation> </person> </root>'))",
        r#"{"?xml": {"@version": "1.0"}, "root": {"person": {"@id": "1", "name": "Sophia Owen", "occupation": "Engineer"}}}"#,
    ),
    (
        "@json(xml('<?xml version=\"1.0\"?> <root> <person id=\"1\"> <name>Sophia Owen</name> <occupation>Engineer</occupation> </person> <person id=\"2\"> <name>John Doe</name> <occupation>Engineer</occupation> </person> </root>'))",
        r#"{"?xml": {"@version": "1.0"}, "root": {"person": [{"@id": "1", "name": "Sophia Owen", "occupation": "Engineer"}, {"@id": "2", "name": "John Doe", "occupation": "Engineer"}]}}"#,
    ),
    (
        "@json(xml('<root>Testing</root>'))",
        r#"{"root": "Testing"}"#,
    ),
    (
        "@json(xml('<a><a/>t<a/></a>'))",
        r##"{"a": {"a": [null, null], "#text": "t"}}"##,
    ),
    (
        "@json(xml('<root><e></e><f/></root>'))",
        r#"{"root": {"e": "", "f": null}}"#,
    ),
    (
        "@json(xml('<mmm:r xmlns:mmm=\"zzz\"><z/><mmm:x/></mmm:r>'))",
        r#"{"mmm:r": {"@xmlns:mmm": "zzz", "z": null, "mmm:x": null}}"#,
    ),
    ("@json('<root><a>1</a></root>')", r#"{"root": {"a": "1"}}"#),
    (
        "@json(xml(json('{\"animals\":{\"cow\":\"moo\",\"birds\":[\"cheep\",\"tweet\"]}}')))",
        r#"{"animals": {"cow": "moo", "birds": ["cheep", "tweet"]}}"#,
    ),
    ("@json(xml(json('{}')))", "!InvalidArgument: not valid XML"),
    ("@json(null)", "{}"),
];

const XPATH: &[(&str, &str)] = &[
    // Reference examples 1-7 (on the `items` document above).
    (
        "@xpath(xml(parameters('items')), '/produce/item/name')",
        r#"[{"$content-type": "application/xml;charset=utf-8", "$content": "PG5hbWUgZXhwaXJlZD0idHJ1ZSIgcHJpY2U9IjEyIj5HYWxhPC9uYW1lPg=="},
            {"$content-type": "application/xml;charset=utf-8", "$content": "PG5hbWUgZXhwaXJlZD0iZmFsc2UiIHByaWNlPSI0MCI+SG9uZXljcmlzcDwvbmFtZT4="}]"#,
    ),
    (
        "@xpath(xml(parameters('items')), '/produce/item/name/text()')",
        r#"["Gala", "Honeycrisp"]"#,
    ),
    (
        "@{xpath(xml(parameters('items')), '/produce/item/name[1]')[0]}",
        r#""<name expired=\"true\" price=\"12\">Gala</name>""#,
    ),
    (
        "@xpath(xml(parameters('items')), 'string(/produce/item[last()]/name)')",
        r#""Honeycrisp""#,
    ),
    (
        "@xpath(xml(parameters('items')), '//name[@expired]/text()')",
        r#"["Gala", "Honeycrisp"]"#,
    ),
    (
        "@xpath(xml(parameters('items')), '//name[@expired = ''true'']/text()')",
        r#"["Gala"]"#,
    ),
    (
        "@xpath(xml(parameters('items')), '//name[@price > 35]/text()')",
        r#"["Honeycrisp"]"#,
    ),
    (
        "@xpath(xml(parameters('items')), 'sum(/produce/item/count)')",
        "30",
    ),
    // Reference examples 8 and 9 (a default namespace).
    (
        "@xpath(xml(parameters('file')), '/*[name()=\"file\"]/*[name()=\"location\"]')",
        r#"[{"$content-type": "application/xml;charset=utf-8", "$content": "PGxvY2F0aW9uIHhtbG5zPSJodHRwczovL2NvbnRvc28uY29tIj5QYXJpczwvbG9jYXRpb24+"}]"#,
    ),
    (
        "@xpath(xml(parameters('file')), '/*[local-name()=\"file\" and namespace-uri()=\"https://contoso.com\"]/*[local-name()=\"location\"]/text()')",
        r#"["Paris"]"#,
    ),
    (
        "@xpath(xml(parameters('file')), 'string(/*[name()=\"file\"]/*[name()=\"location\"])')",
        r#""Paris""#,
    ),
    ("@xpath(xml(parameters('file')), '/file/location')", "[]"),
    // The rest of XPath 1.0.
    ("@xpath(xml(parameters('items')), 'count(//item)')", "2"),
    (
        "@xpath(xml(parameters('items')), '//@price')",
        r#"["12", "40"]"#,
    ),
    (
        "@xpath(xml(parameters('items')), 'count(//item[count > 15] | //item[type = ''pear''])')",
        "1",
    ),
    (
        "@xpath(xml(parameters('items')), '//count[. = 10]/../name/text()')",
        r#"["Honeycrisp"]"#,
    ),
    (
        "@xpath(xml(parameters('items')), 'name(//item[2]/preceding-sibling::*[1]/*[1])')",
        r#""name""#,
    ),
    (
        "@xpath(xml(parameters('items')), '//type[1]/following::count[1]/text()')",
        r#"["20", "10"]"#,
    ),
    (
        "@xpath(xml(parameters('items')), 'concat(substring-before(''a-b'', ''-''), translate(''abc'', ''b'', ''B''))')",
        r#""aaBc""#,
    ),
    (
        "@xpath(xml(parameters('items')), '(1 + 2) * 3 div 2 - 10 mod 4')",
        "2.5",
    ),
    (
        "@xpath(xml(parameters('items')), 'not(//missing) and boolean(//item)')",
        "true",
    ),
    (
        "@xpath(xml(parameters('items')), 'normalize-space(''  a   b '')')",
        r#""a b""#,
    ),
    (
        "@xpath(xml(parameters('items')), 'round(2.5) + floor(-1.5) + ceiling(0.2)')",
        "2",
    ),
    (
        "@xpath(xml(parameters('items')), 'string-length(substring(''12345'', 2, 3))')",
        "3",
    ),
    (
        "@xpath(xml(parameters('items')), 'count(//item/ancestor-or-self::*)')",
        "3",
    ),
    ("@xpath('<a><b>1</b><b>2</b></a>', 'sum(//b) = 3')", "true"),
    (
        "@xpath(xml(parameters('items')), '//name[')",
        "!InvalidArgument: XPath",
    ),
    (
        "@xpath(xml(parameters('items')), 'nope(1)')",
        "!InvalidArgument: not supported",
    ),
    (
        "@xpath(xml(parameters('items')), '//p:x')",
        "!InvalidArgument: prefix 'p'",
    ),
    (
        "@xpath(xml(parameters('items')), '1 div 0')",
        "!InvalidArgument: finite",
    ),
    ("@xpath(1, '/')", "!InvalidArgument: XML"),
];

const BINARY: &[(&str, &str)] = &[
    (
        "@binary('hi')",
        r#"{"$content-type": "application/octet-stream", "$content": "aGk="}"#,
    ),
    ("@{binary('hi')}", r#""hi""#),
    ("@binary(null)", "!InvalidArgument: null"),
    (
        "@base64ToBinary('aGk=')",
        r#"{"$content-type": "application/octet-stream", "$content": "aGk="}"#,
    ),
    ("@base64ToBinary('aa')", "!InvalidArgument: base64"),
    ("@base64(binary('hi'))", r#""aGk=""#),
    ("@base64ToString(binary('hi'))", r#""hi""#),
    ("@string(binary('hi'))", r#""hi""#),
    ("@concat('<', binary('hi'), '>')", r#""<hi>""#),
    ("@length(string(binary('hi')))", "2"),
    ("@json(binary('[1,2,3]'))", "[1, 2, 3]"),
    // Reference: dataUriToBinary, decodeDataUri, uriComponentToBinary.
    (
        "@dataUriToBinary('data:text/plain;charset=utf-8;base64,aGVsbG8=')",
        r#"{"$content-type": "text/plain;charset=utf-8", "$content": "aGVsbG8="}"#,
    ),
    (
        "@decodeDataUri('data:text/plain;charset=utf-8;base64,aGVsbG8=')",
        r#"{"$content-type": "text/plain;charset=utf-8", "$content": "aGVsbG8="}"#,
    ),
    (
        "@dataUriToBinary('data:,a+b%21')",
        r#"{"$content-type": "text/plain", "$content": "YSBiIQ=="}"#,
    ),
    (
        "@dataUriToString('data:text/plain;charset=utf-8;base64,aGVsbG8=')",
        r#""hello""#,
    ),
    ("@dataUriToString('DATA:;BASE64,dGVzdA==')", r#""test""#),
    ("@dataUriToString('text')", "!InvalidArgument: data URI"),
    (
        "@uriComponentToBinary('https%3A%2F%2Fcontoso.com')",
        r#"{"$content-type": "application/octet-stream", "$content": "aHR0cHM6Ly9jb250b3NvLmNvbQ=="}"#,
    ),
    (
        "@{uriComponentToBinary('https%3A%2F%2Fcontoso.com')}",
        r#""https://contoso.com""#,
    ),
    // dataUri of content keeps its type; of JSON values is JSON.
    (
        "@dataUri(xml('<t/>'))",
        r#""data:application/xml;charset=utf-8;base64,PHQgLz4=""#,
    ),
    (
        "@dataUri(json('{\"a\":1}'))",
        r#""data:application/json;charset=utf-8;base64,eyJhIjoxfQ==""#,
    ),
    ("@dataUri(null)", "!InvalidArgument: null"),
];

const FORM_DATA: &[(&str, &str)] = &[
    ("@triggerFormDataValue('a')", r#""1""#),
    ("@triggerFormDataMultiValues('b')", r#"["x y", "z"]"#),
    ("@triggerFormDataValue('b')", "!InvalidArgument: 2 values"),
    ("@triggerFormDataValue('nope')", "null"),
    ("@triggerFormDataMultiValues('nope')", "[]"),
    (
        "@triggerMultipartBody(0)",
        "!InvalidArgument: not multipart",
    ),
    // Reference: formDataValue / formDataMultiValues on an email action's form output.
    (
        "@formDataValue('Send_an_email', 'Subject')",
        r#""Hello world""#,
    ),
    (
        "@formDataMultiValues('Send_an_email', 'Subject')",
        r#"["Hello world"]"#,
    ),
    (
        "@formDataMultiValues('Send_an_email', 'To')",
        r#"["a", "b"]"#,
    ),
    ("@formDataValue('Upload', 'title')", r#""Hello""#),
    ("@multipartBody('Upload', 0)", r#""Hello""#),
    (
        "@multipartBody('Upload', 1)",
        r#"{"$content-type": "application/octet-stream", "$content": "QUI="}"#,
    ),
    (
        "@multipartBody('Upload', 2)",
        "!InvalidArgument: outside the parts",
    ),
    (
        "@multipartBody('Parts', 1)",
        r#"{"$content-type": "application/json", "$content": "eyJhIjoxfQ=="}"#,
    ),
    ("@json(multipartBody('Parts', 1)).a", "1"),
    ("@formDataValue('Parts', 'x')", r#""first""#),
    (
        "@formDataValue('Json', 'x')",
        "!InvalidArgument: not form data",
    ),
    (
        "@formDataValue('Missing', 'x')",
        "!InvalidArgument: 'Missing'",
    ),
];

#[test]
fn xml_table() {
    run_table(&scope(), XML);
}

#[test]
fn xpath_table() {
    run_table(&scope(), XPATH);
}

#[test]
fn binary_table() {
    run_table(&scope(), BINARY);
}

#[test]
fn form_data_table() {
    run_table(&scope(), FORM_DATA);
}
