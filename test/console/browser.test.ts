import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CreateSecurityGroupCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemRuntime } from "../../src/cloud/runtime.js";
import {
  addresses,
  allowFromGroup,
  type Consumer,
  exchange,
  makeConsumer,
  makeProvider,
  type Provider,
} from "../dataplane/world.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runCli } from "../helpers/spawn.js";
import { shiftedRuntime } from "../metrics/world.js";
import { echo, type Listening, listen } from "../net/sockets.js";

/**
 * The console in a real Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
 * against a privlink the test populated through the AWS SDK. Screenshots of each page go to
 * test-artifacts/console/.
 */
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const CHROMIUM = process.env.PRIVLINK_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/console");

let srv: TestServer;
let browser: Browser;
let page: Page;
let target: Listening;
let provider: Provider;
let consumer: Consumer;
/** The why test's question, as a link (the audit asks it again). */
let whyLink = "#/why";
/** Real time that the test moves forward to close CloudWatch minutes. */
const rt = shiftedRuntime(systemRuntime);

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  srv = await startTestServer({ runtime: rt });
  target = await listen(echo);
  provider = await makeProvider(srv, {
    accountId: "111111111111",
    targets: [{ host: "127.0.0.1", port: target.port }],
    acceptanceRequired: true,
    allow: ["222222222222"],
  });
  consumer = await makeConsumer(srv, "222222222222", provider.serviceName);
  await allowFromGroup(consumer, provider.listenerPort);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const { path } = await srv.admin<{ path: string }>("POST", "/_privlink/console/login");
  await page.goto(`${srv.url}${path}`);
  await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await target?.close();
  await srv?.stop();
});

const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);
const edge = (id: string) => page.locator(`.react-flow__edge[data-id="${id}"]`);

/** Each page of the console, with what says it has drawn its data (the why page asks whyLink's question). */
function everyPage(): [string, string, () => Promise<void>][] {
  return [
    ["topology", "#/topology", () => node(consumer.endpointId).waitFor()],
    ["endpoint", `#/endpoint/${consumer.endpointId}`, () => page.getByTestId("history-chart").waitFor()],
    [
      "service",
      `#/service/${provider.serviceId}`,
      () => page.locator(`tr[data-endpoint="${consumer.endpointId}"]`).waitFor(),
    ],
    [
      "why",
      whyLink,
      async () => {
        await page.getByRole("button", { name: "Explain" }).click();
        await page.getByTestId("why-graph").locator(".react-flow__node").first().waitFor();
      },
    ],
    ["cost", "#/cost", () => page.getByTestId("cost-nat").waitFor()],
  ];
}

