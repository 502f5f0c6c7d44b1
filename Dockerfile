# sdnli: one image for every component (controller, irs, analyzer, migrate,
# user). Build: docker build -t sdnli . ; see docker-compose.yml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/sdnli ./cmd/sdnli

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/sdnli sdnli \
 && mkdir -p /var/lib/sdnli/irs /etc/sdnli && chown -R sdnli /var/lib/sdnli
COPY --from=build /out/sdnli /usr/local/bin/sdnli
COPY deploy/controller.json /etc/sdnli/controller.json
# The IRS needs CAP_NET_RAW to capture; docker-compose.yml grants it to
# that service only and runs it as root inside the container.
USER sdnli
ENTRYPOINT ["/usr/local/bin/sdnli"]
CMD ["--help"]
