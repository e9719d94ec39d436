# One image for the five Throughline apps (docker-compose.yml picks the entry point per service).
FROM node:20-bookworm-slim
WORKDIR /app
# Dependencies first, so a source edit does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
ENV NODE_ENV=production HOST=0.0.0.0
# docker-compose.yml sets the command, e.g. node -r ./scripts/register-dist.js dist/apps/health/main.js
CMD ["node", "-r", "./scripts/register-dist.js", "dist/apps/projection/main.js"]
