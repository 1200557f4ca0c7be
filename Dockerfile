# vecgate gateway and worker image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY slack-app ./slack-app
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
# the demo OpenID provider script and its directory live beside the compiled code
COPY src/devstack ./src/devstack
USER node
ENTRYPOINT ["node", "bin/vecgate"]
CMD ["gateway", "--config", "/etc/vecgate/vecgate.yaml"]
