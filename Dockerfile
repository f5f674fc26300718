# One image, every entrypoint: handler, reconciler, init (the Jobs' init container) and the jes CLI.
#   node /app/dist/handler.js | node /app/dist/reconciler.js | node /app/dist/init.js | node /app/dist/cli.js …
# The functions are bundled by esbuild (fast cold start, no node_modules at run time).

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: `prepare` would build before the sources are here, and the image already runs Node 24.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/
COPY lib lib
COPY functions functions
RUN node scripts/build.mjs

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="job-executor" \
      org.opencontainers.image.description="CloudEvents to Kubernetes Jobs (handler, reconciler, init, CLI)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/dist ./dist
COPY bin ./bin
# Non-root; the root filesystem can be mounted read-only (nothing is written outside /tmp and /keptn).
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node"]
CMD ["/app/dist/handler.js"]
