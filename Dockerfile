# mcpgate image: a static Go binary on distroless, running as non-root.
#   docker build -t mcpgate .
#   docker run --rm -p 50051:50051 -v $PWD/examples/policy.yaml:/etc/mcpgate/policy.yaml:ro mcpgate
# make docker-check lints this file and builds the same static binary
# without Docker (cmd/mcpgate/docker_test.go).

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary, so the runtime image needs no libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/mcpgate ./cmd/mcpgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mcpgate /usr/local/bin/mcpgate
# 65532 is distroless's "nonroot"; numeric so Kubernetes runAsNonRoot can check it.
USER 65532:65532
EXPOSE 50051
ENTRYPOINT ["/usr/local/bin/mcpgate"]
CMD ["serve", "--listen", ":50051", "--config", "/etc/mcpgate/policy.yaml"]
