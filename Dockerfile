# syntax=docker/dockerfile:1
# Multi-stage build: compile a static binary, ship it on a small base with CA certificates
# (for the AI providers' HTTPS) and nothing else. The web app is embedded in the binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/packshot ./cmd/packshot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/packshot /usr/local/bin/packshot
ENV PACKSHOT_ADDR=0.0.0.0:8080 \
    PACKSHOT_DATA_DIR=/data \
    PACKSHOT_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/packshot"]
CMD ["serve"]
