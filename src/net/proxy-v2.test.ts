import fc from "fast-check";
import {
  AddressFamilyType,
  Command,
  IPv4Address,
  IPv4ProxyAddress,
  TransportProtocol,
  V2ProxyProtocol,
} from "proxy-protocol-js";
import { describe, expect, it } from "vitest";
import { decodeProxyV2, encodeProxyV2, PP2_TYPE_AWS, type ProxyV2Header } from "./proxy-v2.js";

const VPCE = "vpce-0a1b2c3d4e5f60718";

/** What an independent parser must see: family, address bytes and ports. */
const cases: {
  name: string;
  header: ProxyV2Header;
  family: AddressFamilyType;
  src: number[];
  dst: number[];
}[] = [
  {
    name: "IPv4 without TLV",
    header: {
      source: { address: "10.0.1.23", port: 40000 },
      destination: { address: "127.1.0.5", port: 443 },
    },
    family: AddressFamilyType.INET,
    src: [10, 0, 1, 23],
    dst: [127, 1, 0, 5],
  },
  {
    name: "IPv4 with the AWS TLV",
    header: {
      source: { address: "192.0.2.1", port: 65535 },
      destination: { address: "127.1.2.3", port: 0 },
      vpceId: VPCE,
    },
    family: AddressFamilyType.INET,
    src: [192, 0, 2, 1],
    dst: [127, 1, 2, 3],
  },
  {
    name: "IPv6 without TLV",
    header: { source: { address: "2001:db8::1", port: 1234 }, destination: { address: "::1", port: 8443 } },
    family: AddressFamilyType.INET6,
    src: [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1],
    dst: [...Array(15).fill(0), 1],
  },
  {
    name: "IPv6 with the AWS TLV",
    header: {
      source: { address: "fd00:1:2:3:4:5:6:7", port: 50000 },
      destination: { address: "fe80::abcd%lo", port: 80 },
      vpceId: VPCE,
    },
    family: AddressFamilyType.INET6,
    src: [0xfd, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7],
    dst: [0xfe, 0x80, ...Array(12).fill(0), 0xab, 0xcd],
  },
  {
    name: "IPv4-mapped IPv6 on both sides collapses to IPv4",
    header: {
      source: { address: "::ffff:127.0.0.1", port: 1 },
      destination: { address: "::ffff:127.9.8.7", port: 2 },
    },
    family: AddressFamilyType.INET,
    src: [127, 0, 0, 1],
    dst: [127, 9, 8, 7],
  },
  {
    name: "mixed families are sent as IPv6 with the IPv4 side mapped",
    header: { source: { address: "10.1.2.3", port: 5 }, destination: { address: "2001:db8::2", port: 6 } },
    family: AddressFamilyType.INET6,
    src: [...Array(10).fill(0), 0xff, 0xff, 10, 1, 2, 3],
    dst: [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 2],
  },
];

function awsTlv(vpceId: string): number[] {
  return [PP2_TYPE_AWS, 0, vpceId.length + 1, 0x01, ...Buffer.from(vpceId, "ascii")];
}

describe("encodeProxyV2", () => {
  for (const c of cases) {
    it(`is parsed by proxy-protocol-js: ${c.name}`, () => {
      const buf = encodeProxyV2(c.header);
      const parsed = V2ProxyProtocol.parse(new Uint8Array(buf));
      expect(parsed.command).toBe(Command.PROXY);
      expect(parsed.transportProtocol).toBe(TransportProtocol.STREAM);
      expect(parsed.addressFamilyType).toBe(c.family);
      expect(parsed.proxyAddress).toMatchObject({
        sourceAddress: { address: c.src },
        destinationAddress: { address: c.dst },
        sourcePort: c.header.source.port,
        destinationPort: c.header.destination.port,
      });
      // proxy-protocol-js leaves everything after the addresses (the TLVs) in `data`.
      const tlv = c.header.vpceId ? awsTlv(c.header.vpceId) : [];
      expect(Array.from(parsed.data ?? [])).toEqual(tlv);
      expect(buf.readUInt16BE(14)).toBe(buf.length - 16);
    });
  }

  it("matches proxy-protocol-js's own encoding byte for byte when there is no TLV", () => {
    const theirs = new V2ProxyProtocol(
      Command.PROXY,
      TransportProtocol.STREAM,
      new IPv4ProxyAddress(
        IPv4Address.createFrom([10, 0, 0, 9]),
        4321,
        IPv4Address.createFrom([127, 3, 0, 1]),
        443,
      ),
    ).build();
    const ours = encodeProxyV2({
      source: { address: "10.0.0.9", port: 4321 },
      destination: { address: "127.3.0.1", port: 443 },
    });
    expect(ours).toEqual(Buffer.from(theirs));
  });

  it.each([
    ["a host name", { address: "localhost", port: 1 }],
    ["a port out of range", { address: "127.0.0.1", port: 65536 }],
    ["a fractional port", { address: "127.0.0.1", port: 1.5 }],
  ])("rejects %s", (_name, source) => {
    expect(() => encodeProxyV2({ source, destination: { address: "127.0.0.1", port: 1 } })).toThrow();
  });

  it("rejects a non-ASCII endpoint ID", () => {
    const h = { address: "127.0.0.1", port: 1 };
    expect(() => encodeProxyV2({ source: h, destination: h, vpceId: "vpce-é" })).toThrow(TypeError);
  });
});

