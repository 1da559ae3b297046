import type { HandlerTable } from "./handler.js";

/** STS: the caller's identity, as the CLI's `aws sts get-caller-identity` shows it. */
export const stsHandlers: HandlerTable = {
  GetCallerIdentity: ({ ctx }) => {
    const arn = ctx.principalArn;
    const isRoot = arn.endsWith(":root");
    return {
      UserId: isRoot
        ? ctx.accountId
        : `AIDA${ctx.accountId}${arn.split("/").pop()?.toUpperCase() ?? ""}`.slice(0, 21),
      Account: ctx.accountId,
      Arn: arn,
    };
  },
};
