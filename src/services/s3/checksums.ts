/**
 * The additional checksums S3 accepts (x-amz-checksum-<algorithm>), computed incrementally over
 * a streamed body. CRC32 uses zlib's native CRC; CRC32C is table-driven here; SHA-1/SHA-256 come
 * from node:crypto. CRC64NVME is accepted and stored but not verified (documented in docs/s3.md).
 */
import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";

export interface ChecksumHasher {
  update(data: Buffer): void;
  /** Base64, as S3 writes checksums. */
  digest(): string;
}

export const CHECKSUM_ALGORITHMS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

/** The hasher for `algorithm`, or undefined when privlink does not verify it. */
export function checksumHasher(algorithm: ChecksumAlgorithm): ChecksumHasher | undefined {
  switch (algorithm) {
    case "crc32": {
      let crc = 0;
      return {
        update: (d) => {
          crc = crc32(d, crc);
        },
        digest: () => uint32Base64(crc),
      };
    }
    case "crc32c": {
      let crc = 0;
      return {
        update: (d) => {
          crc = crc32c(d, crc);
        },
        digest: () => uint32Base64(crc),
      };
    }
    case "sha1":
    case "sha256": {
      const hash: Hash = createHash(algorithm);
      return { update: (d) => void hash.update(d), digest: () => hash.digest("base64") };
    }
    case "crc64nvme":
      return undefined;
  }
}

function uint32Base64(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString("base64");
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32c(data: Buffer, previous: number): number {
  let crc = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
