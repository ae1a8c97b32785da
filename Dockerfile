# One image for every wubloader component: `docker run IMAGE restreamer --base-dir /mnt ...`.
# Dependency layers come before the project's code, so a code change rebuilds only the last layers.

# The editor's browser code comes from the npm lock file (hls.js; axe-core is for the tests only).
FROM node:20-bookworm-slim AS editor
WORKDIR /editor
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && mkdir vendor \
    && cp node_modules/hls.js/dist/hls.min.mjs vendor/hls.min.js \
    && cp node_modules/hls.js/LICENSE vendor/hls.js.LICENSE

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Dependencies only, at the versions pinned in constraints.txt: a stub package lets pip resolve
# pyproject.toml without the real code.
COPY pyproject.toml README.md constraints.txt ./
RUN mkdir -p src/wubloader && touch src/wubloader/__init__.py \
    && pip install --no-cache-dir -c constraints.txt . \
    && pip uninstall -y wubloader
COPY src ./src
COPY --from=editor /editor/vendor ./src/wubloader/editor/static/vendor
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
