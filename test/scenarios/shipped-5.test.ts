import { shippedScenario } from "./shipped.js";

/** Shipped scenario 5 in a file of its own, so that the shipped scenarios run in parallel workers. */
shippedScenario("own-service");
