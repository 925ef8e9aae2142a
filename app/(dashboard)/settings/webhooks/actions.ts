"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { defineAction } from "@/lib/actions/define-action";
import { redeliver } from "@/lib/webhooks/delivery/redeliver";
import { sendTestEvent } from "@/lib/webhooks/endpoints/test-send";
import {
  createEndpoint,
  deleteEndpoint,
  endpointIdSchema,
  endpointSchema,
  pauseEndpoint,
  reactivateSchema,
  resumeEndpoint,
  validateAgain,
  updateEndpoint,
  updateEndpointSchema,
} from "@/lib/webhooks/endpoints/lifecycle";
import {
  addCustomHeader,
  addHeaderSchema,
  endSecretOverlap,
  removeCustomHeader,
  revealSecret,
  rollSecret,
  rollSecretSchema,
  updateFilter,
  updateFilterSchema,
} from "@/lib/webhooks/endpoints/settings";
import { debugSignature, debugSignatureSchema } from "@/lib/webhooks/endpoints/signature-debugger";

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
  const result = await validateAgain(context, input);
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

export const revealSecretAction = defineAction(
  "webhooks:reveal-secret",
  endpointIdSchema.extend({ which: z.enum(["current", "previous"]).default("current") }),
  async ({ endpointId, which }, context) => ({ secret: await revealSecret(context, endpointId, which) }),
);

export const rollSecretAction = defineAction("webhooks:roll-secret", rollSecretSchema, async (input, context) => {
  const result = await rollSecret(context, input);
  refresh(input.endpointId);
  return result;
});

export const endSecretOverlapAction = defineAction("webhooks:roll-secret", endpointIdSchema, async ({ endpointId }, context) => {
  await endSecretOverlap(context, endpointId);
  refresh(endpointId);
  return null;
});

export const updateFilterAction = defineAction("webhooks:manage", updateFilterSchema, async (input, context) => {
  const result = await updateFilter(context, input);
  refresh(input.endpointId);
  return result;
});

export const addHeaderAction = defineAction("webhooks:manage", addHeaderSchema, async (input, context) => {
  await addCustomHeader(context, input);
  refresh(input.endpointId);
  return null;
});

export const removeHeaderAction = defineAction(
  "webhooks:manage",
  endpointIdSchema.extend({ name: z.string().min(1).max(64) }),
  async ({ endpointId, name }, context) => {
    await removeCustomHeader(context, endpointId, name);
    refresh(endpointId);
    return null;
  },
);

// Checking runs on the server, against the secrets there; nothing pasted is stored.
export const debugSignatureAction = defineAction("webhooks:manage", debugSignatureSchema, (input, context) => debugSignature(context, input));

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
