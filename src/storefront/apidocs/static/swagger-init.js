// Starts Swagger UI on /api/docs. A file of its own, not an inline script: the shop's
// Content-Security-Policy runs scripts from its own origin only.
"use strict";

(() => {
  const root = document.getElementById("swagger-ui");
  SwaggerUIBundle({ url: root.dataset.specUrl, domNode: root, deepLinking: true });
})();
