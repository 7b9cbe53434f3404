# syntax=docker/dockerfile:1
# Build: compile TypeScript and generate the Prisma clients with every dependency.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY ui ./ui
RUN npm run build && npm prune --omit=dev

# Runtime: production dependencies, the compiled service, migrations and templates; non-root.
# The same image runs the built-in download and upload steps (node dist/steps/step-runner.js).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/generated ./generated
COPY --from=build /app/dist ./dist
COPY prisma ./prisma
COPY workflow-templates ./workflow-templates
USER 10001:10001
EXPOSE 8080
# Node itself handles SIGTERM (the service drains and exits); --init in `docker run` is not needed.
CMD ["node", "dist/main.js"]
