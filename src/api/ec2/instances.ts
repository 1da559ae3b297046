import type * as ec2 from "@aws-sdk/client-ec2";
import { AwsError } from "../../cloud/errors.js";
import * as inst from "../../cloud/instance.js";
import { instancePublicName, privateDnsName } from "../../cloud/instance-address.js";
import type { FilterFields } from "../../cloud/query.js";
import type { Eni, Instance } from "../../cloud/types.js";
import { ensureRegion } from "../../cloud/vpc.js";
import { candidates, describe, type HandlerTable, need, specTags, stateRead } from "../handler.js";
import { eniShape, instanceShape, instanceStateShape } from "./shapes.js";

/** Terminated instances stay visible for an hour, as on AWS. */
const TERMINATED_VISIBLE_MS = 60 * 60 * 1000;

function roleFromProfile(
  accountId: string,
  p: ec2.IamInstanceProfileSpecification | undefined,
): string | undefined {
  if (!p) return undefined;
  // privlink has no IAM instance profiles: a profile names the role of the same name.
  const name = p.Name ?? p.Arn?.split("/").pop();
  return name ? `arn:aws:iam::${accountId}:role/${name}` : undefined;
}

function reservations(tx: Parameters<typeof instanceShape>[0], items: Instance[]): ec2.Reservation[] {
  const byRes = new Map<string, Instance[]>();
  for (const i of items) byRes.set(i.reservationId, [...(byRes.get(i.reservationId) ?? []), i]);
  return [...byRes.entries()].map(([id, list]) => ({
    ReservationId: id,
    OwnerId: list[0]!.accountId,
    Groups: [],
    Instances: list.map((i) => instanceShape(tx, i)),
  }));
}

/** The one network interface a launch may describe, checked as AWS checks the combination. */
function launchInterface(
  input: ec2.RunInstancesRequest,
): ec2.InstanceNetworkInterfaceSpecification | undefined {
  const nics = input.NetworkInterfaces ?? [];
  if (nics.length === 0) return undefined;
  if (input.SubnetId !== undefined)
    throw new AwsError(
      "InvalidParameterCombination",
      "Network interfaces and an instance-level subnet ID may not be specified on the same request",
    );
  if (input.SecurityGroupIds !== undefined)
    throw new AwsError(
      "InvalidParameterCombination",
      "Network interfaces and an instance-level security groups may not be specified on the same request",
    );
  if (nics.length > 1 && nics.some((n) => n.AssociatePublicIpAddress !== undefined))
    throw new AwsError(
      "InvalidParameterCombination",
      "The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.",
    );
  return nics[0];
}

/** The filters DescribeNetworkInterfaces knows, made once (not a closure per filter per request). */
const eniFields: FilterFields<Eni> = {
  "network-interface-id": (e) => e.id,
  "vpc-id": (e) => e.vpcId,
  "subnet-id": (e) => e.subnetId,
  "availability-zone": (e) => e.az,
  "private-ip-address": (e) => e.privateIp,
  "addresses.private-ip-address": (e) => e.privateIp,
  "interface-type": (e) => e.interfaceType,
  "requester-managed": (e) => String(e.requesterManaged),
  "requester-id": (e) => e.requesterId,
  status: (e) => e.status,
  description: (e) => e.description,
  "group-id": (e) => [...e.securityGroupIds],
  "attachment.instance-id": (e) => e.attachment?.instanceId,
  "attachment.attachment-id": (e) => e.attachment?.id,
  "owner-id": (e) => e.accountId,
  "mac-address": (e) => e.macAddress,
};

/** The filters whose one value reads an index bucket of ENIs: filter name → the field it reads. */
const ENI_INDEXED = { "subnet-id": "subnetId", "vpc-id": "vpcId" };

