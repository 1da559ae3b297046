/** One refused flow, as GET /_privlink/flows shows it. */
export interface FlowEvent {
  readonly id: number;
  readonly time: string;
  /**
   * Where privlink refused it: an endpoint's listener (TCP reset), a workload's proxy (403), or
   * the router of a VPC's namespace in namespace mode (TCP reset).
   */
  readonly at: "endpoint" | "workload-proxy" | "namespace";
  readonly source: string;
  readonly sourceEniId?: string;
  readonly destination: string;
  readonly port: number;
  readonly name?: string;
  readonly vpcEndpointId?: string;
  readonly networkInterfaceId?: string;
  readonly reason: string;
}

/** The last `capacity` refusals, oldest first; bounded so a flood of refusals costs no memory. */
export class FlowEvents {
  private readonly ring: FlowEvent[] = [];
  private seq = 0;

  constructor(
    private readonly capacity = 1000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(event: Omit<FlowEvent, "id" | "time">): FlowEvent {
    const e: FlowEvent = { id: ++this.seq, time: this.now().toISOString(), ...event };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    return e;
  }

  /** Events after `since` (an id the caller saw last). */
  list(since = 0): FlowEvent[] {
    return this.ring.filter((e) => e.id > since);
  }

  clear(): void {
    this.ring.length = 0;
  }
}
