import type { HandlerTable } from "../handler.js";

export const endpointServiceHandlers: HandlerTable = {};
