/**
 * A throwaway certificate authority and a server certificate it signs, for TLS tests. Keys
 * come from Node's crypto (fast); node-forge only builds and signs the X.509 structures.
 */
import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

export interface TestPki {
  /** PEM of the CA certificate: what a client passes as `ssl.ca`. */
  readonly caPem: string;
  /** PEM of the server certificate, signed by the CA. */
  readonly certPem: string;
  /** PEM of the server's private key. */
  readonly keyPem: string;
}

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey: forge.pki.privateKeyFromPem(
      privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    ),
    publicKey: forge.pki.publicKeyFromPem(
      publicKey.export({ type: "spki", format: "pem" }).toString(),
    ),
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

function validity(cert: forge.pki.Certificate, serial: string) {
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
}

/**
 * A CA and a server certificate for `names` (DNS names) and `ips` (IP addresses).
 * @example makeTestPki({ names: ["localhost"], ips: ["127.0.0.1"] })
 */
export function makeTestPki(subject: { names?: string[]; ips?: string[] }): TestPki {
  const ca = keyPair();
  const caCert = forge.pki.createCertificate();
  validity(caCert, "01");
  caCert.publicKey = ca.publicKey;
  const caName = [{ name: "commonName", value: "pulumi-postgres-rotator test CA" }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const server = keyPair();
  const cert = forge.pki.createCertificate();
  validity(cert, "02");
  cert.publicKey = server.publicKey;
  cert.setSubject([{ name: "commonName", value: subject.names?.[0] ?? subject.ips?.[0] ?? "x" }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        ...(subject.names ?? []).map((value) => ({ type: 2, value })),
        ...(subject.ips ?? []).map((ip) => ({ type: 7, ip })),
      ],
    },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());
  return {
    caPem: forge.pki.certificateToPem(caCert),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: server.privatePem,
  };
}
