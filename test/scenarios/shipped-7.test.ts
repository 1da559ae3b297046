import { shippedScenario } from "./shipped.js";

/** Shipped scenario 7 in a file of its own, so that the shipped scenarios run in parallel workers. */
shippedScenario("onprem-s3-sync");
