# syntax=docker/dockerfile:1
# Production image: build with the full toolchain, run with production dependencies only.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY schemas ./schemas
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data/pglite
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schemas ./schemas
COPY --from=build /app/bin ./bin
# The embedded database (used when DATABASE_URL is not set) writes here.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 8000
# DATABASE_URL, SEED_FILE and every other setting come from the environment (see README).
# Migrations run on start unless MIGRATE_ON_START=false; then run them as a separate step:
#   docker run --rm -e DATABASE_URL=... <image> node dist/src/cli/migrate.js
CMD ["node", "dist/src/server.js"]
