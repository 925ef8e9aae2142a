"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { defineAction } from "@/lib/actions/define-action";
import { apiKeySchema, createApiKey, revokeApiKey } from "@/lib/api-keys/keys";

export const createApiKeyAction = defineAction("api-keys:manage", apiKeySchema, async (input, context) => {
  const created = await createApiKey(context, input);
  revalidatePath("/settings/api-keys");
  return created;
});

export const revokeApiKeyAction = defineAction("api-keys:manage", z.object({ apiKeyId: z.string().min(1).max(64) }), async ({ apiKeyId }, context) => {
  await revokeApiKey(context, apiKeyId);
  revalidatePath("/settings/api-keys");
  return null;
});
