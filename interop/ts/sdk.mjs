// sdk.mjs loads the pinned TypeScript MCP SDK from where `make interop-ts`
// installs it (.cache/interop-ts), not from a node_modules next to these
// scripts, so the repository carries no npm tree. INTEROP_TS_DIR overrides.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.env.INTEROP_TS_DIR || path.join(here, "..", "..", ".cache", "interop-ts");
export const load = createRequire(path.join(dir, "package.json"));
