import { z } from "zod";
import { deliveryFilters } from "@/lib/webhooks/endpoints/queries";
import { DeliveriesCard } from "../deliveries-card";
import { EndpointFrame, loadEndpoint } from "../endpoint-frame";

export const metadata = { title: "Deliveries" };

const filterSchema = z.object({
  status: z.enum(deliveryFilters).optional().catch(undefined),
  // A delivery id: anything else (a NUL byte failed the query) shows the newest page.
  before: z.string().max(64).regex(/^[\w-]+$/).optional().catch(undefined),
});

export default async function EndpointDeliveries({
  params,
  searchParams,
}: {
  params: Promise<{ endpointId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { context, endpoint } = await loadEndpoint(params);
  const filter = filterSchema.parse(await searchParams);
  return (
    <EndpointFrame context={context} endpoint={endpoint}>
      <DeliveriesCard teamId={context.team.id} endpointId={endpoint.id} status={filter.status} before={filter.before} />
    </EndpointFrame>
  );
}
