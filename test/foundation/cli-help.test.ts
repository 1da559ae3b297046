/**
 * `privlink --help` is drawn from a static table (src/cli/commands.ts) so that it loads no
 * command's module: each entry must say what its module really registers — the same commands,
 * in the same order, with the same help line (options, arguments) and description.
 */
import { Command, Help } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS, commandOf, type Register, registerSummaries } from "../../src/cli/commands.js";

/** The program with every command's module loaded, as the CLI was before the table. */
async function fullProgram(): Promise<Command> {
  const program = new Command().name("privlink").description("d");
  const registers = new Set<Register>();
  for (const c of COMMANDS) registers.add(await c.load());
  for (const register of registers) register(program);
  return program;
}

describe("the static command table", () => {
  it("names every command the modules register, in their order, with their help line and description", async () => {
    const real = (await fullProgram()).commands;
    const help = new Help();
    expect(COMMANDS.map((c) => c.name)).toEqual(real.map((c) => c.name()));
    for (const c of COMMANDS) {
      const cmd = real.find((r) => r.name() === c.name)!;
      expect({ name: c.name, term: c.term, summary: c.summary }).toEqual({
        name: c.name,
        term: help.subcommandTerm(cmd),
        summary: cmd.description(),
      });
    }
  });

  it("draws the same --help as the program with every module loaded", async () => {
    const summaries = new Command().name("privlink").description("d");
    registerSummaries(summaries);
    expect(summaries.helpInformation()).toBe((await fullProgram()).helpInformation());
  });

  it("finds the command to load: the first word, or the one after help", () => {
    expect(commandOf(["addr", "10.0.0.5", "--vpc", "vpc-1"])?.name).toBe("addr");
    expect(commandOf(["--help", "exec"])?.name).toBe("exec");
    expect(commandOf(["help", "why"])?.name).toBe("why");
    expect(commandOf(["help"])).toBeUndefined();
    expect(commandOf(["--help"])).toBeUndefined();
    expect(commandOf(["nosuch"])).toBeUndefined();
  });
});
