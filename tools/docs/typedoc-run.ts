/**
 * Runs typedoc in-process with {@link CONFIG} (typedoc.config.mjs) and collects what it reports
 * instead of printing it, so `npm run docs` can stay quiet and the docs test can read the messages.
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Application,
  Logger,
  LogLevel,
  type MinimalNode,
  type MinimalSourceFile,
  type OptionsReader,
  PackageJsonReader,
  TSConfigReader,
  type TypeDocOptions,
  TypeDocReader,
} from "typedoc";

/** This folder (tools/docs). */
export const DOCS_DIR = dirname(fileURLToPath(import.meta.url));
/** The repository root. */
export const REPO_ROOT = join(DOCS_DIR, "..", "..");
/** The typedoc options file: entry points, validation, output folder. */
export const CONFIG = join(DOCS_DIR, "typedoc.config.mjs");

/** What one typedoc run reported. */
export interface TypedocResult {
  /** True when typedoc reported no error and no warning (validation warnings count as errors). */
  ok: boolean;
  /** Each warning and error, one string each, as `level: [file:line:col: ]message`. */
  messages: string[];
  /** The generated HTML's index.html, when the run emitted and succeeded; otherwise undefined. */
  index?: string;
}

/** Keeps warnings and errors, with a plain (uncoloured) source location when typedoc gives one. */
class CollectingLogger extends Logger {
  readonly messages: string[] = [];

  override log(message: string, level: LogLevel): void {
    super.log(message, level);
    if (level >= LogLevel.Warn) this.messages.push(message);
  }

  protected override addContext(
    message: string,
    level: Exclude<LogLevel, LogLevel.None>,
    ...args: [MinimalNode?] | [number, MinimalSourceFile]
  ): string {
    const prefix = level === LogLevel.Warn ? "warning" : LogLevel[level].toLowerCase();
    const [first, second] = args;
    let pos: number | undefined;
    let file: MinimalSourceFile | undefined;
    if (typeof first === "number") [pos, file] = [first, second];
    else if (first !== undefined) [pos, file] = [first.getStart(), first.getSourceFile()];
    if (pos === undefined || file === undefined) return `${prefix}: ${message}`;
    const { line, character } = file.getLineAndCharacterOfPosition(pos);
    return `${prefix}: ${relative(REPO_ROOT, file.fileName)}:${line + 1}:${character + 1}: ${message}`;
  }
}

/**
 * Sets option values after the config file is read and before the tsconfig is, so an overridden
 * `tsconfig` is the one typedoc reads (options passed to bootstrap are applied too late for that).
 */
function overridesReader(overrides: Partial<TypeDocOptions>): OptionsReader {
  return {
    name: "gradgraph-docs-overrides",
    order: 175,
    supportsPackages: false,
    read(container) {
      for (const [key, value] of Object.entries(overrides)) container.setValue(key as keyof TypeDocOptions, value);
    },
  };
}

/**
 * Converts and validates the entry points of typedoc.config.mjs (or `overrides.entryPoints`),
 * then writes the HTML reference to the configured `out` folder when `emit` is true and nothing
 * was reported. Option values in `overrides` replace the config file's (`tsconfig` included);
 * give paths absolute. Nothing is printed: the messages come back in the result.
 */
export async function runTypedoc({
  emit,
  overrides = {},
}: {
  emit: boolean;
  overrides?: Partial<TypeDocOptions>;
}): Promise<TypedocResult> {
  const app = await Application.bootstrapWithPlugins({ options: CONFIG }, [
    new TypeDocReader(),
    new PackageJsonReader(),
    overridesReader(overrides),
    new TSConfigReader(),
  ]);
  const logger = new CollectingLogger();
  if (app.logger.hasErrors() || app.logger.hasWarnings()) {
    logger.messages.push(`error: typedoc could not read its options (${CONFIG}); its messages are printed above`);
    return { ok: false, messages: logger.messages };
  }
  logger.level = LogLevel.Warn;
  app.logger = logger;
  const project = await app.convert();
  if (project !== undefined) app.validate(project);
  const ok = project !== undefined && !logger.hasErrors() && !logger.hasWarnings();
  if (!ok || !emit || project === undefined) return { ok, messages: logger.messages };
  const out = app.options.getValue("out");
  await app.generateDocs(project, out);
  const emitted = !logger.hasErrors() && !logger.hasWarnings();
  return emitted
    ? { ok, messages: logger.messages, index: join(out, "index.html") }
    : { ok: false, messages: logger.messages };
}
