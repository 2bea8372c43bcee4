// mimalloc, not the system allocator: a pack conversion makes millions of small allocations on
// every thread, and glibc's per-thread arenas spent a quarter of the run in malloc, free and
// the page faults of heaps it kept shrinking and regrowing (`cargo bench --bench pack`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(ruleconv::cli::run());
}
