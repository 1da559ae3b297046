import type { HandlerTable } from "../handler.js";

export const endpointHandlers: HandlerTable = {};
