import { CopyButton } from "@/components/copy-button";
import { Card, CodeBlock } from "@/components/ui";
import { sendSnippets, API_KEY_PLACEHOLDER } from "@/lib/api/send-snippets";
import { publicUrl } from "@/lib/env";

function Snippet({ label, code }: { label: string; code: string }) {
  return (
    <div className="space-y-1">
      <div className="flex items-center justify-between gap-2">
        <h3 className="text-sm font-medium text-slate-800">{label}</h3>
        <CopyButton value={code} label={`Copy: ${label}`} />
      </div>
      <CodeBlock label={label} code={code} />
    </div>
  );
}

/** Ready-to-run ways to send alerts with a key of this page: the single and batch API, and Alertmanager. */
export function SendAlertsCard() {
  const snippets = sendSnippets(publicUrl());
  return (
    <Card title="Call the alert API">
      <div className="space-y-4 text-sm text-slate-700">
        <p>
          With a key that may send alerts in <code className="font-mono">MON1TOR_API_KEY</code>. Each call is answered with the
          alert&apos;s id, or item by item for a batch (up to 1,000 alerts); a <code>dedupKey</code> keeps one open alert per
          problem, and <code>&quot;status&quot;: &quot;resolved&quot;</code> closes it.
        </p>
        <Snippet label="One alert (curl)" code={snippets.one} />
        <Snippet label="A batch of alerts (curl)" code={snippets.batch} />
        <p>
          From Prometheus Alertmanager: add this receiver to <code className="font-mono">alertmanager.yml</code> (or its{" "}
          <code>webhook_configs</code> entry to a receiver you have), with your key in place of{" "}
          <code className="font-mono">{API_KEY_PLACEHOLDER}</code>. Firing alerts are triggered here, resolved ones resolved, by
          fingerprint.
        </p>
        <Snippet label="Alertmanager receiver (alertmanager.yml)" code={snippets.alertmanager} />
      </div>
    </Card>
  );
}
