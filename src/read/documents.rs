//! A file's YAML documents, parsed at most once: format detection judges their keys, and the
//! reader of the format it finds reads the same parse rather than parsing the text again.

use crate::yaml::{self, Node, YamlError};
use std::cell::OnceCell;

/// The documents of a YAML (or JSON) stream, or its syntax error.
pub type Parse = Result<Vec<Node>, YamlError>;

pub struct Documents<'t> {
    text: &'t str,
    parse: OnceCell<Parse>,
}

impl<'t> Documents<'t> {
    pub fn new(text: &'t str) -> Self {
        Documents { text, parse: OnceCell::new() }
    }

    pub fn text(&self) -> &'t str {
        self.text
    }

    /// The text's parse, made on first use.
    pub fn get(&self) -> &Parse {
        self.parse.get_or_init(|| yaml::parse_documents(self.text))
    }

    /// The text's parse, taken for a reader (made now if nothing parsed it yet).
    pub fn into_parse(self) -> Parse {
        self.parse.into_inner().unwrap_or_else(|| yaml::parse_documents(self.text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::SourceFormat;
    use crate::read::detect::classify_documents;
    use std::path::Path;

    /// Format detection leaves its parse for the reader, which then does not parse again.
    #[test]
    fn detection_leaves_its_parse_for_the_reader() {
        let documents = Documents::new("title: T\nlogsource: {product: windows}\ndetection: {sel: {a: 1}, condition: sel}\n");
        assert_eq!(classify_documents(&documents, Path::new("rule.yml")), Ok(SourceFormat::Sigma));
        assert!(documents.parse.get().is_some_and(Result::is_ok), "detection did not parse");
        let markdown = Documents::new("# Notes\n");
        assert!(classify_documents(&markdown, Path::new("notes.md")).is_err());
        assert!(markdown.parse.get().is_none(), "a markdown file is not parsed as YAML");
    }
}
