// A team's webhook settings (owners): require ownership confirmation, and a per-endpoint
// delivery cap. Changing the cap re-derives every endpoint's cap in the same transaction.
import { z } from "zod";
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { db } from "@/lib/db";
import { applyTeamCaps } from "@/lib/webhooks/endpoints/ownership";

// Checkboxes send "on" or nothing; an empty cap means none. The cap is read as a plain decimal
// (a sign and a fraction get their own message below): Number() alone would also take "0x10"
// as 16, "1e3" as 1000 and "0b1" as 1.
export const teamSettingsSchema = z.object({
  requireOwnershipConfirmation: z.literal("on").optional().transform((value) => value === "on"),
  endpointRateLimitPerMinute: z
    .string()
    .trim()
    .optional()
    .transform((value) => (!value ? null : /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN))
    .pipe(
      z
        .number({ error: "Enter a whole number of deliveries per minute, or leave it empty." })
        .int("Enter a whole number.")
        .min(1, "Use at least 1.")
        .max(1_000_000, "Use at most 1,000,000.")
        .nullable(),
    ),
});

export async function updateTeamSettings(context: TeamContext, input: z.output<typeof teamSettingsSchema>) {
  await db.$transaction(async (tx) => {
    await tx.team.update({ where: { id: context.team.id }, data: input });
    await applyTeamCaps(tx, context.team.id, input.endpointRateLimitPerMinute);
    await audit(tx, context, "team.settings", { type: "team", id: context.team.id }, input);
  });
}
