//! KQL front end: lexer, parser, AST with byte spans, and printer.
