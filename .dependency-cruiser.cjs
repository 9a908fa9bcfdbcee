// The house's floors (docs/architecture.md), checked by `npm run floors` (part of `npm test`).
// Lowest first: images/src (the app, self-contained) · model · tooling · dashboards and bench ·
// components · index.ts · policy · scripts and the rest. A file imports its own floor and the
// floors below, never a higher one; no circle; no product file imports tests/. Only imports between
// the project's own files count for the floors (npm packages and Node built-ins are not floors; npm
// packages are leaves, never followed, so one rule can say which package a floor may not use).
const fs = require("fs");

/** A rule: files under `from` may import local files only under `allowed` (regexes of repo paths). */
function floor(name, from, allowed, comment) {
  return {
    name,
    comment,
    severity: "error",
    from: { path: from },
    to: { dependencyTypes: ["local"], pathNot: `^(${allowed.join("|")})` },
  };
}

const PRODUCT = "^(bench|components|policy|scripts|images/src|model|tooling|dashboards)/|^index\\.ts$";

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "A circle means something shared lives in the wrong room: move it down.", from: {}, to: { circular: true } },
    { name: "product-never-imports-tests", severity: "error", comment: "What a command and a test both need is product code.", from: { path: PRODUCT }, to: { path: "^tests/" } },
    floor("app-is-self-contained", "^images/src/", ["images/src/"], "The web API's Docker build context is images/: it can hold nothing of the lab."),
    floor("model-imports-only-model", "^model/", ["model/", "images/src/limits\\.ts$"], "The model sits at the bottom; the app's own limits are the one thing below it."),
    floor("tooling-imports-only-model", "^tooling/", ["tooling/", "model/", "images/src/limits\\.ts$"], "Tooling (Docker CLI, commander set-up, host checks) stands on the model alone."),
    floor("dashboards-import-model-and-tooling", "^dashboards/", ["dashboards/", "model/", "tooling/"], "Dashboards and generated monitoring files are built from the model."),
    floor("bench-imports-model-and-tooling", "^bench/(?!studies/)", ["bench/(?!studies/)", "model/", "tooling/"], "The bench measures what the model names; it deploys nothing."),
    floor("studies-call-the-bench", "^bench/studies/", ["bench/", "model/", "tooling/", "components/", "images/src/"], "A study is a caller of the one bench session: it may read the program's command lines (components) and the app's own constants."),
    {
      name: "studies-load-through-the-session",
      severity: "error",
      comment: "A study loads a variant through the one bench session (runSession) and the bench's engines, not a load generator of its own.",
      from: { path: "^bench/studies/" },
      to: { path: "(^|/)node_modules/autocannon/" },
    },
    floor("components-stand-on-the-floors-below", "^components/", ["components/", "dashboards/", "model/", "tooling/"], "Components build resources from the model and the generated files."),
    floor("program-imports-components", "^index\\.ts$", ["components/", "model/"], "index.ts is the Pulumi program: config in, components out."),
    floor("policy-stands-on-the-program", "^policy/", ["policy/", "index\\.ts$", "components/", "dashboards/", "model/", "tooling/"], "The policy check runs the program under mocks; the rules read the model."),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // tests/fixtures/floors/ breaks every rule on purpose (tests/unit/floors.test.ts).
    exclude: { path: "^bin/|^tests/fixtures/" },
    // Type-only imports count: a type circle is still a circle.
    tsPreCompilationDeps: true,
    ...(fs.existsSync("tsconfig.json") ? { tsConfig: { fileName: "tsconfig.json" } } : {}),
  },
};
