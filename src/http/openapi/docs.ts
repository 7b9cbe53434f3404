/** `/openapi.json`, and `/docs` (Swagger UI from node_modules: nothing fetched from a CDN). */
import { createRequire } from "node:module";
import path from "node:path";
import express from "express";

const UI_FILES = ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"];

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>argo-entrypoint API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
`;

export function docsRouter(document: object, apiVersions: string[]): express.Router {
  const uiDirectory = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const text = JSON.stringify(document);
  const router = express.Router();
  router.get("/openapi.json", (_request, response) => void response.type("application/json").send(text));
  router.get("/docs", (_request, response) => void response.type("html").send(PAGE));
  router.get("/docs/init.js", (_request, response) => void response.type("application/javascript").send(INIT));
  router.get("/docs/assets/:file", (request, response, next) => {
    const file = request.params.file;
    if (!UI_FILES.includes(file)) return next();
    response.sendFile(path.join(uiDirectory, file), { maxAge: "1d" });
  });
  router.get("/", (_request, response) => response.redirect(302, "/docs"));
  router.get(
    "/api",
    (_request, response) =>
      void response.json({
        openapi: "/openapi.json",
        docs: "/docs",
        rest: "/api/v1",
        entrypoint: `/api/${apiVersions[0]}/entrypoint`,
        ui: "/ui/",
      }),
  );
  return router;
}
