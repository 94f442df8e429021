// typedoc plugin, loaded by typedoc.config.mjs: the `notExported` check for every package.
//
// typedoc checks "a public signature mentions a type the docs do not include" only for the types
// of one package: the one whose package.json it finds above the entry points, here the private
// workspace root, which declares none. So this runs typedoc's own check once per package of
// `packagesRequiringDocumentation` that the documented project contains, each time with that
// package's entries of `intentionallyNotExported` (entries are "<package>/<path>:<name>"; typedoc
// reports one that is no longer needed). Its warnings are validation
// warnings like typedoc's, so `treatValidationWarningsAsErrors` makes them fail the run.
import { Application } from "typedoc";

/** The validation flags of one per-package pass: the export check alone. */
const EXPORTS_ONLY = {
  notExported: true,
  invalidLink: false,
  invalidPath: false,
  rewrittenLink: false,
  notDocumented: false,
  unusedMergeModuleWith: false,
};

/** @param {Application} app */
export function load(app) {
  let inPass = false;
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (inPass) return;
    const validation = app.options.getValue("validation");
    const intentional = app.options.getValue("intentionallyNotExported");
    const required = app.options.getValue("packagesRequiringDocumentation");
    const ownName = project.packageName;
    const stray = intentional.filter((entry) => !required.some((name) => entry.startsWith(`${name}/`)));
    if (stray.length > 0) {
      app.logger.validationWarning(
        `intentionallyNotExported entries must start with a package of packagesRequiringDocumentation: ${stray.join(", ")}`,
      );
    }
    const present = new Set();
    for (const reflection of Object.values(project.reflections)) {
      const packageName = project.getSymbolIdFromReflection(reflection)?.packageName;
      if (packageName !== undefined) present.add(packageName);
    }
    const packages = required.filter((name) => present.has(name));
    inPass = true;
    try {
      app.options.setValue("validation", EXPORTS_ONLY);
      for (const name of packages) {
        project.packageName = name;
        app.options.setValue(
          "intentionallyNotExported",
          intentional.filter((entry) => entry.startsWith(`${name}/`)),
        );
        app.validate(project);
      }
    } finally {
      project.packageName = ownName;
      app.options.setValue("validation", validation);
      app.options.setValue("intentionallyNotExported", intentional);
      inPass = false;
    }
  });
}
