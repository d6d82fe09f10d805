# syntax=docker/dockerfile:1
# The operator image, for builders with a registry at hand: `docker build -t IMAGE .` (or podman,
# buildah, kaniko). Without a daemon or a registry, `cargo xtask image build` packs the same
# content (binary, glibc and libgcc, CA certificates, user 65532, no shell) reproducibly; see
# docs/install.md ("The operator image"). Pin both base images by digest in your pipeline.
ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# The `image` profile: release, stripped; local paths remapped as `cargo xtask image build` does.
RUN CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=/src=/smbp$(printf '\037')--remap-path-prefix=/usr/local/cargo=/cargo" \
    cargo build --locked --profile image -p smbp-operator \
 && install -D -m 0755 target/image/smbp-operator /out/smbp-operator

# distroless/cc: glibc, libgcc, CA certificates, /etc/passwd with nonroot (65532); no shell.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="smbp-operator" \
      org.opencontainers.image.description="The SMBP operator: runs Big Peer on Kubernetes." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/smbp-dev/smbp-operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="SMBP"
COPY --from=build /out/smbp-operator /usr/local/bin/smbp-operator
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8080 9443
# checkov:skip=CKV_DOCKER_2:Kubernetes probes /healthz and /readyz (chart); a HEALTHCHECK would need a client in an image without one
ENTRYPOINT ["/usr/local/bin/smbp-operator", "run"]