export const instanceHandlers: HandlerTable = {
  RunInstances: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const nic = launchInterface(input);
    const list = inst.runInstances(tx, ctx, {
      imageId: input.ImageId,
      instanceType: input.InstanceType,
      minCount: need(input.MinCount, "MinCount"),
      maxCount: need(input.MaxCount, "MaxCount"),
      subnetId: input.SubnetId ?? nic?.SubnetId,
      securityGroupIds: input.SecurityGroupIds ?? nic?.Groups,
      privateIp: input.PrivateIpAddress ?? nic?.PrivateIpAddress,
      keyName: input.KeyName,
      iamRoleArn: roleFromProfile(ctx.accountId, input.IamInstanceProfile),
      associatePublicIp: nic?.AssociatePublicIpAddress,
      tags: specTags(
        input.TagSpecifications?.filter((s: ec2.TagSpecification) => s.ResourceType === "instance"),
        "instance",
      ),
      eniTags: specTags(
        input.TagSpecifications?.filter((s: ec2.TagSpecification) => s.ResourceType === "network-interface"),
        "network-interface",
      ),
    });
    return { ...reservations(tx, list)[0] };
  },
  DescribeInstances: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const now = ctx.rt.now().getTime();
    const all = [...tx.all("instance")].filter(
      (i) =>
        i.accountId === ctx.accountId &&
        i.region === ctx.region &&
        !(i.terminatedAt && now - Date.parse(i.terminatedAt) > TERMINATED_VISIBLE_MS),
    );
    const eni = (i: Instance) => tx.get("eni", i.eniId);
    const page = describe(all, input, {
      ids: input.InstanceIds,
      notFound: (id) => new AwsError("InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`),
      fields: {
        "instance-id": (i) => i.id,
        "instance-state-name": (i) => i.state,
        "instance-state-code": (i) => String(instanceStateShape(i.state).Code),
        "instance-type": (i) => i.instanceType,
        "image-id": (i) => i.imageId,
        "vpc-id": (i) => i.vpcId,
        "subnet-id": (i) => i.subnetId,
        "private-ip-address": (i) => eni(i)?.privateIp,
        "ip-address": (i) => (i.state === "terminated" ? undefined : i.publicIp),
        "network-interface.association.public-ip": (i) => (i.state === "terminated" ? undefined : i.publicIp),
        "dns-name": (i) => instancePublicName(tx, i),
        "private-dns-name": (i) => eni(i) && privateDnsName(i.region, eni(i)!.privateIp),
        "network-interface.network-interface-id": (i) => i.eniId,
        "instance.group-id": (i) => eni(i)?.securityGroupIds ?? [],
        "reservation-id": (i) => i.reservationId,
        "owner-id": (i) => i.accountId,
        "key-name": (i) => i.keyName,
        "availability-zone": (i) => tx.get("subnet", i.subnetId)?.az,
      },
    });
    return { Reservations: reservations(tx, page.items), NextToken: page.nextToken };
  },
  TerminateInstances: ({ tx, ctx, input }) => {
    const done = inst.terminateInstances(tx, ctx, need(input.InstanceIds, "InstanceId"));
    return {
      TerminatingInstances: done.map((d) => ({
        InstanceId: d.instance.id,
        CurrentState: instanceStateShape("terminated"),
        PreviousState: instanceStateShape(d.previous),
      })),
    };
  },
  DescribeNetworkInterfaces: stateRead(({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const from = candidates(tx, "eni", input, ENI_INDEXED, input.NetworkInterfaceIds);
    const all: Eni[] = [];
    for (const e of from.items) if (e.accountId === ctx.accountId && e.region === ctx.region) all.push(e);
    const page = describe(all, input, {
      ids: input.NetworkInterfaceIds,
      notFound: (id) =>
        new AwsError("InvalidNetworkInterfaceID.NotFound", `The networkInterface ID '${id}' does not exist`),
      fields: eniFields,
      pinned: from.pinned,
    });
    return { NetworkInterfaces: page.items.map((e) => eniShape(tx, e)), NextToken: page.nextToken };
  }),
};
