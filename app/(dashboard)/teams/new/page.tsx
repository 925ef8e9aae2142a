import { PageHeader } from "@/components/ui";
import { requireUser } from "@/lib/auth/context";
import { CreateTeamForm } from "./create-team-form";

export const metadata = { title: "New team" };

export default async function NewTeamPage() {
  await requireUser();
  return (
    <div className="max-w-md">
      <PageHeader title="Create a team" description="You will be its owner. Webhooks, API keys and alerts belong to a team." />
      <CreateTeamForm />
    </div>
  );
}
