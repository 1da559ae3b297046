import { shippedScenario } from "./shipped.js";

/** Shipped scenario 3 in a file of its own, so that the shipped scenarios run in parallel workers. */
shippedScenario("saas-vendor");
