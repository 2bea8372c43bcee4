# A static ruleconv in an empty image.
#   docker build -t ruleconv .
#   docker run --rm -v "$PWD:/work" ruleconv convert rules/ --to sentinel -o out/
# The builder compiles for the musl target, whose binaries link statically, so the final stage
# needs no libc: it holds the binary alone. ruleconv embeds its profiles and templates
# (include_str!), so nothing else is copied. `diff --rules REV:PATH` needs git, which this
# image does not have.

FROM rust:1.95-bookworm AS builder
# musl-tools: the C compiler for mimalloc's C part on the musl target.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
# The [[bench]] targets Cargo.toml declares must exist for the manifest to load.
COPY benches benches
COPY src src
COPY targets targets
COPY templates templates
RUN cargo build --release --locked --target x86_64-unknown-linux-musl --bin ruleconv

FROM scratch
COPY --from=builder /build/target/x86_64-unknown-linux-musl/release/ruleconv /ruleconv
WORKDIR /work
ENTRYPOINT ["/ruleconv"]
