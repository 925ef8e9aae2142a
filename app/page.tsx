import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/context";
import { db } from "@/lib/db";

// The first visit of a new install shows sign-up; later visits sign in.
export default async function Home() {
  if (await currentUser()) redirect("/settings/webhooks");
  redirect((await db.user.count({ take: 1 })) === 0 ? "/signup" : "/signin");
}
