# The stakeflow image used by docker-compose.yml: one binary, every mode.
FROM rust:1.90-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p stakeflow

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/stakeflow /usr/local/bin/stakeflow
USER nobody
ENTRYPOINT []
CMD ["stakeflow", "--help"]
