"use client";

import { signOut } from "next-auth/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useTransition } from "react";
import { switchTeamAction } from "@/app/(dashboard)/actions";
import { buttonClass } from "@/components/ui";
import { Spinner } from "@/components/form";

type Team = { id: string; name: string };

export function TeamSwitcher({ teams, currentId }: { teams: Team[]; currentId: string }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  return (
    // min-w-0 down to the select: a long team name shortens the closed select, not widen the page.
    <div className="flex min-w-0 max-w-full items-center gap-2">
      <label htmlFor="team-switcher" className="text-sm text-slate-600">
        Team
      </label>
      <select
        id="team-switcher"
        value={currentId}
        disabled={pending}
        onChange={(event) => {
          const teamId = event.target.value;
          startTransition(async () => {
            const result = await switchTeamAction({ teamId });
            if (result.ok) router.refresh();
          });
        }}
        className="min-w-0 max-w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
      >
        {teams.map((team) => (
          <option key={team.id} value={team.id}>
            {team.name}
          </option>
        ))}
      </select>
      {pending ? <Spinner /> : null}
      <Link href="/teams/new" className="text-sm text-brand-600 underline">
        New team
      </Link>
    </div>
  );
}

export function SignOutButton() {
  const [pending, startTransition] = useTransition();
  return (
    <button
      type="button"
      className={buttonClass("secondary")}
      disabled={pending}
      onClick={() => startTransition(() => signOut({ callbackUrl: "/signin" }))}
    >
      {pending ? "Signing out…" : "Sign out"}
    </button>
  );
}
