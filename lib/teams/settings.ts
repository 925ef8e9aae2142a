// A team's webhook settings (owners): require ownership confirmation, and a per-endpoint
// delivery cap. Changing the cap re-derives every endpoint's cap in the same transaction.
import { z } from "zod";
import type { TeamContext } from "@/lib/auth/context";
import { audit } from "@/lib/audit";
import { db } from "@/lib/db";
import { applyTeamCaps } from "@/lib/webhooks/ownership";

// Checkboxes send "on" or nothing; an empty cap means none.
export const teamSettingsSchema = z.object({
  requireOwnershipConfirmation: z.literal("on").optional().transform((value) => value === "on"),
  endpointRateLimitPerMinute: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? Number(value) : null))
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
