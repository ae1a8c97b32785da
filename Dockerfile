# One image for every wubloader component: `docker run IMAGE restreamer --base-dir /mnt ...`.
# Dependency layers come before the project's code, so a code change rebuilds only the last layers.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Dependencies only: a stub package lets pip resolve pyproject.toml without the real code.
COPY pyproject.toml README.md ./
RUN mkdir -p src/wubloader && touch src/wubloader/__init__.py \
    && pip install --no-cache-dir . \
    && pip uninstall -y wubloader
COPY src ./src
RUN pip install --no-cache-dir --no-deps .

FROM python:3.11-slim-bookworm
# The CI passes its own repository's URL; a local build says so instead of naming anyone else's.
ARG SOURCE_URL=local-build
ARG VERSION=0.1.0
LABEL org.opencontainers.image.source=$SOURCE_URL \
      org.opencontainers.image.title="wubloader" \
      org.opencontainers.image.description="Archive, replicate, re-serve and cut a live HLS stream" \
      org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.licenses="MIT"
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg=7:5.1.* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin wubloader \
    && mkdir /mnt/segments /srv/videos && chown wubloader /mnt/segments /srv/videos
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WUBLOADER_BASE_DIR=/mnt/segments
USER 10001
VOLUME /mnt/segments
EXPOSE 8000
ENTRYPOINT ["wubloader"]
CMD ["node", "--demo"]
