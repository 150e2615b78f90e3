// A test CA for the stand-in and a fetch dispatcher that reaches it under real host
// names: connections to the listed hosts go to the stand-in's loopback port, with TLS
// checked against the test CA under the real name (SNI and certificate). Everything
// else (the app on localhost, the dev provider) connects as usual. Auth.js,
// oauth4webapi and the proxy use the global fetch, so they are none the wiser.
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { Agent, buildConnector, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from "undici";

export type TestCertificate = { cert: string; key: string };

/** A self-signed certificate (its own CA) for `hosts`, made now, valid for a day. */
export async function testCertificate(hosts: readonly string[]): Promise<TestCertificate> {
  x509.cryptoProvider.set(webcrypto as Crypto);
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Date.now().toString(16),
    name: "CN=Tokenkeeper stand-in test CA",
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.SubjectAlternativeNameExtension(hosts.map((value) => ({ type: "dns" as const, value })))],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END PRIVATE KEY-----\n`;
  return { cert: certificate.toString("pem"), key };
}

/**
 * Routes the listed hosts to 127.0.0.1:`port` for every global fetch, trusting `ca`
 * for them; answers a function that puts the previous dispatcher back.
 */
export function routeHostsToLoopback(hosts: readonly string[], port: number, ca: string): () => void {
  const mapped = new Set(hosts);
  const standIn = buildConnector({ ca });
  const usual = buildConnector({});
  const previous: Dispatcher = getGlobalDispatcher();
  setGlobalDispatcher(
    new Agent({
      connect(options, callback) {
        if (!mapped.has(options.hostname)) return usual(options, callback);
        return standIn({ ...options, hostname: "127.0.0.1", port: String(port), servername: options.hostname }, callback);
      },
    }),
  );
  return () => setGlobalDispatcher(previous);
}