describe("decodeProxyV2", () => {
  const ipv4 = fc.ipV4();
  const ipv6 = fc.ipV6();
  const port = fc.integer({ min: 0, max: 65535 });
  const vpce = fc.option(fc.stringMatching(/^vpce-[0-9a-f]{17}$/), { nil: undefined });

  it("round-trips what encodeProxyV2 writes, and agrees with proxy-protocol-js on ports", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.tuple(ipv4, ipv4), fc.tuple(ipv6, ipv6)),
        port,
        port,
        vpce,
        ([s, d], sp, dp, id) => {
          const header = {
            source: { address: s, port: sp },
            destination: { address: d, port: dp },
            vpceId: id,
          };
          const buf = encodeProxyV2(header);
          const decoded = decodeProxyV2(Buffer.concat([buf, Buffer.from("payload")]))!;
          expect(decoded.length).toBe(buf.length);
          expect(decoded.vpceId).toBe(id);
          expect(decodeProxyV2(encodeProxyV2({ ...decoded, vpceId: id } as ProxyV2Header))).toEqual(decoded);
          const theirs = V2ProxyProtocol.parse(new Uint8Array(buf)).proxyAddress as IPv4ProxyAddress;
          expect([theirs.sourcePort, theirs.destinationPort]).toEqual([sp, dp]);
        },
      ),
    );
  });

  it("waits for more bytes while the header is incomplete", () => {
    const buf = encodeProxyV2({
      source: { address: "127.0.0.1", port: 1 },
      destination: { address: "127.0.0.2", port: 2 },
      vpceId: VPCE,
    });
    for (const cut of [0, 5, 12, 15, 16, buf.length - 1])
      expect(decodeProxyV2(buf.subarray(0, cut))).toBeUndefined();
    expect(decodeProxyV2(buf)?.vpceId).toBe(VPCE);
  });

  it.each([
    ["a PROXY v1 line", Buffer.from("PROXY TCP4 127.0.0.1 127.0.0.2 1 2\r\n")],
    ["plain HTTP", Buffer.from("GET / HTTP/1.1\r\n")],
  ])("throws on %s", (_name, buf) => {
    expect(() => decodeProxyV2(buf)).toThrow(TypeError);
  });

  it("reads LOCAL and PROXY, and throws on every other command (the spec, 2.2)", () => {
    const buf = encodeProxyV2({
      source: { address: "127.0.0.1", port: 1 },
      destination: { address: "127.0.0.2", port: 2 },
    });
    const withCommand = (command: number) => {
      const b = Buffer.from(buf);
      b[12] = 0x20 | command;
      return b;
    };
    expect(decodeProxyV2(withCommand(0))?.command).toBe("LOCAL");
    expect(decodeProxyV2(withCommand(1))?.command).toBe("PROXY");
    for (let command = 2; command <= 0x0f; command++)
      expect(() => decodeProxyV2(withCommand(command)), `command ${command}`).toThrow(
        /unknown PROXY command/,
      );
  });

  it("throws when a TLV overruns the header", () => {
    const buf = encodeProxyV2({
      source: { address: "127.0.0.1", port: 1 },
      destination: { address: "127.0.0.2", port: 2 },
      vpceId: VPCE,
    });
    buf.writeUInt16BE(0xff, 16 + 12 + 1);
    expect(() => decodeProxyV2(buf)).toThrow(/TLV/);
  });
});
