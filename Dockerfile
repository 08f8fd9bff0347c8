# Build stage: every dependency, the compiled server (dist/server) and the console (dist/console).
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, without install scripts: the Prisma client is generated and
# compiled into dist/server by the build stage, so `prisma generate` is not needed here.
FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY prisma ./prisma
COPY policies ./policies
COPY --from=build /app/dist ./dist
# The embedded database (when DATABASE_URL is unset) lives in a volume the unprivileged user owns.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/ready').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1's only process: SIGTERM from `docker stop` reaches the server, which drains
# in-flight requests and exits (see src/server.ts). No npm, npx or tsx in between.
CMD ["node", "dist/server/server.js"]
