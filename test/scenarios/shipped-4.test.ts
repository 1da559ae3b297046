import { shippedScenario } from "./shipped.js";

/** Shipped scenario 4 in a file of its own, so that the shipped scenarios run in parallel workers. */
shippedScenario("hybrid-onprem");
