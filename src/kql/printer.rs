pub fn print(_s: &super::ast::Script) -> String { String::new() }
