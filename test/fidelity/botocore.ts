import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { apiVersionOf, isWireService } from "../../src/api/protocols/index.js";

/**
 * AWS's own service models as botocore ships them with the AWS CLI the tests already need: the
 * oracle the response-shape test checks privlink against. Unlike the SDK v3 client schemas,
 * they keep enums, member shape names and timestamp formats, and nobody here wrote them.
 */

export interface BotoShape {
  type: string;
  members?: Record<string, { shape: string; locationName?: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  required?: string[];
}

export interface BotoModel {
  metadata: { protocol: string; targetPrefix?: string; jsonVersion?: string };
  operations: Record<string, { output?: { shape: string }; errors?: { shape: string }[] }>;
  shapes: Record<string, BotoShape>;
}

/** botocore's directory name where it differs from the SigV4 signing name. */
const BOTOCORE_NAMES: Record<string, string> = {
  elasticloadbalancing: "elbv2",
  monitoring: "cloudwatch",
};

let dataDir: string | undefined;

/** Where a Python module lives, by the python3 on PATH, or undefined. */
function pythonDir(module: string): string | undefined {
  try {
    return execFileSync(
      "python3",
      ["-c", `import ${module}, os; print(os.path.dirname(${module}.__file__))`],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    ).trim();
  } catch {
    return undefined;
  }
}

function botocoreData(): string {
  if (dataDir) return dataDir;
  // AWS CLI v1 uses botocore; v2 (Debian's package, the official installer) vendors it.
  const candidates = [
    pythonDir("botocore") && join(pythonDir("botocore")!, "data"),
    pythonDir("awscli") && join(pythonDir("awscli")!, "botocore", "data"),
    "/usr/lib/python3/dist-packages/botocore/data",
    "/usr/lib/python3/dist-packages/awscli/botocore/data",
    "/usr/local/aws-cli/v2/current/dist/awscli/botocore/data",
  ].filter((d): d is string => typeof d === "string");
  const found = candidates.find((d) => existsSync(join(d, "ec2")));
  if (!found)
    throw new Error(`botocore's models were not found (the AWS CLI installs them): ${candidates.join(", ")}`);
  dataDir = found;
  return found;
}

const cache = new Map<string, BotoModel>();

/**
 * A service's model: the API version privlink's wire pins, or, for the plain-JSON services
 * (no SDK schema pinned), the one version botocore ships.
 */
export function botocoreModel(service: string): BotoModel {
  let model = cache.get(service);
  if (!model) {
    const serviceDir = join(botocoreData(), BOTOCORE_NAMES[service] ?? service);
    const version = isWireService(service) ? apiVersionOf(service) : readdirSync(serviceDir).sort().at(-1)!;
    const dir = join(serviceDir, version);
    const gz = join(dir, "service-2.json.gz");
    const text = existsSync(gz)
      ? gunzipSync(readFileSync(gz)).toString("utf8")
      : readFileSync(join(dir, "service-2.json"), "utf8");
    model = JSON.parse(text) as BotoModel;
    cache.set(service, model);
  }
  return model;
}
