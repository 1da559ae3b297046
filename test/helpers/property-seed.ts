import fc from "fast-check";

/**
 * Every property test starts from one seed, so CI gives the same answer twice; exploring is a
 * choice: `PRIVLINK_PROPERTY_SEED=random npm test` draws a fresh seed per property (fast-check
 * prints it with any counterexample), and `PRIVLINK_PROPERTY_SEED=<n>` replays one.
 */
const chosen = process.env.PRIVLINK_PROPERTY_SEED;
if (chosen !== "random") fc.configureGlobal({ seed: Number(chosen ?? 20261207) });
