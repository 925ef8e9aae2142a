import Link from "next/link";

export default function NotFound() {
  return (
    <main className="mx-auto max-w-md px-4 py-16 text-center">
      <h1 className="text-xl font-semibold">Not found</h1>
      <p className="mt-2 text-sm text-slate-600">This page does not exist, or it belongs to a team you are not in.</p>
      <Link href="/" className="mt-6 inline-block text-brand-700 underline">
        Back to mon1tor
      </Link>
    </main>
  );
}
