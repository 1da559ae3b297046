import { existsSync } from "node:fs";
import type { Command } from "commander";
import { defaultHome } from "../home.js";

export function registerCaCommand(program: Command): void {
  program
    .command("ca")
    .description("print the path of privlink's CA certificate (PEM), which the service fronts' TLS chains to")
    .option("--bundle", "print the path of the system roots + privlink CA bundle instead")
    .option("--env", "print the environment that makes tools trust privlink (AWS_CA_BUNDLE, …)")
    .action(async (o: { bundle?: boolean; env?: boolean }) => {
      // trust.ts, not the fronts: they pull in the CA and TLS servers, which printing a path does not need.
      const { caBundlePath, caCertPath, workloadTlsEnv } = await import("../front/trust.js");
      const home = defaultHome();
      if (!existsSync(caCertPath(home))) {
        process.stderr.write(
          `privlink: no CA in ${home} yet: it is created when the server first starts ('privlink up')\n`,
        );
        process.exitCode = 1;
        return;
      }
      if (o.env) {
        for (const [k, v] of Object.entries(workloadTlsEnv(home))) process.stdout.write(`export ${k}=${v}\n`);
        return;
      }
      if (o.bundle) workloadTlsEnv(home);
      process.stdout.write(`${o.bundle ? caBundlePath(home) : caCertPath(home)}\n`);
    });
}
