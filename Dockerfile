# dmilab: build on Debian 12, run as a non-root user with Fashion-MNIST installed.
#   docker build -t dmilab . && docker run -p 8080:8080 -v dmilab-data:/var/lib/dmilab dmilab
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc pkg-config meson ninja-build git ca-certificates \
        libmicrohttpd-dev libcjson-dev libsqlite3-dev libopenblas-dev liblapacke-dev zlib1g-dev libsleef-dev \
        libcurl4-openssl-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release && ninja -C /build server/dmilab

FROM debian:12
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libmicrohttpd12 libcjson1 libsqlite3-0 libopenblas0-pthread liblapacke zlib1g libsleef3 libssl3 libcurl4 curl \
        dataset-fashion-mnist \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/dmilab --create-home dmilab
COPY --from=build /build/server/dmilab /usr/local/bin/dmilab
COPY web /usr/share/dmilab/web
USER dmilab
WORKDIR /var/lib/dmilab
VOLUME /var/lib/dmilab
ENV DMILAB_BIND=0.0.0.0 DMILAB_PORT=8080 DMILAB_DB=/var/lib/dmilab/dmilab.db DMILAB_WEB_ROOT=/usr/share/dmilab/web
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["dmilab", "serve"]