describe("the web console in Chromium", () => {
  it("draws the VPCs, the endpoint, the service and its load balancer, and finds nodes by IP", async () => {
    await page.goto(`${srv.url}/#/topology`);
    for (const id of [
      consumer.vpcId,
      provider.vpcId,
      consumer.endpointId,
      provider.serviceId,
      provider.nlbArn,
      consumer.instanceId,
    ])
      await node(id).waitFor();
    await expect(node(consumer.endpointId).textContent()).resolves.toContain("pendingAcceptance");
    await edge(`endpoint:${consumer.endpointId}->${provider.serviceId}`).waitFor();
    const ip = srv.state.get(
      "eni",
      srv.state.get("vpcEndpoint", consumer.endpointId)!.enis[0]!.eniId,
    )!.privateIp;
    await page.getByTestId("search").fill(ip);
    await page.getByTestId("search").press("Enter");
    await expect(page.getByTestId("selection").textContent()).resolves.toContain(consumer.endpointId);
    await shot("topology");
  });

  it("draws nodes and edges without waiting for React Flow to measure them (a starved renderer)", async () => {
    // A ResizeObserver that never reports: what a browser that renders no frame looks like to
    // React Flow. Nodes it would have to measure stay `visibility: hidden`, their edges undrawn.
    const starved = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await starved.addInitScript(
        "window.ResizeObserver = class { observe() {} unobserve() {} disconnect() {} };",
      );
      const { path } = await srv.admin<{ path: string }>("POST", "/_privlink/console/login");
      await starved.goto(`${srv.url}${path}`);
      await starved.goto(`${srv.url}/#/topology`);
      await starved.locator(`.react-flow__node[data-id="${consumer.endpointId}"]`).waitFor();
      // An edge is drawn only once both its nodes' handles are known.
      await starved
        .locator(`.react-flow__edge[data-id="endpoint:${consumer.endpointId}->${provider.serviceId}"]`)
        .waitFor();
    } finally {
      await starved.close();
    }
  });

  it("accepting the pending endpoint in the UI lets a waiting client connect; refusals before show on its edge", async () => {
    const a = addresses(srv, consumer);
    const to = { host: a.endpoint, port: provider.listenerPort };
    // The client tries until it gets through (bounded): refused while the endpoint waits.
    let connected = false;
    const client = (async () => {
      for (let i = 0; i < 300 && !connected; i++) {
        const out = await exchange(to, a.workload, Buffer.from("hello"));
        if (out.kind === "data" && out.data.toString() === "hello") connected = true;
        else await sleep(100);
      }
    })();
    await page.goto(`${srv.url}/#/topology`);
    const refused = page.locator(".react-flow__edge.refused").first();
    await refused.waitFor();
    // Hovering the red hop says why.
    await refused.locator("path.react-flow__edge-interaction").hover({ force: true });
    await page.getByTestId("edge-tip").filter({ hasText: "pendingAcceptance" }).waitFor();
    await expect(page.getByTestId("flows").textContent()).resolves.toContain("REJECT");
    expect(connected).toBe(false);
    await page.goto(`${srv.url}/#/service/${provider.serviceId}`);
    const row = page.locator(`tr[data-endpoint="${consumer.endpointId}"]`);
    await expect(row.textContent()).resolves.toContain("pendingAcceptance");
    await shot("service");
    await row.getByRole("button", { name: "Accept" }).click();
    await client;
    expect(connected).toBe(true);
    await row.filter({ hasText: "available" }).waitFor();
  });

  it("shows traffic through the endpoint on its edge while it flows", async () => {
    const a = addresses(srv, consumer);
    const socket = connect({ host: a.endpoint, port: provider.listenerPort, localAddress: a.workload });
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    const chunk = Buffer.alloc(16 * 1024, 7);
    const timer = setInterval(() => socket.write(chunk), 100);
    try {
      await page.goto(`${srv.url}/#/topology`);
      const label = edge(`endpoint:${consumer.endpointId}->${provider.serviceId}`).locator("text", {
        hasText: /[1-9][\d.]* (B|KiB|MiB)\/s · 1 conn/,
      });
      await label.waitFor({ timeout: 20_000 });
      await shot("traffic");
      // The workload and its endpoint share a rank: the flow edge between them goes backward and
      // is routed around the nodes, not through them.
      const flowEdge = `flow:${consumer.instanceId}->${consumer.endpointId}`;
      await edge(flowEdge).waitFor();
      expect(await nodesCrossed(flowEdge)).toEqual([]);
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
    // The minute the bytes flowed is written to CloudWatch once the clock has left it.
    await srv.cloudwatch.tick();
    rt.advance(60_000);
    await srv.cloudwatch.tick();
    // A fresh page: its chart starts from CloudWatch's hour, then goes on live.
    await page.goto(`${srv.url}/#/endpoint/${consumer.endpointId}`);
    await page.reload();
    const chart = page.getByTestId("history-chart");
    await chart.and(page.locator(":not([data-cloudwatch-minutes='0'])")).waitFor();
    await page
      .getByTestId("history-totals")
      .filter({ hasText: /in CloudWatch: [1-9][\d.]* (KiB|MiB)/ })
      .waitFor();
    await chart.and(page.locator(":not([data-live-samples='0'])")).waitFor();
    await expect(page.getByTestId("dns-names").textContent()).resolves.toContain(`${consumer.endpointId}-`);
    await expect(page.getByTestId("policy").textContent()).resolves.toContain('"Effect"');
    await shot("endpoint");
  });

  it("the why page marks the same refusing hop as `privlink why`", async () => {
    // A workload in a group the endpoint's security group does not admit.
    const sg = (
      await consumer.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: "outsider",
          Description: "outsider",
          VpcId: consumer.vpcId,
        }),
      )
    ).GroupId!;
    const run = await consumer.ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: consumer.subnetId,
        SecurityGroupIds: [sg],
      }),
    );
    const outsider = run.Instances![0]!.InstanceId!;
    const dst = `${consumer.endpointId}:${provider.listenerPort}`;
    const cli = await runCli(["why", outsider, dst, "--json"], {
      ...srv.cliEnv(consumer.creds),
      PRIVLINK_URL: srv.url,
    });
    expect(cli.code, cli.stderr).not.toBeNull();
    const answer = JSON.parse(cli.stdout) as {
      allowed: boolean;
      refusedAt: number;
      hops: { kind: string }[];
    };
    expect(answer.allowed).toBe(false);
    const hop = answer.hops[answer.refusedAt]!.kind;
    whyLink = `#/why?source=${outsider}&destination=${encodeURIComponent(dst)}`;
    await page.goto(`${srv.url}/#/why`);
    await page.getByTestId("why-source").fill(outsider);
    await page.getByTestId("why-destination").fill(dst);
    await page.getByRole("button", { name: "Explain" }).click();
    const refused = page.locator('[data-testid="why-hops"] tr[data-refused="true"]');
    await refused.waitFor();
    expect(await refused.getAttribute("data-hop")).toBe(hop);
    // The same hop drawn on the topology: the path from the outsider, the refusing hop in red.
    const mark = page.getByTestId("why-refused");
    expect(await mark.getAttribute("data-hop")).toBe(hop);
    const at = (await mark.getAttribute("data-at"))!;
    const graph = page.getByTestId("why-graph");
    await graph
      .locator(
        `.react-flow__edge.why-refused[data-id="${at}"], .react-flow__node[data-id="${at}"] .topo.why-refused`,
      )
      .waitFor();
    await graph.locator(`.react-flow__node[data-id="${outsider}"] .topo.on-path`).waitFor();
    await expect(page.getByTestId("why-verdict").textContent()).resolves.toContain("REFUSED");
    await shot("why");
    await page.goto(`${srv.url}/#/cost`);
    await page.getByTestId("cost-lines").locator("td", { hasText: consumer.endpointId }).first().waitFor();
    await page.getByTestId("cost-nat").waitFor();
    await shot("cost");
  });

  it("is keyboard navigable: Tab reaches the nodes, arrows move between them, Enter opens one", async () => {
    await page.goto(`${srv.url}/#/topology`);
    await node(consumer.endpointId).waitFor();
    await page.getByRole("button", { name: "Find" }).focus();
    const focused = () =>
      inPage<string | null>(
        page,
        `return document.activeElement?.closest(".react-flow__node")?.getAttribute("data-id") ?? null;`,
      );
    let reached: string | null | undefined;
    for (let i = 0; i < 20 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await focused();
    }
    expect(reached).toBeTruthy();
    // The node a keyboard user is on is outlined.
    const outline = await inPage<string>(
      page,
      `return getComputedStyle(document.activeElement.querySelector(".topo")).outlineStyle;`,
    );
    expect(outline).toBe("solid");
    await node(consumer.endpointId).focus();
    await page.keyboard.press("ArrowLeft");
    const left = await focused();
    expect(left).toBeTruthy();
    expect(left).not.toBe(consumer.endpointId);
    await page.keyboard.press("ArrowRight");
    expect(await focused()).toBeTruthy();
    await node(consumer.endpointId).focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("endpoint-page").waitFor();
    expect(page.url()).toContain(`#/endpoint/${consumer.endpointId}`);
  });

  it("every page passes an axe-core audit (WCAG 2 A/AA) in the light and the dark theme", async () => {
    const pages = everyPage();
    const found: string[] = [];
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [name, hash, ready] of pages) {
        await page.goto(`${srv.url}/${hash}`);
        await page.reload();
        await ready();
        found.push(...(await audit()).map((v) => `${scheme} ${name}: ${v}`));
        if (scheme === "dark") await shot(`${name}-dark`);
      }
    }
    expect(found).toEqual([]);
  }, 400_000);

  it("every page fits 1280×800 and 1920×1080: nothing scrolls sideways", async () => {
    const wide: string[] = [];
    for (const [width, height] of [
      [1280, 800],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const [name, hash, ready] of everyPage()) {
        await page.goto(`${srv.url}/${hash}`);
        await page.reload();
        await ready();
        const over = await inPage<number>(
          page,
          "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        );
        if (over > 0) wide.push(`${name} at ${width}×${height}: ${over} px too wide`);
        if (width === 1920) await shot(`${name}-1920`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(wide).toEqual([]);
  }, 300_000);

  it("follows the system's dark theme: dark backgrounds, light text, contrast kept", async () => {
    const colours = () =>
      inPage<Record<"bg" | "fg" | "card" | "node" | "canvas", string>>(
        page,
        `const css = (sel, p) => getComputedStyle(document.querySelector(sel)).getPropertyValue(p);
         return { bg: css("html", "background-color"), fg: css("html", "color"), card: css(".card", "background-color"),
                  node: css(".topo", "background-color"), canvas: css(".react-flow", "background-color") };`,
      );
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${srv.url}/#/topology`);
      await page.reload();
      await node(consumer.endpointId).waitFor();
      const c = await colours();
      const dark = scheme === "dark";
      for (const bg of [c.bg, c.card, c.node, c.canvas])
        expect(luminance(bg) < 0.1, `${scheme} ${bg}`).toBe(dark);
      expect(luminance(c.fg) > 0.5, `${scheme} text ${c.fg}`).toBe(dark);
      expect(contrast(c.fg, c.bg)).toBeGreaterThanOrEqual(7);
      // The screenshot says the same: its mean pixel is dark in the dark theme.
      const png = await page.screenshot({ path: join(ARTIFACTS, `topology-${scheme}.png`) });
      expect((await meanGrey(png)) < 0.35, `${scheme} screenshot`).toBe(dark);
    }
    await page.emulateMedia({ colorScheme: "light" });
  });
});

/** Runs `body` (a function body, may await) in the browser page; its return value. */
function inPage<T>(p: Page, body: string): Promise<T> {
  return p.evaluate(`(async () => { ${body} })()`) as Promise<T>;
}

/** The nodes whose boxes an edge's drawn path passes through (its ends' own handles aside). */
function nodesCrossed(edgeId: string): Promise<string[]> {
  return inPage<string[]>(
    page,
    `const path = document.querySelector('.react-flow__edge[data-id="${edgeId}"] path.react-flow__edge-path');
     const m = path.getScreenCTM();
     const len = path.getTotalLength();
     const hit = new Set();
     const boxes = [...document.querySelectorAll(".react-flow__node")].map((n) => [n.dataset.id, n.getBoundingClientRect()]);
     for (let d = 12; d < len - 12; d += 4) {
       const p = path.getPointAtLength(d).matrixTransform(m);
       for (const [id, r] of boxes) if (p.x > r.left + 1 && p.x < r.right - 1 && p.y > r.top + 1 && p.y < r.bottom - 1) hit.add(id);
     }
     return [...hit];`,
  );
}

/** axe-core in the page (evaluated through the DevTools protocol: the console's CSP allows no inline script). */
function audit(): Promise<string[]> {
  return inPage<string[]>(
    page,
    `if (!window.axe) { ${AXE}\n }
     const r = await window.axe.run(document, {
       runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
     });
     return r.violations.map((v) => v.id + " (" + v.impact + "): " +
       v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " " + (n.failureSummary ?? "").replace(/s+/g, " ").slice(0, 160)).join(" | "));`,
  );
}

/** WCAG relative luminance of a CSS rgb()/rgba() colour. */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((x) => {
    const c = Number(x) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** The mean brightness (0–1) of a screenshot, decoded by Chromium itself on a blank page. */
async function meanGrey(png: Buffer): Promise<number> {
  const blank = await browser.newPage();
  try {
    return await inPage<number>(
      blank,
      `const img = new Image();
       img.src = "data:image/png;base64,${png.toString("base64")}";
       await img.decode();
       const c = document.createElement("canvas");
       c.width = img.width;
       c.height = img.height;
       const ctx = c.getContext("2d");
       ctx.drawImage(img, 0, 0);
       const d = ctx.getImageData(0, 0, c.width, c.height).data;
       let sum = 0;
       for (let i = 0; i < d.length; i += 4) sum += (d[i] + d[i + 1] + d[i + 2]) / 3;
       return sum / (d.length / 4) / 255;`,
    );
  } finally {
    await blank.close();
  }
}
