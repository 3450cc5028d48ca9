# OsteoScreen container (multi-stage, non-root). NOTE: no Docker engine runs on the development machines,
# so this image has not been built here; the same commands (npm ci, npm start) are tested outside Docker.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
ENV ONNXRUNTIME_NODE_INSTALL=skip
# npm 10 in this image runs install scripts (better-sqlite3 builds from source; onnxruntime-node's GPU download is skipped by ONNXRUNTIME_NODE_INSTALL=skip; npm 10 does not know package.json allowScripts).
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    OSTEOSCREEN_STORAGE_DIR=/data \
    OSTEOSCREEN_CONFIG=/app/config/default.yaml
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY models ./models
RUN groupadd --system osteo && useradd --system --gid osteo --home /app osteo && mkdir -p /data && chown osteo:osteo /data
USER osteo
VOLUME ["/data"]
EXPOSE 11112 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.OSTEOSCREEN_HTTP_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/cli.js", "serve"]
