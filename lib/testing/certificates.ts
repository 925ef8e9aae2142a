// Locally generated certificates for https receivers on 127.0.0.1: a private CA, and server
// certificates it signs with any validity window (expiring soon, expired).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import selfsigned from "selfsigned";

export type Pem = { key: string; cert: string };

export async function createCa(): Promise<Pem & { file: string }> {
  const ca = await selfsigned.generate([{ name: "commonName", value: "mon1tor test CA" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 365 * 86400_000),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mon1tor-ca-")), "ca.pem");
  fs.writeFileSync(file, ca.cert);
  return { key: ca.private, cert: ca.cert, file };
}

/** A certificate for 127.0.0.1 and localhost, signed by `ca`, valid from `notBefore` to `notAfter`. */
export async function createServerCertificate(ca: Pem, validity: { notBefore?: Date; notAfter: Date }): Promise<Pem> {
  const server = await selfsigned.generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: validity.notBefore ?? new Date(Date.now() - 86400_000),
    notAfterDate: validity.notAfter,
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }, { type: 2, value: "localhost" }] },
    ],
  });
  return { key: server.private, cert: server.cert };
}
