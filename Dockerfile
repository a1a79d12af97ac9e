# pink: one static binary on a minimal, non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/pink-scheduler/pink/internal/version.Override=${VERSION}" -o /out/pink ./cmd/pink

# distroless has no shell: workers that need the shell target should use an
# image with the tools their commands call.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pink /usr/local/bin/pink
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/pink"]
