fn main() {
    std::process::exit(ruleconv::cli::run());
}
