// typedoc options for gradgraph's API reference (`npm run docs` → out/docs/index.html).
// Paths are relative to this file. typedoc needs TypeScript's JS compiler API, which the native
// TypeScript 7 the repo builds with does not have: this private package pins typescript 6 for it.

/** @type {Partial<import("typedoc").TypeDocOptions>} */
const config = {
  name: "gradgraph",
  // The public surface, and nothing else: each package's src/index.ts plus @gradgraph/core/testing
  // and @gradgraph/core/kernels.
  // Each entry's file comment carries `@module <npm name>`, so the reference lists the packages
  // by the names they are imported by.
  entryPoints: [
    "../../packages/core/src/index.ts",
    "../../packages/core/src/testing/index.ts",
    "../../packages/core/src/kernels/index.ts",
    "../../packages/nodes/src/index.ts",
    "../../packages/nn/src/index.ts",
    "../../packages/viz/src/index.ts",
    "../../packages/onnx/src/index.ts",
  ],
  // Reads the sources through the `@gradgraph/source` export condition (see tsconfig.json).
  tsconfig: "./tsconfig.json",
  plugin: ["./validate-exports.mjs"],
  // Quiet: only problems are printed (`npm run docs` prints where the output went).
  logLevel: "Warn",
  out: "../../out/docs",
  readme: "../../README.md",
  // Source links from the repository field of the packages' package.json, not from a git remote
  // (a clone may have none, and typedoc then warns, which fails the check).
  disableGit: true,
  gitRevision: "main",
  sourceLinkTemplate: "https://github.com/gradgraph/gradgraph/blob/{gitRevision}/{path}#L{line}",
  excludePrivate: true,
  excludeInternal: true,
  excludeExternals: true,
  // Every problem below is an error: `npm run docs` exits non-zero, and the docs test fails.
  treatWarningsAsErrors: true,
  treatValidationWarningsAsErrors: true,
  validation: {
    // A public signature that mentions a type the entry points do not export. typedoc checks
    // this for one package only; ./validate-exports.mjs runs the check for each package of
    // `packagesRequiringDocumentation` instead, so it is off here.
    notExported: false,
    // `{@link X}` that resolves to nothing.
    invalidLink: true,
    rewrittenLink: true,
    // An exported symbol of a kind below without a doc comment.
    notDocumented: true,
  },
  // What a reader of the reference needs explained: every exported declaration, the members of
  // exported classes and interfaces (constructors, properties, methods, accessors) and the
  // properties of object types spelled out in a public signature. Not required: parameters (a
  // function's comment describes them), index and call signatures inside a documented type, and
  // references (a re-export points at the documented original).
  requiredToBeDocumented: [
    "Module",
    "Namespace",
    "Enum",
    "EnumMember",
    "Variable",
    "Function",
    "Class",
    "Interface",
    "Constructor",
    "Property",
    "Method",
    "Accessor",
    "TypeAlias",
  ],
  // TODO(kernels rewrite): remove both entries once packages/core/src/kernels/runtime/wasm-ops.ts no
  // longer types WasmUnaryKind and WasmGradKind as `keyof typeof` its private UNARY_CODE and
  // GRAD_CODE tables (spell the kinds out as unions, or export the tables). That file is being
  // rewritten, so it was left alone; the check fails on an entry that is no longer needed.
  intentionallyNotExported: [
    "@gradgraph/core/src/kernels/runtime/wasm-ops.ts:UNARY_CODE",
    "@gradgraph/core/src/kernels/runtime/wasm-ops.ts:GRAD_CODE",
  ],
  // Symbols are only checked in these packages (typedoc's default is the package that runs it).
  // @gradgraph/docs is this package: its test fixtures must fail the same check.
  packagesRequiringDocumentation: [
    "@gradgraph/core",
    "@gradgraph/nodes",
    "@gradgraph/nn",
    "@gradgraph/viz",
    "@gradgraph/onnx",
    "@gradgraph/docs",
  ],
};

export default config;
