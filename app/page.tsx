import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/context";
import { isFirstRun } from "@/lib/teams/accounts";

// The first visit of a new install shows sign-up; later visits sign in.
export default async function Home() {
  if (await currentUser()) redirect("/settings/webhooks");
  redirect((await isFirstRun()) ? "/signup" : "/signin");
}
