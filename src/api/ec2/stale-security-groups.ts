import { type StaleReference, staleSecurityGroups } from "../../cloud/stale-security-groups.js";
import type { HandlerTable } from "../handler.js";

/** AWS lists each stale reference as its own permission: protocol, ports and the one group pair. */
function permission(s: StaleReference) {
  const r = s.rule;
  const ports = r.protocol === "-1" ? {} : { FromPort: r.fromPort, ToPort: r.toPort };
  return {
    IpProtocol: r.protocol,
    ...ports,
    UserIdGroupPairs: [
      {
        GroupId: r.groupId,
        UserId: r.groupOwnerId,
        VpcId: s.vpcId,
        VpcPeeringConnectionId: s.peering?.id,
        PeeringStatus: s.peering ? s.peering.status : undefined,
        Description: r.description,
      },
    ],
    IpRanges: [],
    PrefixListIds: [],
  };
}

export const staleSecurityGroupHandlers: HandlerTable = {
  DescribeStaleSecurityGroups: ({ tx, ctx, input }) => {
    const max: number | undefined = input.MaxResults;
    const all = staleSecurityGroups(tx, ctx, { vpcId: input.VpcId, maxResults: max });
    const start = input.NextToken ? Number(input.NextToken) || 0 : 0;
    const page = all.slice(start, max ? start + max : undefined);
    const next = max && start + max < all.length ? String(start + max) : undefined;
    return {
      StaleSecurityGroupSet: page.map((s) => ({
        GroupId: s.group.id,
        GroupName: s.group.name,
        Description: s.group.description,
        VpcId: s.group.vpcId,
        StaleIpPermissions: s.ingress.map(permission),
        StaleIpPermissionsEgress: s.egress.map(permission),
      })),
      NextToken: next,
    };
  },
};
