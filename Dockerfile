# syntax=docker/dockerfile:1
# agentdrift for a ClickHouse server: docker build -t agentdrift . (docker-compose.yml builds it too).
# The image has no embedded ClickHouse (chDB): point clickhouse.target at http(s)://host:port/db.
# Node 22, an LTS line (maintained until April 2027); package.json's engines (>=20) allow it.

# ---- build: compile TypeScript ----------------------------------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No chdb (the embedded engine, ~500 MB): the image talks to a ClickHouse server. --ignore-scripts
# because `prepare` would compile before src/ is copied.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and the compiled code only -------------------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No chdb (its engine is ~500 MB) since the container talks to a server; no scripts, as above.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY rules ./rules
COPY agentdrift.example.yaml ./
# The state file lives here; a named volume mounted on it inherits this ownership.
RUN mkdir -p /var/lib/agentdrift /etc/agentdrift \
    && chown node:node /var/lib/agentdrift \
    && cp -r rules /etc/agentdrift/rules
# A default configuration for `docker run`; docker-compose.yml mounts deploy/agentdrift.compose.yaml
# over it. agentdrift itself expands the ${...} at start, from the container's environment
# (AGENTDRIFT_CLICKHOUSE_USER and AGENTDRIFT_CLICKHOUSE_PASSWORD hold the credentials).
COPY <<'EOF' /etc/agentdrift/agentdrift.yaml
clickhouse:
  target: ${AGENTDRIFT_CLICKHOUSE_TARGET}
rules:
  - rules
state_file: /var/lib/agentdrift/agentdrift-state.json
listen: 0.0.0.0:9464
EOF
USER node
EXPOSE 9464
# The slim image has neither curl nor wget; Node itself asks /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/agentdrift.js"]
CMD ["start", "--config", "/etc/agentdrift/agentdrift.yaml"]
