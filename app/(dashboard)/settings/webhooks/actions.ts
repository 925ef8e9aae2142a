"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { defineAction } from "@/lib/actions/define-action";
import { redeliver, sendTestEvent } from "@/lib/webhooks/deliveries";
import {
  createEndpoint,
  deleteEndpoint,
  endpointIdSchema,
  endpointSchema,
  pauseEndpoint,
  reactivateSchema,
  resumeEndpoint,
  revalidate,
  revealSecret,
  updateEndpoint,
  updateEndpointSchema,
} from "@/lib/webhooks/endpoints";

const refresh = (endpointId?: string) => {
  revalidatePath("/settings/webhooks");
  if (endpointId) revalidatePath(`/settings/webhooks/${endpointId}`);
};

export const createEndpointAction = defineAction("webhooks:manage", endpointSchema, async (input, context) => {
  const result = await createEndpoint(context, input);
  refresh(result.endpointId);
  return result;
});

export const updateEndpointAction = defineAction("webhooks:manage", updateEndpointSchema, async (input, context) => {
  const result = await updateEndpoint(context, input);
  refresh(input.endpointId);
  return result;
});

export const validateEndpointAction = defineAction("webhooks:manage", reactivateSchema, async (input, context) => {
  const result = await revalidate(context, input);
  refresh(input.endpointId);
  return result;
});

export const pauseEndpointAction = defineAction("webhooks:manage", endpointIdSchema, async ({ endpointId }, context) => {
  await pauseEndpoint(context, endpointId);
  refresh(endpointId);
  return null;
});

export const resumeEndpointAction = defineAction("webhooks:manage", reactivateSchema, async (input, context) => {
  const validation = await resumeEndpoint(context, input);
  refresh(input.endpointId);
  return { validation };
});

export const deleteEndpointAction = defineAction("webhooks:manage", endpointIdSchema, async ({ endpointId }, context) => {
  await deleteEndpoint(context, endpointId);
  refresh();
  return null;
});

export const revealSecretAction = defineAction("webhooks:reveal-secret", endpointIdSchema, async ({ endpointId }, context) => ({
  secret: await revealSecret(context, endpointId),
}));

export const sendTestAlertAction = defineAction("webhooks:manage", endpointIdSchema, async ({ endpointId }, context) => {
  const result = await sendTestEvent(context, endpointId);
  refresh(endpointId);
  return result;
});

export const redeliverAction = defineAction(
  "webhooks:manage",
  z.object({ deliveryId: z.string().min(1).max(64) }),
  async ({ deliveryId }, context) => {
    await redeliver(context, deliveryId);
    revalidatePath("/settings/webhooks", "layout");
    return null;
  },
);
