//! Value modifiers (`field|contains|all`), as the Sigma v2 specification names them.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Exists,
    Cased,
    Windash,
    Re,
    /// `re` sub-modifiers: `i` (ignore case), `m` (multi-line), `s` (dot matches newline).
    ReFlag(char),
    Cidr,
    Base64,
    Base64Offset,
    /// `wide` and `utf16le`.
    Utf16Le,
    Utf16Be,
    /// UTF-16 with a byte-order mark (little-endian).
    Utf16,
    Lt,
    Lte,
    Gt,
    Gte,
    FieldRef,
    /// `%placeholder%` expansion from a pipeline: nothing in the rule says what it expands to.
    Expand,
}

impl Modifier {
    pub fn parse(name: &str) -> Option<Modifier> {
        Some(match name {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "exists" => Modifier::Exists,
            "cased" => Modifier::Cased,
            "windash" => Modifier::Windash,
            "re" => Modifier::Re,
            "i" | "ignorecase" => Modifier::ReFlag('i'),
            "m" | "multiline" => Modifier::ReFlag('m'),
            "s" | "dotall" => Modifier::ReFlag('s'),
            "cidr" => Modifier::Cidr,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "wide" | "utf16le" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "fieldref" => Modifier::FieldRef,
            "expand" => Modifier::Expand,
            _ => return None,
        })
    }

    /// Whether it re-encodes the value (so the value must be plain text, without wildcards).
    pub fn is_encoding(self) -> bool {
        matches!(self, Modifier::Base64 | Modifier::Base64Offset | Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16)
    }
}
