import { redirect } from "next/navigation";

// The team's page moved under Settings; links and bookmarks to /team still arrive.
export default function TeamMoved() {
  redirect("/settings/team");
}
