import type { Allowed } from "./shape-check.js";

/**
 * What the response-shape test lets be absent, by model shape, each group with its reason.
 * Everything not listed here must be present in every response that contains its shape.
 * Three reasons only: AWS itself omits the member in the fixture's situation (the member
 * belongs to another variant, or to a value that is unset); pagination (omitted on the last
 * page); privlink deliberately does not model the feature.
 */

const ABSENT: Record<string, string> = {
  // -- Pagination: AWS omits the next-page token on the last page.
  "*": "NextToken NextMarker nextToken",
  ListHostedZonesByNameResponse: "NextDNSName NextHostedZoneId HostedZoneId", // HostedZoneId echoes the request's
  ListResourceRecordSetsResponse: "NextRecordName NextRecordType NextRecordIdentifier",

  // -- AWS omits: the member belongs to another variant than the fixture's.
  Route: // a route names only its destination kind and its one target
    "DestinationCidrBlock DestinationIpv6CidrBlock DestinationPrefixListId CarrierGatewayId CoreNetworkArn " +
    "EgressOnlyInternetGatewayId InstanceId InstanceOwnerId IpAddress LocalGatewayId NatGatewayId " +
    "NetworkInterfaceId OdbNetworkArn TransitGatewayId VpcPeeringConnectionId",
  RouteTableAssociation: "SubnetId GatewayId PublicIpv4Pool", // the main association has none
  IpPermission: "FromPort ToPort", // protocol -1 (all traffic) has no ports
  SecurityGroupRule: "CidrIpv6 PrefixListId ReferencedGroupInfo Description", // one source kind per rule
  VpcEndpoint: "DnsOptions", // gateway endpoints carry no DNS options
  ConnectionNotification: "VpcEndpointId", // a service-scoped notification
  ServiceDetail: "PrivateDnsName PrivateDnsNames PrivateDnsNameVerificationState", // services without a private name
  DescribeVpcAttributeResult: "EnableDnsSupport EnableNetworkAddressUsageMetrics", // only the attribute asked for
  CreateHostedZoneResponse: "VPC", // public zones
  GetHostedZoneResponse: "DelegationSet", // private zones have no name servers
  HostedZoneOwner: "OwningAccount OwningService", // owned by an account or by a service, never both
  DelegationSet: "Id CallerReference", // only reusable delegation sets have them
  ResourceRecordSet: // simple routing: no alias, weight, failover, geo or health check
    "AliasTarget CidrRoutingConfig Failover GeoLocation GeoProximityLocation HealthCheckId MultiValueAnswer " +
    "Region SetIdentifier TrafficPolicyInstanceId Weight",
  Action:
    "AuthenticateCognitoConfig AuthenticateOidcConfig FixedResponseConfig JwtValidationConfig RedirectConfig Order",
  Listener: "AlpnPolicy Certificates MutualAuthentication SslPolicy", // TCP listeners: no TLS
  TargetGroup: "HealthCheckPath Matcher ProtocolVersion", // TCP health checks have no path or matcher
  AssociateVpcCidrBlockResult: "Ipv6CidrBlockAssociation", // an IPv4 block
  GetSecretValueResponse: "SecretBinary", // a string secret
  UpdateSecretResponse: "VersionId", // only when the value changes
  PrefixListEntry: "Description", // AWS-managed lists describe no entries

  // -- AWS omits: the value is unset (no description, no tags, no failure, no IPv6, nothing rotated).
  ChangeInfo: "Comment",
  HostedZoneConfig: "Comment",
  IpRange: "Description",
  Vpc: "Ipv6CidrBlockAssociationSet",
  VpcCidrBlockState: "StatusMessage",
  RouteTableAssociationState: "StatusMessage",
  LoadBalancerState: "Reason",
  CreateRouteTableResult: "ClientToken", // echoed only when given
  SecretListEntry:
    "Description Tags DeletedDate KmsKeyId LastAccessedDate LastRotatedDate NextRotationDate RotationEnabled " +
    "RotationLambdaARN RotationRules OwningService PrimaryRegion Type ExternalSecretRotationMetadata ExternalSecretRotationRoleArn",
  DescribeSecretResponse:
    "Tags DeletedDate KmsKeyId LastRotatedDate NextRotationDate RotationEnabled RotationLambdaARN RotationRules " +
    "OwningService PrimaryRegion ReplicationStatus Type ExternalSecretRotationMetadata ExternalSecretRotationRoleArn",
  CreateSecretResponse: "ReplicationStatus",
  PutLogEventsResponse: "rejectedLogEventsInfo rejectedEntityInfo", // nothing was rejected
  LogGroup: // no retention, no KMS key, no data protection, no account-level inheritance set
    "retentionInDays kmsKeyId dataProtectionStatus inheritedProperties deletionProtectionEnabled " +
    "bearerTokenAuthenticationEnabled",
  LogStream: "firstEventTimestamp lastEventTimestamp lastIngestionTime", // a stream with no events yet
  ResourcePolicy: "resourceArn revisionId", // account-level policies: no resource, no revision
  PutResourcePolicyResponse: "revisionId",
  Parameter: "Selector SourceResult", // no version/label selector asked; not a public parameter
  ParameterMetadata: "KeyId AllowedPattern", // String parameters without a pattern
  ParameterHistory: "KeyId AllowedPattern",
  PublishResponse: "SequenceNumber", // FIFO topics only
  Datapoint: "SampleCount Minimum Maximum ExtendedStatistics", // only the statistics asked for
  MetricDataResult: "Messages", // no partial-data messages
  ListMetricsOutput: "OwningAccounts", // cross-account listing only
  MetricAlarm: // a single-metric alarm without description, unit, percentile, M-of-N or state data
    "AlarmDescription StateReasonData ExtendedStatistic Unit DatapointsToAlarm EvaluateLowSampleCountPercentile " +
    "Metrics ThresholdMetricId EvaluationState EvaluationCriteria EvaluationInterval",

  // -- S3 (REST-XML, headers): AWS sends these only for a feature the fixture does not use.
  // Requester-pays buckets only; versioned buckets only; lifecycle rules only; SSE-C/SSE-KMS only.
  S3_: "RequestCharged VersionId DeleteMarker Expiration SSECustomerAlgorithm SSECustomerKeyMD5 SSEKMSKeyId SSEKMSEncryptionContext BucketKeyEnabled",
  // S3 answers the checksum of the algorithm the request used (CRC32 from the SDK), not every one.
  S3Checksums_:
    "ChecksumCRC32C ChecksumCRC64NVME ChecksumSHA1 ChecksumSHA256 ChecksumSHA512 ChecksumMD5 ChecksumXXHASH64 ChecksumXXHASH3 ChecksumXXHASH128",
  CreateBucketOutput: "BucketArn", // directory buckets only (botocore's documentation)
  HeadBucketOutput: "BucketArn BucketLocationName BucketLocationType", // directory buckets only
  Bucket: "BucketArn", // directory buckets only
  ListBucketsOutput: "ContinuationToken Prefix", // last page; Prefix echoes the request's
  GetBucketLocationOutput: "LocationConstraint", // us-east-1 answers an empty LocationConstraint
  GetBucketVersioningOutput: "MFADelete Status", // a bucket versioning was never enabled on
  PutObjectOutput: "Size", // appends to S3 Express One Zone objects only
  CopyObjectOutput: "CopySourceVersionId", // versioned sources only
  GetObjectOutput: // unset on upload (no Cache-Control…), no range, no lock, no tags, STANDARD class
    "CacheControl ContentDisposition ContentEncoding ContentLanguage ContentRange Expires WebsiteRedirectLocation " +
    "MissingMeta ObjectLockLegalHoldStatus ObjectLockMode ObjectLockRetainUntilDate PartsCount ReplicationStatus " +
    "Restore StorageClass TagCount",
  HeadObjectOutput:
    "CacheControl ContentDisposition ContentEncoding ContentLanguage ContentRange Expires WebsiteRedirectLocation " +
    "MissingMeta ObjectLockLegalHoldStatus ObjectLockMode ObjectLockRetainUntilDate PartsCount ReplicationStatus " +
    "Restore StorageClass TagCount ArchiveStatus ChecksumCRC32 ChecksumType", // checksums: x-amz-checksum-mode not sent
  ListObjectsOutput: "EncodingType", // echoed only when asked
  ListObjectsV2Output: "EncodingType ContinuationToken StartAfter Delimiter CommonPrefixes", // echoed only when asked; no delimiter
  Object: "Owner RestoreStatus", // fetch-owner and optional attributes not asked
  DeleteObjectsOutput: "Errors", // nothing refused
  DeletedObject: "DeleteMarkerVersionId", // versioned buckets only
  // An upload created without a checksum algorithm and no lifecycle abort rule.
  CreateMultipartUploadOutput: "AbortDate AbortRuleId ChecksumAlgorithm ChecksumType",
  CompleteMultipartUploadOutput: "ChecksumCRC32 ChecksumType",
  ListPartsOutput: "AbortDate AbortRuleId ChecksumAlgorithm ChecksumType",

  // -- privlink deliberately does not model these (no compute, no public IPs, no Outposts,
  // no IPAM, no IPv6 prefixes, no Local Zones, no rotation; see docs/api.md "Differences").
  Instance:
    "BlockDeviceMappings BootMode CapacityBlockId CapacityReservationId CapacityReservationSpecification ClientToken " +
    "CpuOptions CurrentInstanceBootMode EbsOptimized ElasticGpuAssociations ElasticInferenceAcceleratorAssociations " +
    "EnaSupport EnclaveOptions HibernationOptions IamInstanceProfile InstanceLifecycle Ipv6Address KernelId KeyName " +
    "Licenses MaintenanceOptions MetadataOptions NetworkPerformanceOptions Operator OutpostArn Platform PlatformDetails " +
    "PrivateDnsNameOptions ProductCodes PublicDnsName PublicIpAddress RamdiskId SecondaryInterfaces SourceDestCheck " +
    "SpotInstanceRequestId SriovNetSupport StateReason StateTransitionReason TpmSupport UsageOperation UsageOperationUpdateTime",
  Placement: "Affinity AvailabilityZoneId GroupId HostId HostResourceGroupArn PartitionNumber SpreadDomain",
  Reservation: "RequesterId",
  InstanceNetworkInterface:
    "Association ConnectionTrackingConfiguration Ipv4Prefixes Ipv6Addresses Ipv6Prefixes Operator",
  InstanceNetworkInterfaceAttachment: "EnaQueueCount EnaSrdSpecification",
  InstancePrivateIpAddress: "Association",
  NetworkInterface:
    "AssociatedSubnets Association ConnectionTrackingConfiguration DenyAllIgwTraffic Ipv4Prefixes Ipv6Address " +
    "Ipv6Native Ipv6Prefixes Operator OutpostArn PublicDnsName PublicIpDnsNameOptions RequesterId",
  NetworkInterfaceAttachment: "EnaQueueCount EnaSrdSpecification",
  NetworkInterfacePrivateIpAddress: "Association",
  NatGateway:
    "AttachedAppliances AutoProvisionZones AutoScalingIps AvailabilityMode DeleteTime FailureCode FailureMessage " +
    "ProvisionedBandwidth RouteTableId",
  NatGatewayAddress: "AllocationId AssociationId AvailabilityZone AvailabilityZoneId FailureMessage PublicIp", // private NAT
  Vpc_: "BlockPublicAccessStates EncryptionControl", // VPC block public access, encryption controls
  Subnet: "BlockPublicAccessStates CustomerOwnedIpv4Pool EnableLniAtDeviceIndex OutpostArn Type",
  AvailabilityZone: "Geography OutpostId ParentZoneId ParentZoneName SourceNatIpv6Prefixes SubGeography",
  Region: "Geography",
  ManagedPrefixList:
    "IpamPrefixListResolverSyncEnabled IpamPrefixListResolverTargetId MaxEntries StateMessage",
  LoadBalancer:
    "CustomerOwnedIpv4Pool EnablePrefixForIpv6SourceNat EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic IpamPools SecurityGroups",
  TargetGroupStickinessConfig: "DurationSeconds",
  TargetGroup_: "TargetControlPort",
  TargetDescription: "QuicServerId",
  TargetHealthDescription: "AdministrativeOverride AnomalyDetection",
  HostedZone: "Features LinkedService",
  VpcEndpoint_:
    "FailureReason Ipv4Prefixes Ipv6Prefixes LastError ResourceConfigurationArn ServiceNetworkArn",
  DnsOptions: "PrivateDnsOnlyForInboundResolverEndpoint PrivateDnsPreference PrivateDnsSpecifiedDomains",
  ServiceDetail_: "PayerResponsibility",
  ServiceConfiguration: "PayerResponsibility",
  // Revoke* answer Return only; the rule IDs of what was revoked are not reported.
  RevokeSecurityGroupIngressResult: "RevokedSecurityGroupRules UnknownIpPermissions",
  RevokeSecurityGroupEgressResult: "RevokedSecurityGroupRules UnknownIpPermissions",

  // -- The connectivity wave (peering, NACLs, flow logs, Network Insights, VPN, transit gateways,
  // Route 53 Resolver, Direct Connect). AWS omits: another variant, or an unset value.
  VpcPeeringConnection: "ExpirationTime", // only while pending acceptance
  ModifyVpcPeeringConnectionOptionsResult: "AccepterPeeringConnectionOptions", // only the side modified
  NetworkAclEntry: "IcmpTypeCode Ipv6CidrBlock PortRange", // one protocol and address family per entry
  CreateNetworkAclResult: "ClientToken", // echoed only when given
  CreateFlowLogsResult: "ClientToken",
  FlowLog: "DeliverCrossAccountRole DestinationOptions", // same-account CloudWatch Logs delivery
  NetworkInsightsPath: "Destination DestinationArn DestinationIp SourceIp FilterAtSource FilterAtDestination", // a path names its ends by resource or by IP; filters are optional
  NetworkInsightsAnalysis: // a running analysis has no findings yet; no filters or extra accounts given
    "AdditionalAccounts FilterInArns FilterOutArns StatusMessage WarningMessage NetworkPathFound " +
    "ForwardPathComponents ReturnPathComponents Explanations AlternatePathHints SuggestedAccounts",
  PathComponent: // each hop carries only the members of its kind (subnet, SG rule, route, ...)
    "AclRule AdditionalDetails AttachedTo DestinationVpc ElasticLoadBalancerListener Explanations " +
    "FirewallStatefulRule FirewallStatelessRule InboundHeader OutboundHeader RouteTableRoute SecurityGroupRule " +
    "ServiceName SourceVpc Subnet TransitGateway TransitGatewayRouteTableRoute Vpc",
  AnalysisComponent: "Name", // untagged resources
  AnalysisPacketHeader: "SourcePortRanges", // the path names no source port
  AnalysisRouteTableRoute: // a route names its one target
    "CarrierGatewayId CoreNetworkArn DestinationPrefixListId EgressOnlyInternetGatewayId InstanceId " +
    "LocalGatewayId NatGatewayId NetworkInterfaceId TransitGatewayId VpcPeeringConnectionId",
  AnalysisSecurityGroupRule: "PrefixListId", // a CIDR-sourced rule
  CustomerGateway: "BgpAsnExtended CertificateArn DeviceName", // 2-byte ASN, no certificate, no device name
  VpnGateway: "AvailabilityZone", // AWS leaves it unset for VGWs not pinned to a zone
  VgwTelemetry: "CertificateArn", // pre-shared-key tunnels
  VpnConnection: "TransitGatewayId CoreNetworkArn CoreNetworkAttachmentArn PreSharedKeyArn VpnConcentratorId", // a VGW connection: no transit gateway, Cloud WAN or concentrator; the key is not in Secrets Manager
  VpnConnectionOptions: // IPv4 over the internet: no IPv6 CIDRs, no private-IP transport attachment
    "LocalIpv6NetworkCidr RemoteIpv6NetworkCidr TransportTransitGatewayAttachmentId TunnelBandwidth",
  TransitGateway: "Description", // created without one
  TransitGatewayOptions: "EncryptionSupport TransitGatewayCidrBlocks", // no CIDR blocks, no encryption control
  TransitGatewayRoute: "PrefixListId TransitGatewayAttachments TransitGatewayRouteTableAnnouncementId", // a blackhole CIDR route
  TransitGatewayPropagation: "TransitGatewayRouteTableAnnouncementId", // no announcements
  TransitGatewayRouteTablePropagation: "TransitGatewayRouteTableAnnouncementId",
  ResolverEndpoint: // unnamed; IPv4 Do53 without DNS64, Outposts or metrics options
    "Name Dns64Enabled Ipv6InternetAccessEnabled OutpostArn PreferredInstanceType RniEnhancedMetricsEnabled " +
    "TargetNameServerMetricsEnabled",
  ResolverRule: "Name DelegationRecord", // unnamed; a FORWARD rule, not a delegation
  IpAddressResponse: "Ipv6",
  TargetAddress: "Ipv6 ServerNameIndication", // IPv4 Do53 targets
  Connection: // a dedicated connection: no LAG, partner, MACsec or LOA issued yet
    "awsDevice encryptionMode lagId loaIssueTime macSecKeys partnerInterconnectMacSecCapable partnerName " +
    "portEncryptionStatus providerName vlan",
  DirectConnectGateway: "stateChangeError tags", // no error, untagged
  DirectConnectGatewayAssociation: "associatedCoreNetwork stateChangeError", // a VGW association
  DirectConnectGatewayAttachment: "stateChangeError",
  // privlink gap: no BGP sessions are negotiated, so no MD5 auth key, no AWS logical device and no
  // router configuration; SiteLink and 4-byte ASNs are not modelled.
  VirtualInterface_: "asnLong authKey awsLogicalDeviceId customerRouterConfig siteLinkEnabled",
  BGPPeer: "asnLong authKey awsLogicalDeviceId",
  // privlink gap: the IKE/IPsec parameters of VPN tunnels are not modelled (privlink's VPN is a
  // site link, not IPsec); AWS reports each tunnel's negotiated parameters.
  TunnelOption:
    "DpdTimeoutAction DpdTimeoutSeconds EnableTunnelLifecycleControl IkeVersions LogOptions Phase1DHGroupNumbers " +
    "Phase1EncryptionAlgorithms Phase1IntegrityAlgorithms Phase1LifetimeSeconds Phase2DHGroupNumbers " +
    "Phase2EncryptionAlgorithms Phase2IntegrityAlgorithms Phase2LifetimeSeconds PreSharedKey RekeyFuzzPercentage " +
    "RekeyMarginTimeSeconds ReplayWindowSize StartupAction TunnelInsideCidr TunnelInsideIpv6Cidr",
};

