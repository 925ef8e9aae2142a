import { PageHeader } from "@/components/ui";

/** The one "your role can't see this" notice, for pages behind a permission (pageContext). */
export function NotAllowed({ title, message }: { title: string; message: string }) {
  return (
    <>
      <PageHeader title={title} />
      <p role="alert" className="text-sm text-slate-700">
        {message}
      </p>
    </>
  );
}
