import { Card, CodeBlock } from "@/components/ui";
import { SIGNATURE_HEADER } from "@/lib/webhooks/delivery/sign";
import { verifySnippets } from "@/lib/webhooks/endpoints/verify-snippets";

export function VerifyPanel() {
  return (
    <Card title="How to verify our signature">
      <div className="space-y-3 text-sm text-slate-700">
        <p>
          Every POST carries <code className="font-mono">{SIGNATURE_HEADER}</code>: the lowercase hex HMAC-SHA256 of the raw
          request body, keyed with the signing secret exactly as shown (including <code>whsec_</code>). Compute it over the
          bytes you received, before parsing JSON, and compare in constant time.
        </p>
        <CodeBlock label="Node verification code" code={verifySnippets.node} />
        <p>
          To reject replays with this header alone, check the signed body&apos;s <code>createdAt</code> and remember its{" "}
          <code>id</code>:
        </p>
        <CodeBlock label="Node replay protection code" code={verifySnippets.nodeReplay} />
        <p>
          We also send the Standard Webhooks headers <code>webhook-id</code>, <code>webhook-timestamp</code> and{" "}
          <code>webhook-signature</code>, so the official <code>standardwebhooks</code> libraries verify our requests as they
          are and reject replays.
        </p>
      </div>
    </Card>
  );
}
