import { describe, expect, it } from "vitest";
import { namespaceModeRefusal } from "./ip.js";
import { homeTag, linkName, namespaceName } from "./topology.js";

describe("namespace mode's names and refusal", () => {
  it("names namespaces by the home's tag, so that two homes never share one", () => {
    const a = homeTag("/tmp/a");
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(homeTag("/tmp/b")).not.toBe(a);
    expect(namespaceName(a, "vpc-1")).toBe(`privlink-${a}-vpc-1`);
  });

  it("keeps interface names within the kernel's 15 bytes", () => {
    expect(linkName("i-0123456789abcdef0").length).toBeLessThanOrEqual(15);
    expect(linkName("i-1")).not.toBe(linkName("i-2"));
  });

  it("refuses without CAP_NET_ADMIN, naming the capability", () => {
    const none = namespaceModeRefusal("Name:\tnode\nCapEff:\t0000000000000000\n");
    expect(none).toMatch(/CAP_NET_ADMIN/);
    expect(none).toMatch(/CAP_SYS_ADMIN/);
    const netOnly = namespaceModeRefusal(`CapEff:\t${(1n << 12n).toString(16).padStart(16, "0")}\n`);
    expect(netOnly).toMatch(/missing: CAP_SYS_ADMIN\)/);
    expect(namespaceModeRefusal("CapEff:\t000001ffffffffff\n")).toBeUndefined();
  });
});
