import type { State } from "../cloud/state.js";
import type { Eni, Route, RouteTable, Subnet, Vpc } from "../cloud/types.js";
import type { Hop } from "./types.js";

/** What the route hops know about the two ends of a flow. */
export interface Ends {
  readonly src: { readonly eni: Eni; readonly vpc: Vpc; readonly subnet?: Subnet; readonly ip: string };
  readonly dst: { readonly vpc?: Vpc; readonly eni?: Eni; readonly privateIp?: string };
  /** The destination as a number (private IP in its VPC, or the outside address). */
  readonly ip: number;
  readonly label: string;
}

/** The hops a flow crosses after leaving its VPC, and what the far side may trust of it. */
export interface Crossing {
  readonly hops: Hop[];
  /** Security-group rules in the far VPC may match the source's groups (peering, or TGW with referencing on). */
  readonly groupReferences: boolean;
}

export interface RouteContext extends Ends {
  readonly state: State;
  readonly route: Route;
  readonly table: RouteTable;
}

export function refused(kind: Hop["kind"], resource: string | undefined, detail: string): Hop {
  return { kind, allowed: false, resource, detail };
}

export function passed(kind: Hop["kind"], resource: string | undefined, detail: string): Hop {
  return { kind, allowed: true, resource, detail };
}