const TABLE = new Map<string, Set<string>>();
for (const [key, members] of Object.entries(ABSENT)) {
  // `Shape_` continues `Shape` under another reason.
  const shape = key.replace(/_$/, "");
  const set = TABLE.get(shape) ?? new Set<string>();
  for (const m of members.split(/\s+/).filter(Boolean)) set.add(m);
  TABLE.set(shape, set);
}

export function allowedAbsent(service: string, _action: string): Allowed {
  const s3 = (member: string) =>
    service === "s3" && (TABLE.get("S3")!.has(member) || TABLE.get("S3Checksums")!.has(member));
  return (shape, member) =>
    TABLE.get("*")!.has(member) || TABLE.get(shape)?.has(member) === true || s3(member);
}

/**
 * Values AWS really sends outside the model's enum (observed on AWS, shown in its own CLI
 * examples): VPC endpoint states are lowercase camel case (`available`, `pendingAcceptance`)
 * while the model lists `Available`, `PendingAcceptance`; an internet gateway's attachment
 * says `available`, which the AttachmentStatus enum lacks.
 */
export const ENUM_QUIRKS: Record<string, readonly string[]> = {
  State: [
    "pendingAcceptance",
    "pending",
    "available",
    "deleting",
    "deleted",
    "rejected",
    "failed",
    "expired",
    "partial",
  ],
  AttachmentStatus: ["available"],
};

/**
 * Route 53's PageMaxItems is a string in botocore's model and an integer in the SDK v3's; S3's
 * part-number markers are integers in botocore's and strings in the SDK v3's (the wire is the same).
 */
export const TYPE_QUIRKS: Record<string, string> = {
  PageMaxItems: "number",
  PartNumberMarker: "string",
  NextPartNumberMarker: "string",
};
