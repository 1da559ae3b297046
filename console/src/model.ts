/**
 * The shapes the console reads from privlink's admin routes. They live in src/console/shapes.ts,
 * a file that imports nothing, so the server is compiled against the same declarations; these are
 * type-only imports and never bring server code into the bundle.
 */
export type * from "../../src/console/shapes.js";
